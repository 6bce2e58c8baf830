/* Registry delete tests over a real SQLite store: immediate and graceful pod deletion,
 * finalizers, preconditions, deletecollection and the namespace teardown loop. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/registry.h"
#include "lib/registry_kit.h"

static void setup(void)
{
	kit_setup("regdel", NULL);
}

TestSuite(registry_delete, .init = setup, .fini = kit_teardown);


static int del(const char *res, const char *ns, const char *name, int64_t grace, json_object **out)
{
	struct delete_options d = { .grace_period_seconds = grace, .propagation_policy = "Background" };
	int code = 0;

	api_status_clear(&kit_st);
	*out = NULL;
	return registry_delete(kit_reg, kit_res(res), ns, name, &d, out, &code, &kit_st);
}

static bool exists(const char *res, const char *ns, const char *name)
{
	json_object *o = NULL;
	int r = registry_get(kit_reg, kit_res(res), ns, name, NULL, &o, &kit_st);

	json_object_put(o);
	api_status_clear(&kit_st);
	return r == 0;
}

Test(registry_delete, unbound_pod_goes_at_once)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("gone", "")), *out = NULL, *again = NULL;

	cr_assert_eq(del("pods", "default", "gone", -1, &out), 0, "%s", kit_st.message);
	cr_assert_str_eq(kit_str(out, "metadata.name"), "gone");
	cr_assert_not(exists("pods", "default", "gone"));
	cr_assert_eq(del("pods", "default", "gone", -1, &again), -ENOENT);
	cr_assert_eq(kit_st.code, 404);
	cr_assert_str_eq(kit_st.message, "pods \"gone\" not found");
}

Test(registry_delete, bound_pod_is_graceful_until_confirmed)
{
	_cleanup_json_ json_object *pod = kit_create(
		"pods", "default",
		"{\"metadata\":{\"name\":\"g\"},\"spec\":{\"nodeName\":\"n1\",\"terminationGracePeriodSeconds\":20,"
		"\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}");
	_cleanup_json_ json_object *first = NULL, *second = NULL, *last = NULL;

	cr_assert_str_eq(kit_str(pod, "spec.nodeName"), "n1");
	cr_assert_eq(del("pods", "default", "g", -1, &first), 0, "%s", kit_st.message);
	cr_assert_neq(kit_str(first, "metadata.deletionTimestamp")[0], '\0');
	cr_assert_eq(json_object_get_int(json_get_path(first, "metadata.deletionGracePeriodSeconds")), 20);
	cr_assert(exists("pods", "default", "g"));
	/* A longer grace period does not extend it. */
	cr_assert_eq(del("pods", "default", "g", 60, &second), 0);
	cr_assert_eq(json_object_get_int(json_get_path(second, "metadata.deletionGracePeriodSeconds")), 20);
	/* The node confirms with grace 0. */
	cr_assert_eq(del("pods", "default", "g", 0, &last), 0);
	cr_assert_not(exists("pods", "default", "g"));
}

Test(registry_delete, finalizers_hold_the_object)
{
	_cleanup_json_ json_object *rc = kit_create(
		"replicationcontrollers", "default",
		"{\"metadata\":{\"name\":\"f\",\"finalizers\":[\"example.com/hold\"]},\"spec\":{\"replicas\":0,\"selector\":"
		"{\"app\":\"f\"},\"template\":{\"metadata\":{\"labels\":{\"app\":\"f\"}},\"spec\":{\"containers\":[{\"name\":"
		"\"c\",\"image\":\"i\"}]}}}}");
	_cleanup_json_ json_object *marked = NULL, *body = NULL, *out = NULL;
	bool created = false;

	cr_assert_eq(del("replicationcontrollers", "default", "f", -1, &marked), 0, "%s", kit_st.message);
	cr_assert_neq(kit_str(marked, "metadata.deletionTimestamp")[0], '\0');
	cr_assert(exists("replicationcontrollers", "default", "f"));
	body = json_clone(marked);
	json_object_object_del(json_get_path(body, "metadata"), "finalizers");
	cr_assert_eq(registry_update(kit_reg, kit_res("replicationcontrollers"), "default", "f", NULL, body, &kit_wo, &out, &created,
				     &kit_st),
		     0, "%s", kit_st.message);
	cr_assert_not(exists("replicationcontrollers", "default", "f"));
}

Test(registry_delete, preconditions)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("pre", ""));
	struct delete_options d = { .grace_period_seconds = -1, .precondition_uid = "not-the-uid" };
	json_object *out = NULL;
	int code = 0;

	cr_assert_eq(registry_delete(kit_reg, kit_res("pods"), "default", "pre", &d, &out, &code, &kit_st), -ESTALE);
	cr_assert_eq(kit_st.code, 409);
	cr_assert(strstr(kit_st.message, "Precondition failed: UID in precondition: not-the-uid"), "%s", kit_st.message);
	d.precondition_uid = NULL;
	d.precondition_rv = "1";
	api_status_clear(&kit_st);
	cr_assert_eq(registry_delete(kit_reg, kit_res("pods"), "default", "pre", &d, &out, &code, &kit_st), -ESTALE);
	cr_assert_eq(kit_st.code, 409);
	d.precondition_rv = kit_str(pod, "metadata.resourceVersion");
	d.propagation_policy = "Sideways";
	api_status_clear(&kit_st);
	cr_assert_lt(registry_delete(kit_reg, kit_res("pods"), "default", "pre", &d, &out, &code, &kit_st), 0);
	cr_assert_eq(kit_st.code, 422);
	d.propagation_policy = "Orphan";
	api_status_clear(&kit_st);
	cr_assert_eq(registry_delete(kit_reg, kit_res("pods"), "default", "pre", &d, &out, &code, &kit_st), 0, "%s", kit_st.message);
	cr_assert_eq(code, 200);
	/* Orphan is recorded as a finalizer for the garbage collector (not running here). */
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(json_get_path(out, "metadata.finalizers"), 0)),
			 "orphan");
	cr_assert_str_neq(kit_str(out, "metadata.deletionTimestamp"), "");
	json_object_put(out);
	cr_assert(exists("pods", "default", "pre"));
}

Test(registry_delete, other_kinds_answer_success_status)
{
	_cleanup_json_ json_object *ep = kit_create("endpoints", "default", "{\"metadata\":{\"name\":\"e\"}}"), *out = NULL;

	cr_assert_eq(del("endpoints", "default", "e", -1, &out), 0, "%s", kit_st.message);
	cr_assert_str_eq(kit_str(out, "kind"), "Status");
	cr_assert_str_eq(kit_str(out, "status"), "Success");
}

Test(registry_delete, delete_collection_by_selector)
{
	struct list_options lo = { .label_selector = "app=a" };
	struct delete_options d = { .grace_period_seconds = -1 };
	_cleanup_json_ json_object *out = NULL;

	json_object_put(kit_create("pods", "default", KIT_POD("a1", "\"app\":\"a\"")));
	json_object_put(kit_create("pods", "default", KIT_POD("a2", "\"app\":\"a\"")));
	json_object_put(kit_create("pods", "default", KIT_POD("b1", "\"app\":\"b\"")));
	cr_assert_eq(registry_delete_collection(kit_reg, kit_res("pods"), "default", &lo, &d, &out, &kit_st), 0, "%s", kit_st.message);
	cr_assert_eq(json_object_array_length(json_get_path(out, "items")), 2);
	cr_assert_not(exists("pods", "default", "a1"));
	cr_assert_not(exists("pods", "default", "a2"));
	cr_assert(exists("pods", "default", "b1"));
}

Test(registry_delete, builtin_namespaces_are_immortal)
{
	_cleanup_json_ json_object *out = NULL;

	cr_assert_eq(del("namespaces", NULL, "default", -1, &out), -EPERM);
	cr_assert_eq(kit_st.code, 403);
	cr_assert_str_eq(kit_st.message, "namespaces \"default\" is forbidden: this namespace may not be deleted");
	cr_assert_eq(del("namespaces", NULL, "kube-system", -1, &out), -EPERM);
	cr_assert(exists("namespaces", NULL, "default"));
}

/* Waits (bounded) for the namespace key's DELETE event after from_rev. */
static bool wait_namespace_gone(const char *name, int64_t from_rev)
{
	char key[128];
	struct store_watch *w = NULL;
	bool gone = false;

	snprintf(key, sizeof(key), "/registry/namespaces/%s", name);
	cr_assert_eq(store_watch_new(kit_store, key, from_rev, &w), 0);
	while (!gone) {
		struct store_event ev = { 0 };

		if (store_watch_next(w, &ev, 20000) < 0)
			break;
		gone = ev.type == STORE_EVENT_DELETE && strcmp(ev.key, key) == 0;
		store_event_clear(&ev);
	}
	store_watch_free(w);
	return gone;
}

Test(registry_delete, namespace_teardown)
{
	_cleanup_json_ json_object *ns = kit_create("namespaces", NULL, "{\"metadata\":{\"name\":\"doomed\"}}");
	_cleanup_json_ json_object *out = NULL, *again = NULL;
	int64_t rev = store_revision(kit_store);
	size_t n = 0;

	json_object_put(kit_create("pods", "doomed", KIT_POD("p", "")));
	json_object_put(kit_create("pods", "doomed",
			       "{\"metadata\":{\"name\":\"bound\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
			       "\"c\",\"image\":\"i\"}]}}"));
	json_object_put(kit_create("services", "doomed",
			       "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80}]}}"));
	json_object_put(kit_create("pods", "default", KIT_POD("bystander", "")));
	cr_assert_eq(store_count(kit_store, "/registry/ranges/", &n), 0);
	cr_assert_eq(n, 2, "one ClusterIP and one NodePort allocated");
	cr_assert_eq(del("namespaces", NULL, "doomed", -1, &out), 0, "%s", kit_st.message);
	cr_assert_str_eq(kit_str(out, "status.phase"), "Terminating");
	cr_assert_neq(kit_str(out, "metadata.deletionTimestamp")[0], '\0');
	cr_assert(wait_namespace_gone("doomed", rev), "the teardown loop removed the namespace");
	cr_assert_not(exists("pods", "doomed", "p"));
	cr_assert_not(exists("pods", "doomed", "bound"));
	cr_assert_not(exists("services", "doomed", "s"));
	cr_assert(exists("pods", "default", "bystander"));
	cr_assert_eq(store_count(kit_store, "/registry/ranges/", &n), 0);
	cr_assert_eq(n, 0, "the Service's allocations were released");
	/* The name can be used again. */
	again = kit_create("namespaces", NULL, "{\"metadata\":{\"name\":\"doomed\"}}");
	cr_assert_str_eq(kit_str(again, "status.phase"), "Active");
	json_object_put(kit_create("pods", "doomed", KIT_POD("p", "")));
}

Test(registry_delete, terminating_namespace_refuses_content)
{
	_cleanup_json_ json_object *ns = kit_create("namespaces", NULL, "{\"metadata\":{\"name\":\"held\"}}");
	_cleanup_json_ json_object *out = NULL;

	/* A finalizer keeps one object, so the namespace stays Terminating. */
	json_object_put(kit_create("endpoints", "held", "{\"metadata\":{\"name\":\"e\",\"finalizers\":[\"x/y\"]}}"));
	cr_assert_eq(del("namespaces", NULL, "held", -1, &out), 0, "%s", kit_st.message);
	cr_assert_eq(kit_create_fails("pods", "held", KIT_POD("late", "")), 403);
	cr_assert_str_eq(kit_st.message, "pods \"late\" is forbidden: unable to create new content in namespace held because "
				     "it is being terminated");
	cr_assert(exists("namespaces", NULL, "held"));
}
