/* The node lifecycle controller against a real store and registry, with short periods: a
 * silent node goes Ready Unknown, is tainted, its pods stop being ready and are evicted; an
 * agent's Ready=False taints not-ready; most nodes dead at once stops evictions. */
#include "test_ctrl_harness.h"

/* Node lifecycle with short periods: grace 1 s, eviction after 1 s. */
static volatile bool beating;

static int renew_lease(const char *node)
{
	char key[128], ts[64], value[512];
	struct timespec now;
	int rc;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(ts, sizeof(ts), "%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
	snprintf(key, sizeof(key), LEASE_PREFIX "%s", node);
	snprintf(value, sizeof(value),
		 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"%s\","
		 "\"namespace\":\"kube-node-lease\"},\"spec\":{\"holderIdentity\":\"%s\",\"renewTime\":\"%s\"}}",
		 node, node, ts);
	rc = store_update(db, key, value, 0, NULL);
	return rc == -ENOENT ? store_create(db, key, value, NULL) : rc;
}

/* The live node's agent: a Lease renewal every 200 ms. */
static void *heartbeat(void *arg)
{
	const struct timespec period = { .tv_nsec = 200 * 1000 * 1000 };

	while (beating) {
		renew_lease(arg);
		nanosleep(&period, NULL);
	}
	return NULL;
}

static int set_ready(json_object *obj, void *arg)
{
	char ts[META_TIMESTAMP_LEN], cond[256];

	meta_timestamp(time(NULL), ts);
	snprintf(cond, sizeof(cond),
		 "[{\"type\":\"Ready\",\"status\":\"%s\",\"reason\":\"KubeletReady\",\"lastHeartbeatTime\":\"%s\","
		 "\"lastTransitionTime\":\"%s\"}]",
		 (const char *)arg, ts, ts);
	json_object_object_add(json_ensure_object(obj, "status"), "conditions", J(cond));
	return 0;
}

static const char *ready_of(json_object *node)
{
	json_object *conds = json_get_path(node, "status.conditions");

	for (size_t i = 0; conds && i < json_object_array_length(conds); i++)
		if (strcmp(json_get_string(json_object_array_get_idx(conds, i), "type") ?: "", "Ready") == 0)
			return json_get_string(json_object_array_get_idx(conds, i), "status") ?: "";
	return "";
}

static bool has_taint(json_object *node, const char *key)
{
	json_object *taints = json_get_path(node, "spec.taints");

	for (size_t i = 0; taints && i < json_object_array_length(taints); i++) {
		json_object *t = json_object_array_get_idx(taints, i);

		if (strcmp(json_get_string(t, "key") ?: "", key) == 0 &&
		    strcmp(json_get_string(t, "effect") ?: "", "NoExecute") == 0)
			return true;
	}
	return false;
}

/* Ready Unknown with Kubernetes' reason and message, and the unreachable taint. */
static bool node_unreachable(void *arg)
{
	json_object *n = get("nodes", NULL, arg), *conds = json_get_path(n, "status.conditions");
	json_object *c = conds ? json_object_array_get_idx(conds, 0) : NULL;
	bool ok = n && strcmp(ready_of(n), "Unknown") == 0 && has_taint(n, TAINT_UNREACHABLE) &&
		  strcmp(json_get_string(c, "reason") ?: "", "NodeStatusUnknown") == 0 &&
		  strcmp(json_get_string(c, "message") ?: "", "Kubelet stopped posting node status.") == 0;

	json_object_put(n);
	return ok;
}

static bool node_untainted(void *arg)
{
	json_object *n = get("nodes", NULL, arg);
	bool ok = n && !has_taint(n, TAINT_UNREACHABLE) && !has_taint(n, TAINT_NOT_READY);

	json_object_put(n);
	return ok;
}

static bool pod_not_ready(void *arg)
{
	json_object *p = get("pods", "default", arg), *conds = json_get_path(p, "status.conditions");
	bool ok = !p;

	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (strcmp(json_get_string(c, "type") ?: "", "Ready") == 0)
			ok = strcmp(json_get_string(c, "status") ?: "", "False") == 0;
	}
	json_object_put(p);
	return ok;
}

static bool pod_gone(void *arg)
{
	json_object *p = get("pods", "default", arg);

	json_object_put(p);
	return !p;
}

static void short_periods(void)
{
	struct controllers_options o;

	controllers_options_init(&o);
	o.node_monitor_grace_period_s = 1;
	o.pod_eviction_timeout_s = 1;
	o.node_eviction_rate = 100;
	open_store();
	start(&o);
}

#define POD_ON(name, node)                                                                                        \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"nodeName\":\""   \
	node "\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"

static void ready_pod(const char *name)
{
	cr_assert_eq(ctrl_update(reg, "pods", "default", name, "status", set_pod_status, "True", NULL), 0);
}

TestSuite(nodelifecycle, .init = short_periods, .fini = teardown, .timeout = 60);

Test(nodelifecycle, silent_node_is_marked_tainted_and_evicted)
{
	pthread_t agent;

	create("nodes", NULL, NODE("n1"));
	create("nodes", NULL, NODE("n2"));
	cr_assert_eq(ctrl_update(reg, "nodes", NULL, "n1", "status", set_ready, "True", NULL), 0);
	cr_assert_eq(ctrl_update(reg, "nodes", NULL, "n2", "status", set_ready, "True", NULL), 0);
	create("pods", "default", POD_ON("p1", "n1"));
	ready_pod("p1");
	beating = true;
	cr_assert_eq(pthread_create(&agent, NULL, heartbeat, "n2"), 0);
	cr_expect(wait_for(node_unreachable, "n1"), "n1 silent: Ready Unknown and tainted unreachable");
	cr_expect(wait_for(pod_not_ready, "p1"), "its pod is not ready at once");
	cr_expect(wait_for(pod_gone, "p1"), "evicted after the timeout");
	cr_expect(node_untainted("n2"), "n2 kept its lease: untouched");
	cr_expect_geq(events_with("default", "NodeNotReady", "Node n1 status is now: NodeNotReady"), 1);
	cr_expect_eq(events_with("default", "TaintManagerEviction", "Marking for deletion Pod default/p1"), 1);
	cr_expect_geq(events_with("default", "RegisteredNode", "Node n1 event: Registered Node n1"), 1);
	/* n1's agent comes back. */
	cr_assert_eq(ctrl_update(reg, "nodes", NULL, "n1", "status", set_ready, "True", NULL), 0);
	cr_expect(wait_for(node_untainted, "n1"), "the taint goes when the node is back");
	beating = false;
	pthread_join(agent, NULL);
	delete("nodes", NULL, "n2", -1);
	cr_expect(wait_for(key_gone, LEASE_PREFIX "n2"), "the Lease goes with its node");
}

Test(nodelifecycle, agent_not_ready_taints_not_ready)
{
	pthread_t agent;
	json_object *n;

	create("nodes", NULL, NODE("n1"));
	create("nodes", NULL, NODE("n2"));
	beating = true;
	cr_assert_eq(pthread_create(&agent, NULL, heartbeat, "n2"), 0);
	cr_assert_eq(ctrl_update(reg, "nodes", NULL, "n2", "status", set_ready, "True", NULL), 0);
	cr_assert_eq(ctrl_update(reg, "nodes", NULL, "n1", "status", set_ready, "False", NULL), 0);
	create("pods", "default", POD_ON("p2", "n1"));
	cr_expect(wait_for(pod_gone, "p2"), "evicted from the not-ready node");
	n = get("nodes", NULL, "n1");
	cr_expect(has_taint(n, TAINT_NOT_READY));
	json_object_put(n);
	beating = false;
	pthread_join(agent, NULL);
}

static bool all_unreachable(void *arg)
{
	(void)arg;
	return node_unreachable("n1") && node_unreachable("n2") && node_unreachable("n3");
}

Test(nodelifecycle, partition_stops_eviction)
{
	struct store_watch *w = NULL;
	int64_t until;
	json_object *p;

	create("nodes", NULL, NODE("n1"));
	create("nodes", NULL, NODE("n2"));
	create("nodes", NULL, NODE("n3"));
	for (int i = 1; i <= 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "n%d", i);
		cr_assert_eq(ctrl_update(reg, "nodes", NULL, name, "status", set_ready, "True", NULL), 0);
	}
	create("pods", "default", POD_ON("p3", "n1"));
	cr_assert(wait_for(all_unreachable, NULL), "every node silent");
	/* Well past the eviction timeout, the pod must still be there. */
	cr_assert_eq(store_watch_new(db, "/registry/pods/", 0, &w), 0);
	until = ctrl_now_ms() + 3000;
	while (ctrl_now_ms() < until) {
		struct store_event ev = { 0 };

		if (store_watch_next(w, &ev, (int)(until - ctrl_now_ms())) == 0)
			cr_expect_neq(ev.type, STORE_EVENT_DELETE, "a pod was evicted during a partition");
		store_event_clear(&ev);
	}
	store_watch_free(w);
	p = get("pods", "default", "p3");
	cr_expect_not_null(p);
	json_object_put(p);
}
