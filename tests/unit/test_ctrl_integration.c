/* The controllers against a real SQLite store and registry in a temp dir: RCs make, adopt
 * and scale pods without overshooting, deleting an owner deletes its dependents (orphan and
 * foreground finalizers honoured), Endpoints follow pod readiness, nodes get pod CIDRs. */
#include "test_ctrl_harness.h"

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
