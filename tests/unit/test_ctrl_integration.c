/* The controllers against a real SQLite store and registry in a temp dir: RCs make and
 * adopt pods and scale, deleting an owner deletes its dependents, Endpoints follow pod
 * readiness, nodes get pod CIDRs, and a silent node is marked, tainted and evicted.
 * Waits are on store watches with a timeout, never sleep loops. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/meta.h"
#include "api/registry.h"
#include "controllers/controllers.h"
#include "controllers/ctrl.h"
#include "controllers/nodelifecycle.h"

#define WAIT_MS 15000

static char dir[] = "/tmp/skiff-test-ctrl-XXXXXX";
static struct store *db;
static struct registry *reg;
static struct controllers *ctrls;
static const struct write_options wo = { .field_manager = "test" };

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void open_store(void)
{
	struct store_options o;
	char path[128];

	cr_assert_not_null(mkdtemp(dir));
	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.durable = false;
	snprintf(path, sizeof(path), "%s/db", dir);
	db = store_open_sqlite(path, &o);
	cr_assert_not_null(db);
	reg = registry_new(db, NULL);
	cr_assert_not_null(reg, "registry_new: %s", strerror(errno));
}

static void start(const struct controllers_options *o)
{
	ctrls = controllers_start(reg, o);
	cr_assert_not_null(ctrls, "controllers_start: %s", strerror(errno));
}

static void setup(void)
{
	open_store();
	start(NULL);
}

static void teardown(void)
{
	controllers_stop(ctrls);
	registry_free(reg);
	store_close(db);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	strcpy(dir, "/tmp/skiff-test-ctrl-XXXXXX");
}

static json_object *J(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

static void create(const char *res, const char *ns, const char *body)
{
	json_object *in = J(body), *out = NULL;
	struct api_status st = { 0 };
	int rc = registry_create(reg, resource_by_name(res), ns, NULL, NULL, in, &wo, &out, &st);

	cr_assert_eq(rc, 0, "create %s: %s", res, st.message ? st.message : strerror(-rc));
	json_object_put(in);
	json_object_put(out);
	api_status_clear(&st);
}

static void delete(const char *res, const char *ns, const char *name, int64_t grace)
{
	cr_assert_eq(ctrl_delete(reg, res, ns, name, grace, NULL), 0, "delete %s %s", res, name);
}

/* Waits until pred holds, checking again after every store event. */
static bool wait_for(bool (*pred)(void *), void *arg)
{
	struct store_watch *w = NULL;
	int64_t deadline = ctrl_now_ms() + WAIT_MS;
	bool ok;

	cr_assert_eq(store_watch_new(db, "/registry/", 0, &w), 0);
	while (!(ok = pred(arg)) && ctrl_now_ms() < deadline) {
		struct store_event ev = { 0 };
		int rc = store_watch_next(w, &ev, (int)(deadline - ctrl_now_ms()));

		store_event_clear(&ev);
		if (rc < 0 && rc != -ETIMEDOUT)
			break;
	}
	store_watch_free(w);
	return ok;
}

static json_object *list(const char *res, const char *ns)
{
	json_object *l = NULL, *items = NULL;

	cr_assert_eq(ctrl_list(reg, res, ns, NULL, &l, &items), 0);
	return l;
}

static size_t count(const char *res, const char *ns)
{
	json_object *l = list(res, ns);
	size_t n = json_object_array_length(json_get_path(l, "items"));

	json_object_put(l);
	return n;
}

static json_object *get(const char *res, const char *ns, const char *name)
{
	json_object *o = NULL;
	struct api_status st = { 0 };

	if (registry_read(reg, resource_by_name(res), ns, name, &o, NULL, &st) < 0)
		o = NULL;
	api_status_clear(&st);
	return o;
}

/* Events of this reason whose message starts with prefix. */
static size_t events_with(const char *ns, const char *reason, const char *prefix)
{
	json_object *l = list("events", ns), *items = json_get_path(l, "items");
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *e = json_object_array_get_idx(items, i);

		n += strcmp(json_get_string(e, "reason") ?: "", reason) == 0 &&
		     strncmp(json_get_string(e, "message") ?: "", prefix, strlen(prefix)) == 0;
	}
	json_object_put(l);
	return n;
}

#define RC(name, replicas)                                                                                       \
	"{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":\"" name "\"},"         \
	"\"spec\":{\"replicas\":" #replicas ",\"selector\":{\"app\":\"" name "\"},\"template\":{\"metadata\":"     \
	"{\"labels\":{\"app\":\"" name "\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","      \
	"\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]}}}}"

struct rc_want {
	const char *rc;
	size_t pods;
	int64_t status_replicas; /* -1: any */
};

/* Exactly w->pods pods owned by the RC (not being deleted), and its status saying so. */
static bool rc_has(void *arg)
{
	struct rc_want *w = arg;
	json_object *l = list("pods", "default"), *items = json_get_path(l, "items"), *rc;
	size_t n = 0;
	bool ok;

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *ref = owner_controller_ref(json_object_array_get_idx(items, i));

		n += ref && strcmp(json_get_string(ref, "name") ?: "", w->rc) == 0;
	}
	json_object_put(l);
	rc = get("replicationcontrollers", "default", w->rc);
	ok = n == w->pods && rc &&
	     (w->status_replicas < 0 || json_object_get_int64(json_get_path(rc, "status.replicas")) == w->status_replicas);
	json_object_put(rc);
	return ok;
}

TestSuite(controllers, .init = setup, .fini = teardown, .timeout = 60);

Test(controllers, rc_creates_scales_and_never_overshoots)
{
	struct store_watch *creates = NULL;
	struct rc_want w = { "web", 3, 3 };
	json_object *l, *pod, *ref;
	int n_created = 0;

	cr_assert_eq(store_watch_new(db, "/registry/pods/", 0, &creates), 0);
	create("replicationcontrollers", "default", RC("web", 3));
	cr_assert(wait_for(rc_has, &w), "3 pods and status.replicas 3");
	l = list("pods", "default");
	pod = json_object_array_get_idx(json_get_path(l, "items"), 0);
	cr_expect_eq(strlen(meta_name(pod)), strlen("web-abcde"));
	cr_expect_eq(strncmp(meta_name(pod), "web-", 4), 0);
	ref = owner_controller_ref(pod);
	cr_assert_not_null(ref);
	cr_expect_str_eq(json_get_string(ref, "apiVersion"), "v1");
	cr_expect_str_eq(json_get_string(ref, "kind"), "ReplicationController");
	cr_expect(json_object_get_boolean(json_get_path(ref, "blockOwnerDeletion")));
	json_object_put(l);
	cr_expect_eq(events_with("default", "SuccessfulCreate", "Created pod: web-"), 3);

	/* kubectl scale: spec.replicas through the registry, generation moves. */
	{
		json_object *rc = get("replicationcontrollers", "default", "web"), *out = NULL;
		struct api_status st = { 0 };
		bool created = false;

		json_object_object_add(json_get_path(rc, "spec"), "replicas", json_object_new_int(1));
		cr_assert_eq(registry_update(reg, resource_by_name("replicationcontrollers"), "default", "web", NULL, rc,
					     &wo, &out, &created, &st),
			     0);
		json_object_put(rc);
		json_object_put(out);
		api_status_clear(&st);
	}
	w = (struct rc_want){ "web", 1, 1 };
	cr_assert(wait_for(rc_has, &w), "scaled down to 1");
	cr_expect_eq(events_with("default", "SuccessfulDelete", "Deleted pod: web-"), 2);
	for (;;) {
		struct store_event ev = { 0 };

		if (store_watch_next(creates, &ev, 0) < 0)
			break;
		n_created += ev.type == STORE_EVENT_PUT && !ev.prev_value;
		store_event_clear(&ev);
	}
	cr_expect_eq(n_created, 3, "expectations: exactly 3 creates, got %d", n_created);
	store_watch_free(creates);
	{
		json_object *rc = get("replicationcontrollers", "default", "web");

		cr_expect_eq(json_object_get_int64(json_get_path(rc, "status.observedGeneration")),
			     json_object_get_int64(json_get_path(rc, "metadata.generation")));
		json_object_put(rc);
	}
}

static void scale(const char *name, int replicas)
{
	json_object *rc = get("replicationcontrollers", "default", name), *out = NULL;
	struct api_status st = { 0 };
	bool created = false;

	cr_assert_not_null(rc);
	json_object_object_add(json_get_path(rc, "spec"), "replicas", json_object_new_int(replicas));
	cr_assert_eq(registry_update(reg, resource_by_name("replicationcontrollers"), "default", name, NULL, rc, &wo,
				     &out, &created, &st),
		     0);
	json_object_put(rc);
	json_object_put(out);
	api_status_clear(&st);
}

/* 150 pods and their 150 Events are more events than one batch takes: none may be lost,
 * or the RC's expectations would wait for a create it never sees. */
Test(controllers, rc_many_replicas_across_batches)
{
	struct rc_want w = { "many", 150, 150 };

	create("replicationcontrollers", "default", RC("many", 150));
	cr_assert(wait_for(rc_has, &w), "150 pods");
	scale("many", 2);
	w = (struct rc_want){ "many", 2, 2 };
	cr_assert(wait_for(rc_has, &w), "scaled down at once, expectations all met");
}

Test(controllers, rc_adopts_orphans)
{
	struct rc_want w = { "api", 2, 2 };
	json_object *orphan;

	create("pods", "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"stray\",\"labels\":{\"app\":\"api\"}},"
	       "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}");
	create("replicationcontrollers", "default", RC("api", 2));
	cr_assert(wait_for(rc_has, &w));
	orphan = get("pods", "default", "stray");
	cr_assert_not_null(orphan, "the orphan is kept, not replaced");
	cr_expect_str_eq(json_get_string(owner_controller_ref(orphan), "name"), "api");
	json_object_put(orphan);
}

static bool no_pods(void *arg)
{
	(void)arg;
	return count("pods", "default") == 0;
}

Test(controllers, deleting_owner_deletes_dependents)
{
	struct rc_want w = { "gone", 2, -1 };

	create("replicationcontrollers", "default", RC("gone", 2));
	cr_assert(wait_for(rc_has, &w));
	delete("replicationcontrollers", "default", "gone", -1);
	cr_assert(wait_for(no_pods, NULL), "background cascading deletion");
}

#define RC_FIN(name, fin)                                                                                       \
	"{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":\"" name "\","          \
	"\"finalizers\":[\"" fin "\"]},\"spec\":{\"replicas\":2,\"selector\":{\"app\":\"" name "\"},\"template\":" \
	"{\"metadata\":{\"labels\":{\"app\":\"" name "\"}},\"spec\":{\"containers\":[{\"name\":\"c\","              \
	"\"image\":\"busybox\"}]}}}}"

struct orphaned {
	const char *rc;
	size_t want;
};

/* The RC is gone and want pods with its label are left, none with an owner. */
static bool rc_gone_pods_left(void *arg)
{
	struct orphaned *o = arg;
	json_object *rc = get("replicationcontrollers", "default", o->rc), *l = list("pods", "default");
	json_object *items = json_get_path(l, "items");
	size_t n = 0, owned = 0;

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *p = json_object_array_get_idx(items, i);

		n++;
		owned += json_get_path(p, "metadata.ownerReferences") != NULL;
	}
	json_object_put(l);
	json_object_put(rc);
	return !rc && n == o->want && owned == 0;
}

Test(controllers, orphan_finalizer_keeps_dependents)
{
	struct rc_want w = { "keep", 2, -1 };
	struct orphaned o = { "keep", 2 };

	create("replicationcontrollers", "default", RC_FIN("keep", "orphan"));
	cr_assert(wait_for(rc_has, &w));
	delete("replicationcontrollers", "default", "keep", -1);
	cr_assert(wait_for(rc_gone_pods_left, &o), "pods orphaned, then the RC removed");
}

Test(controllers, foreground_finalizer_deletes_dependents_first)
{
	struct rc_want w = { "fg", 2, -1 };
	struct orphaned o = { "fg", 0 };

	create("replicationcontrollers", "default", RC_FIN("fg", "foregroundDeletion"));
	cr_assert(wait_for(rc_has, &w));
	delete("replicationcontrollers", "default", "fg", -1);
	cr_assert(wait_for(rc_gone_pods_left, &o), "pods deleted, then the RC");
}

Test(controllers, dependent_of_a_missing_owner_is_collected)
{
	create("pods", "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"dangling\",\"ownerReferences\":[{"
	       "\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"name\":\"nope\",\"uid\":"
	       "\"00000000-0000-4000-8000-000000000000\"}]},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}");
	cr_assert(wait_for(no_pods, NULL));
}

static int set_pod_status(json_object *pod, void *arg)
{
	const char *ready = arg;
	json_object *status = json_ensure_object(pod, "status");

	json_object_object_add(status, "podIP", json_object_new_string("10.244.0.7"));
	json_object_object_add(status, "phase", json_object_new_string("Running"));
	json_object_object_add(status, "conditions", J(strcmp(ready, "True") == 0
							      ? "[{\"type\":\"Ready\",\"status\":\"True\"}]"
							      : "[{\"type\":\"Ready\",\"status\":\"False\"}]"));
	return 0;
}

static json_object *first(json_object *arr)
{
	return arr && json_object_is_type(arr, json_type_array) ? json_object_array_get_idx(arr, 0) : NULL;
}

struct ep_want {
	const char *field; /* "addresses", "notReadyAddresses" or NULL: no Endpoints */
};

static bool ep_has(void *arg)
{
	struct ep_want *w = arg;
	json_object *ep = get("endpoints", "default", "web");
	json_object *s = first(json_get_path(ep, "subsets"));
	json_object *addr = s && w->field ? first(json_get_path(s, w->field)) : NULL;
	json_object *port = first(json_get_path(s, "ports"));
	bool ok = !w->field ? !ep
			    : addr && strcmp(json_get_string(addr, "ip") ?: "", "10.244.0.7") == 0 &&
				      strcmp(json_get_string(addr, "targetRef.name") ?: "", "p1") == 0 &&
				      json_object_get_int(json_get_path(port, "port")) == 8080 &&
				      strcmp(json_get_string(port, "name") ?: "", "http") == 0;

	json_object_put(ep);
	return ok;
}

Test(controllers, endpoints_follow_readiness_and_service)
{
	struct ep_want w = { "addresses" };

	create("services", "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":"
	       "{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":\"http\"}]}}");
	create("pods", "default",
	       "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"labels\":{\"app\":\"web\"}},"
	       "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"ports\":[{\"name\":\"http\","
	       "\"containerPort\":8080}]}]}}");
	cr_assert_eq(ctrl_update(reg, "pods", "default", "p1", "status", set_pod_status, "True", NULL), 0);
	cr_assert(wait_for(ep_has, &w), "ready pod in addresses, named port resolved");
	cr_assert_eq(ctrl_update(reg, "pods", "default", "p1", "status", set_pod_status, "False", NULL), 0);
	w.field = "notReadyAddresses";
	cr_assert(wait_for(ep_has, &w), "not-ready pod moved to notReadyAddresses");
	delete("services", "default", "web", -1);
	w.field = NULL;
	cr_assert(wait_for(ep_has, &w), "Endpoints deleted with the Service");
}

#define NODE(name) "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" name "\"}}"

static bool both_have_cidrs(void *arg)
{
	json_object *a = get("nodes", NULL, "n1"), *b = get("nodes", NULL, "n2");
	const char *ca = json_get_string(a, "spec.podCIDR"), *cb = json_get_string(b, "spec.podCIDR");
	bool ok = ca && cb && strcmp(ca, cb) != 0 && json_get_path(a, "spec.podCIDRs");

	(void)arg;
	json_object_put(a);
	json_object_put(b);
	return ok;
}

static bool key_gone(void *arg)
{
	struct store_kv kv = { 0 };
	int rc = store_get(db, arg, &kv);

	store_kv_clear(&kv);
	return rc == -ENOENT;
}

Test(controllers, node_ipam_allocates_and_releases)
{
	json_object *n1;
	char key[128];
	struct store_kv kv = { 0 };

	create("nodes", NULL, NODE("n1"));
	create("nodes", NULL, NODE("n2"));
	cr_assert(wait_for(both_have_cidrs, NULL));
	n1 = get("nodes", NULL, "n1");
	cr_expect_eq(strncmp(json_get_string(n1, "spec.podCIDR"), "10.244.", 7), 0);
	snprintf(key, sizeof(key), "/registry/ranges/podcidrs/%.*s", (int)strcspn(json_get_string(n1, "spec.podCIDR"), "/"),
		 json_get_string(n1, "spec.podCIDR"));
	json_object_put(n1);
	cr_assert_eq(store_get(db, key, &kv), 0, "allocation key %s", key);
	store_kv_clear(&kv);
	delete("nodes", NULL, "n1", -1);
	cr_assert(wait_for(key_gone, key), "released with the node");
}

struct cidr_want {
	const char *node, *cidr;
};

static bool node_cidr_is(void *arg)
{
	struct cidr_want *w = arg;
	json_object *n = get("nodes", NULL, w->node);
	bool ok = n && strcmp(json_get_string(n, "spec.podCIDR") ?: "", w->cidr) == 0;

	json_object_put(n);
	return ok;
}

/* Allocations live in the store: a restart keeps them, reuses a block claimed for a node
 * whose write never happened, and releases the block of a node deleted meanwhile. */
Test(controllers, node_ipam_survives_restart)
{
	struct cidr_want n1 = { "n1", "10.244.0.0/24" }, n2 = { "n2", "10.244.1.0/24" };
	struct cidr_want n3 = { "n3", "10.244.7.0/24" }, n4 = { "n4", "10.244.0.0/24" };

	create("nodes", NULL, NODE("n1"));
	cr_assert(wait_for(node_cidr_is, &n1));
	create("nodes", NULL, NODE("n2"));
	cr_assert(wait_for(node_cidr_is, &n2));
	controllers_stop(ctrls);
	ctrls = NULL;
	/* As if the last run died between claiming n3's block and writing n3. */
	create("nodes", NULL, NODE("n3"));
	cr_assert_eq(store_create(db, "/registry/ranges/podcidrs/10.244.7.0",
				  "{\"node\":\"n3\",\"podCIDR\":\"10.244.7.0/24\"}", NULL),
		     0);
	delete("nodes", NULL, "n1", -1);
	start(NULL);
	cr_assert(wait_for(node_cidr_is, &n3), "the block already claimed for n3");
	cr_assert(wait_for(key_gone, "/registry/ranges/podcidrs/10.244.0.0"), "n1's block released at restart");
	create("nodes", NULL, NODE("n4"));
	cr_assert(wait_for(node_cidr_is, &n4), "n1's old block, free again");
	cr_expect(node_cidr_is(&n2), "n2 keeps its block");
}

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
