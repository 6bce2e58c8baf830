/* Registry tests over a real SQLite store: create, get, list (selectors, paging), update
 * conflicts, every patch type, scale and binding. */
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
	kit_setup("registry", NULL);
}

TestSuite(registry, .init = setup, .fini = kit_teardown);

Test(registry, default_namespaces_exist)
{
	static const char *const names[] = { "default", "kube-system", "kube-public", "kube-node-lease" };

	for (size_t i = 0; i < 4; i++) {
		_cleanup_json_ json_object *ns = NULL;

		cr_assert_eq(registry_get(kit_reg, kit_res("namespaces"), NULL, names[i], NULL, &ns, &kit_st), 0, "%s", names[i]);
		cr_assert_str_eq(kit_str(ns, "status.phase"), "Active");
		cr_assert_str_eq(json_object_get_string(json_object_object_get(json_get_path(ns, "metadata.labels"),
										"kubernetes.io/metadata.name")),
				 names[i]);
	}
}

Test(registry, create_sets_server_fields)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("web", "\"app\":\"x\""));
	_cleanup_json_ json_object *got = NULL;
	const char *uid = kit_str(pod, "metadata.uid"), *ts = kit_str(pod, "metadata.creationTimestamp");

	cr_assert_eq(strlen(uid), 36);
	cr_assert_eq(uid[14], '4', "uuid v4: %s", uid);
	cr_assert_eq(strlen(ts), 20);
	cr_assert_eq(ts[19], 'Z');
	cr_assert_str_eq(kit_str(pod, "metadata.namespace"), "default");
	cr_assert_eq(json_object_get_int(json_get_path(pod, "metadata.generation")), 1);
	cr_assert_str_eq(kit_str(pod, "status.phase"), "Pending");
	cr_assert_str_eq(kit_str(pod, "status.qosClass"), "BestEffort");
	cr_assert_gt(atoll(kit_str(pod, "metadata.resourceVersion")), 0);
	cr_assert_eq(registry_get(kit_reg, kit_res("pods"), "default", "web", NULL, &got, &kit_st), 0);
	cr_assert_str_eq(kit_str(got, "metadata.resourceVersion"), kit_str(pod, "metadata.resourceVersion"));
	cr_assert_str_eq(kit_str(got, "metadata.uid"), uid);
}

Test(registry, create_ignores_client_status_and_rv)
{
	_cleanup_json_ json_object *pod = kit_create(
		"pods", "default",
		"{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"999\",\"uid\":\"x\"},\"spec\":{\"containers\":[{\"name\":"
		"\"c\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]},"
		"\"status\":{\"phase\":\"Running\"}}");

	cr_assert_str_eq(kit_str(pod, "status.phase"), "Pending");
	cr_assert_str_eq(kit_str(pod, "status.qosClass"), "Guaranteed");
	cr_assert_str_neq(kit_str(pod, "metadata.uid"), "x");
	cr_assert_str_neq(kit_str(pod, "metadata.resourceVersion"), "999");
}

Test(registry, create_errors)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("dup", ""));

	cr_assert_eq(kit_create_fails("pods", "default", KIT_POD("dup", "")), 409);
	cr_assert_str_eq(kit_st.message, "pods \"dup\" already exists");
	cr_assert_eq(kit_create_fails("pods", "nope", KIT_POD("x", "")), 404);
	cr_assert_str_eq(kit_st.message, "namespaces \"nope\" not found");
	cr_assert_eq(kit_create_fails("pods", "default",
				  "{\"metadata\":{\"name\":\"x\",\"namespace\":\"other\"},\"spec\":{\"containers\":[{\"name\":"
				  "\"c\",\"image\":\"i\"}]}}"),
		     400);
	cr_assert_str_eq(kit_st.message, "the namespace of the provided object does not match the namespace sent on the request");
	cr_assert_eq(kit_create_fails("pods", "default", "{\"kind\":\"Service\",\"metadata\":{\"name\":\"x\"}}"), 400);
	cr_assert_eq(kit_create_fails("pods", "default", "{\"apiVersion\":\"v2\",\"metadata\":{\"name\":\"x\"}}"), 400);
	cr_assert_eq(kit_create_fails("pods", "default", "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"bogus\":1}}"), 400);
	cr_assert(strstr(kit_st.message, "strict decoding error"), "%s", kit_st.message);
	cr_assert_eq(kit_create_fails("pods", "default", "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":[]}}"), 422);
	cr_assert_str_eq(kit_st.reason, "Invalid");
	cr_assert(strncmp(kit_st.message, "The Pod \"x\" is invalid: ", 24) == 0, "%s", kit_st.message);
}

Test(registry, generate_name)
{
	_cleanup_json_ json_object *a = kit_create("pods", "default",
					       "{\"metadata\":{\"generateName\":\"web-\"},\"spec\":{\"containers\":[{\"name\":"
					       "\"c\",\"image\":\"i\"}]}}");
	const char *name = kit_str(a, "metadata.name");

	cr_assert_eq(strlen(name), 9, "%s", name);
	cr_assert(strncmp(name, "web-", 4) == 0);
	cr_assert_eq(strspn(name + 4, "bcdfghjklmnpqrstvwxz2456789"), 5, "%s", name);
}

Test(registry, dry_run_writes_nothing)
{
	const struct write_options dry = { .dry_run = true, .strict = true };
	_cleanup_json_ json_object *b = kit_json(KIT_POD("dry", "")), *out = NULL, *got = NULL;

	cr_assert_eq(registry_create(kit_reg, kit_res("pods"), "default", NULL, NULL, b, &dry, &out, &kit_st), 0);
	cr_assert_str_eq(kit_str(out, "metadata.name"), "dry");
	cr_assert_eq(registry_get(kit_reg, kit_res("pods"), "default", "dry", NULL, &got, &kit_st), -ENOENT);
	cr_assert_eq(kit_st.code, 404);
}

static int update(const char *res, const char *ns, const char *name, const char *sub, json_object *body,
		  json_object **out)
{
	bool created = false;

	api_status_clear(&kit_st);
	return registry_update(kit_reg, kit_res(res), ns, name, sub, body, &kit_wo, out, &created, &kit_st);
}

Test(registry, update_conflict_and_unconditional)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("u", "\"a\":\"1\""));
	_cleanup_json_ json_object *v1 = json_clone(pod), *v2 = json_clone(pod), *out1 = NULL, *out2 = NULL;
	_cleanup_json_ json_object *out3 = NULL;

	json_object_object_add(json_get_path(v1, "metadata.labels"), "a", json_object_new_string("2"));
	cr_assert_eq(update("pods", "default", "u", NULL, v1, &out1), 0, "%s", kit_st.message);
	cr_assert_str_eq(kit_str(out1, "metadata.labels.a"), "2");
	cr_assert_gt(atoll(kit_str(out1, "metadata.resourceVersion")), atoll(kit_str(pod, "metadata.resourceVersion")));
	/* v2 still carries the first revision. */
	cr_assert_eq(update("pods", "default", "u", NULL, v2, &out2), -ESTALE);
	cr_assert_eq(kit_st.code, 409);
	cr_assert_str_eq(kit_st.message, "Operation cannot be fulfilled on pods \"u\": the object has been modified; please "
				     "apply your changes to the latest version and try again");
	/* Without a resourceVersion the update is unconditional. */
	json_object_object_del(json_get_path(v2, "metadata"), "resourceVersion");
	cr_assert_eq(update("pods", "default", "u", NULL, v2, &out3), 0, "%s", kit_st.message);
	cr_assert_str_eq(kit_str(out3, "metadata.uid"), kit_str(pod, "metadata.uid"));
}

Test(registry, update_keeps_immutables_status_and_bumps_generation)
{
	_cleanup_json_ json_object *rc = kit_create(
		"replicationcontrollers", "default",
		"{\"metadata\":{\"name\":\"r\"},\"spec\":{\"replicas\":1,\"selector\":{\"app\":\"r\"},\"template\":{"
		"\"metadata\":{\"labels\":{\"app\":\"r\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}");
	_cleanup_json_ json_object *b = json_clone(rc), *out = NULL, *same = NULL, *s = NULL, *sout = NULL;

	json_object_object_add(json_get_path(b, "metadata"), "uid", json_object_new_string("other"));
	json_object_object_add(json_get_path(b, "status"), "replicas", json_object_new_int(5));
	json_object_object_add(json_get_path(b, "spec"), "replicas", json_object_new_int(3));
	cr_assert_eq(update("replicationcontrollers", "default", "r", NULL, b, &out), 0, "%s", kit_st.message);
	cr_assert_str_eq(kit_str(out, "metadata.uid"), kit_str(rc, "metadata.uid"));
	cr_assert_eq(json_object_get_int(json_get_path(out, "status.replicas")), 0);
	cr_assert_eq(json_object_get_int(json_get_path(out, "spec.replicas")), 3);
	cr_assert_eq(json_object_get_int(json_get_path(out, "metadata.generation")), 2);
	/* Writing the same object again changes nothing, not even the revision. */
	cr_assert_eq(update("replicationcontrollers", "default", "r", NULL, out, &same), 0);
	cr_assert_str_eq(kit_str(same, "metadata.resourceVersion"), kit_str(out, "metadata.resourceVersion"));
	/* /status writes the status only. */
	s = json_clone(same);
	json_object_object_add(json_get_path(s, "status"), "replicas", json_object_new_int(2));
	json_object_object_add(json_get_path(s, "spec"), "replicas", json_object_new_int(9));
	cr_assert_eq(update("replicationcontrollers", "default", "r", "status", s, &sout), 0, "%s", kit_st.message);
	cr_assert_eq(json_object_get_int(json_get_path(sout, "status.replicas")), 2);
	cr_assert_eq(json_object_get_int(json_get_path(sout, "spec.replicas")), 3);
	cr_assert_eq(json_object_get_int(json_get_path(sout, "metadata.generation")), 2);
}

Test(registry, update_missing)
{
	_cleanup_json_ json_object *b = kit_json(KIT_POD("ghost", "")), *out = NULL;
	_cleanup_json_ json_object *ep = kit_json("{\"metadata\":{\"name\":\"e\"},\"subsets\":[]}"), *eout = NULL;
	bool created = false;

	cr_assert_eq(update("pods", "default", "ghost", NULL, b, &out), -ENOENT);
	cr_assert_eq(kit_st.code, 404);
	/* Endpoints are created by a PUT. */
	cr_assert_eq(registry_update(kit_reg, kit_res("endpoints"), "default", "e", NULL, ep, &kit_wo, &eout, &created, &kit_st), 0,
		     "%s", kit_st.message);
	cr_assert(created);
}

static json_object *list(const char *res, const char *ns, const char *labels, const char *fields, int64_t limit,
			 const char *cont)
{
	struct list_options lo = { .label_selector = labels, .field_selector = fields, .limit = limit,
				   .continue_token = cont };
	json_object *out = NULL;

	api_status_clear(&kit_st);
	if (registry_list(kit_reg, kit_res(res), ns, &lo, &out, &kit_st) < 0)
		return NULL;
	return out;
}

static size_t n_items(json_object *l)
{
	return json_object_array_length(json_get_path(l, "items"));
}

Test(registry, list_selectors_and_paging)
{
	char body[256];

	for (int i = 0; i < 7; i++) {
		snprintf(body, sizeof(body), KIT_POD("p%d", "\"app\":\"%s\""), i, i % 2 ? "odd" : "even");
		json_object_put(kit_create("pods", "default", body));
	}
	json_object_put(kit_create("pods", "kube-system", KIT_POD("sys", "\"app\":\"odd\"")));
	_cleanup_json_ json_object *all = list("pods", NULL, NULL, NULL, 0, NULL);
	_cleanup_json_ json_object *def = list("pods", "default", NULL, NULL, 0, NULL);
	_cleanup_json_ json_object *odd = list("pods", "default", "app in (odd)", NULL, 0, NULL);
	_cleanup_json_ json_object *named = list("pods", NULL, NULL, "metadata.name=p3", 0, NULL);

	cr_assert_eq(n_items(all), 8);
	cr_assert_str_eq(kit_str(all, "kind"), "PodList");
	cr_assert_gt(atoll(kit_str(all, "metadata.resourceVersion")), 0);
	cr_assert_eq(n_items(def), 7);
	cr_assert_eq(n_items(odd), 3);
	cr_assert_eq(n_items(named), 1);
	cr_assert_null(list("pods", NULL, "app in (", NULL, 0, NULL));
	cr_assert_eq(kit_st.code, 400);
	cr_assert_null(list("pods", NULL, NULL, "spec.bogus=1", 0, NULL));
	cr_assert_eq(kit_st.code, 400);

	/* Pages of 2 of the even pods (p0 p2 p4 p6), all at the first page's revision. */
	json_object *page = list("pods", "default", "app=even", NULL, 2, NULL);
	const char *rv0 = NULL;
	size_t seen = 0, pages = 0;

	cr_assert_not_null(page);
	rv0 = strdup(kit_str(page, "metadata.resourceVersion"));
	json_object_put(kit_create("pods", "default", KIT_POD("late", "\"app\":\"even\"")));
	for (;;) {
		const char *cont = json_get_string(page, "metadata.continue");
		json_object *next;

		seen += n_items(page);
		pages++;
		cr_assert_str_eq(kit_str(page, "metadata.resourceVersion"), rv0);
		if (!cont) {
			json_object_put(page);
			break;
		}
		next = list("pods", "default", "app=even", NULL, 2, cont);
		cr_assert_not_null(next, "%s", kit_st.message);
		json_object_put(page);
		page = next;
	}
	cr_assert_eq(seen, 4, "the pod created after the first page is not in this list");
	cr_assert_eq(pages, 2);
	free((void *)rv0);
}

Test(registry, continue_after_compaction_is_expired)
{
	for (int i = 0; i < 3; i++) {
		char body[256];

		snprintf(body, sizeof(body), KIT_POD("c%d", ""), i);
		json_object_put(kit_create("pods", "default", body));
	}
	_cleanup_json_ json_object *page = list("pods", "default", NULL, NULL, 1, NULL);
	const char *cont = json_get_string(page, "metadata.continue");

	cr_assert_not_null(cont);
	json_object_put(kit_create("pods", "default", KIT_POD("more", "")));
	cr_assert_eq(store_compact(kit_store, store_revision(kit_store)), 0);
	cr_assert_null(list("pods", "default", NULL, NULL, 1, cont));
	cr_assert_eq(kit_st.code, 410);
	cr_assert_str_eq(kit_st.reason, "Expired");
	cr_assert_null(list("pods", "default", NULL, NULL, 1, "garbage!"));
	cr_assert_eq(kit_st.code, 400);
}

static int patch(const char *res, const char *name, const char *sub, const char *type, const char *body,
		 json_object **out, bool *created)
{
	bool c = false;

	api_status_clear(&kit_st);
	return registry_patch(kit_reg, kit_res(res), "default", name, sub, type, body, strlen(body), &kit_wo, out,
			      created ? created : &c, &kit_st);
}

Test(registry, patch_types)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("pp", "\"a\":\"1\""));
	_cleanup_json_ json_object *m = NULL, *j = NULL, *s = NULL, *same = NULL, *stale = NULL;

	cr_assert_eq(patch("pods", "pp", NULL, "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}",
			   &m, NULL),
		     0, "%s", kit_st.message);
	cr_assert_str_eq(json_object_get_string(json_get_path(json_get_path(m, "metadata.labels"), "b")), "2");
	cr_assert_eq(patch("pods", "pp", NULL, "application/json-patch+json",
			   "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"nginx\"}]", &j, NULL),
		     0, "%s", kit_st.message);
	cr_assert_str_eq(json_object_get_string(json_get_path(
				 json_object_array_get_idx(json_get_path(j, "spec.containers"), 0), "image")),
			 "nginx");
	cr_assert_eq(patch("pods", "pp", NULL, "application/strategic-merge-patch+json",
			   "{\"spec\":{\"activeDeadlineSeconds\":5}}", &s, NULL),
		     0, "%s", kit_st.message);
	cr_assert_eq(json_object_get_int(json_get_path(s, "spec.activeDeadlineSeconds")), 5);
	/* A patch that changes nothing writes nothing. */
	cr_assert_eq(patch("pods", "pp", NULL, "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}",
			   &same, NULL),
		     0);
	cr_assert_str_eq(kit_str(same, "metadata.resourceVersion"), kit_str(s, "metadata.resourceVersion"));
	/* A patch carrying an old resourceVersion conflicts. */
	char body[128];

	snprintf(body, sizeof(body), "{\"metadata\":{\"resourceVersion\":\"%s\",\"labels\":{\"c\":\"3\"}}}",
		 kit_str(pod, "metadata.resourceVersion"));
	cr_assert_eq(patch("pods", "pp", NULL, "application/merge-patch+json", body, &stale, NULL), -ESTALE);
	cr_assert_eq(kit_st.code, 409);
	cr_assert_eq(patch("pods", "pp", NULL, "application/merge-patch+json", "{bad", &stale, NULL), -EINVAL);
	cr_assert_eq(kit_st.code, 400);
	cr_assert_eq(patch("pods", "nothere", NULL, "application/merge-patch+json", "{}", &stale, NULL), -ENOENT);
	cr_assert_eq(kit_st.code, 404);
}

Test(registry, apply_creates_then_updates)
{
	_cleanup_json_ json_object *a = NULL, *b = NULL;
	bool created = false;
	const char *cfg = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"ap\"},\"spec\":{\"containers\":"
			  "[{\"name\":\"c\",\"image\":\"i\"}]}}";

	cr_assert_eq(patch("pods", "ap", NULL, "application/apply-patch+yaml", cfg, &a, &created), 0, "%s", kit_st.message);
	cr_assert(created);
	cr_assert_str_eq(kit_str(a, "status.phase"), "Pending");
	cr_assert_eq(patch("pods", "ap", NULL, "application/apply-patch+yaml",
			   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"ap\",\"labels\":{\"x\":\"y\"}}}",
			   &b, &created),
		     0, "%s", kit_st.message);
	cr_assert_not(created);
	cr_assert_str_eq(kit_str(b, "metadata.uid"), kit_str(a, "metadata.uid"));
	cr_assert_str_eq(json_object_get_string(json_get_path(json_get_path(b, "metadata.labels"), "x")), "y");
}

Test(registry, scale_subresource)
{
	_cleanup_json_ json_object *rc = kit_create(
		"replicationcontrollers", "default",
		"{\"metadata\":{\"name\":\"s\"},\"spec\":{\"replicas\":1,\"selector\":{\"tier\":\"b\",\"app\":\"s\"},"
		"\"template\":{\"metadata\":{\"labels\":{\"app\":\"s\",\"tier\":\"b\"}},\"spec\":{\"containers\":[{\"name\":"
		"\"c\",\"image\":\"i\"}]}}}}");
	_cleanup_json_ json_object *scale = NULL, *p = NULL, *put = NULL, *stale = NULL, *after = NULL;
	_cleanup_json_ json_object *body = NULL;

	cr_assert_eq(registry_get(kit_reg, kit_res("replicationcontrollers"), "default", "s", "scale", &scale, &kit_st), 0);
	cr_assert_str_eq(kit_str(scale, "kind"), "Scale");
	cr_assert_str_eq(kit_str(scale, "apiVersion"), "autoscaling/v1");
	cr_assert_str_eq(kit_str(scale, "status.selector"), "app=s,tier=b");
	cr_assert_eq(json_object_get_int(json_get_path(scale, "spec.replicas")), 1);
	cr_assert_str_eq(kit_str(scale, "metadata.uid"), kit_str(rc, "metadata.uid"));
	cr_assert_eq(patch("replicationcontrollers", "s", "scale", "application/merge-patch+json",
			   "{\"spec\":{\"replicas\":3}}", &p, NULL),
		     0, "%s", kit_st.message);
	cr_assert_eq(json_object_get_int(json_get_path(p, "spec.replicas")), 3);
	body = json_clone(p);
	json_object_object_add(json_get_path(body, "spec"), "replicas", json_object_new_int(4));
	cr_assert_eq(update("replicationcontrollers", "default", "s", "scale", body, &put), 0, "%s", kit_st.message);
	cr_assert_eq(json_object_get_int(json_get_path(put, "spec.replicas")), 4);
	/* body still has the revision before the PUT. */
	cr_assert_eq(update("replicationcontrollers", "default", "s", "scale", body, &stale), -ESTALE);
	cr_assert_eq(kit_st.code, 409);
	cr_assert_eq(registry_get(kit_reg, kit_res("replicationcontrollers"), "default", "s", NULL, &after, &kit_st), 0);
	cr_assert_eq(json_object_get_int(json_get_path(after, "spec.replicas")), 4);
	cr_assert_str_eq(json_object_get_string(json_get_path(json_get_path(after, "spec.template.metadata.labels"), "app")),
			 "s");
}

Test(registry, binding)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("b", ""));
	_cleanup_json_ json_object *bind = kit_json("{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"b\"},"
					     "\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}");
	_cleanup_json_ json_object *out = NULL, *again = NULL, *got = NULL;

	cr_assert_eq(registry_create(kit_reg, kit_res("pods"), "default", "b", "binding", bind, &kit_wo, &out, &kit_st), 0, "%s",
		     kit_st.message);
	cr_assert_str_eq(kit_str(out, "status"), "Success");
	cr_assert_eq(registry_get(kit_reg, kit_res("pods"), "default", "b", NULL, &got, &kit_st), 0);
	cr_assert_str_eq(kit_str(got, "spec.nodeName"), "n1");
	cr_assert_eq(registry_create(kit_reg, kit_res("pods"), "default", "b", "binding", bind, &kit_wo, &again, &kit_st), -EEXIST);
	cr_assert_eq(kit_st.code, 409);
	cr_assert(strstr(kit_st.message, "pod b is already assigned to node \"n1\""), "%s", kit_st.message);
	/* The bound pod (with its PodScheduled condition) still takes patches. */
	_cleanup_json_ json_object *p = NULL;

	cr_assert_eq(patch("pods", "b", NULL, "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"k\":\"v\"}}}",
			   &p, NULL),
		     0, "%s", kit_st.message);
	cr_assert_str_eq(kit_str(p, "spec.nodeName"), "n1");
}

Test(registry, namespace_get_and_create)
{
	_cleanup_json_ json_object *ns = kit_create("namespaces", NULL, "{\"metadata\":{\"name\":\"team\"}}");
	_cleanup_json_ json_object *got = NULL;

	cr_assert_str_eq(kit_str(ns, "status.phase"), "Active");
	cr_assert_eq(registry_get(kit_reg, kit_res("namespaces"), NULL, "team", NULL, &got, &kit_st), 0);
	cr_assert_str_eq(kit_str(got, "metadata.name"), "team");
	json_object_put(kit_create("pods", "team", KIT_POD("in-team", "")));
}

Test(registry, events_with_involved_object)
{
	_cleanup_json_ json_object *pod = kit_create("pods", "default", KIT_POD("ev", ""));
	_cleanup_json_ json_object *ev = NULL, *l = NULL;
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"metadata\":{\"name\":\"ev.1\"},\"involvedObject\":{\"kind\":\"Pod\",\"namespace\":\"default\","
		 "\"name\":\"ev\",\"uid\":\"%s\"},\"reason\":\"Scheduled\",\"message\":\"assigned\",\"type\":\"Normal\"}",
		 kit_str(pod, "metadata.uid"));
	ev = kit_create("events", "default", body);
	cr_assert_str_eq(kit_str(ev, "involvedObject.name"), "ev");
	snprintf(body, sizeof(body), "involvedObject.name=ev,involvedObject.namespace=default,involvedObject.uid=%s",
		 kit_str(pod, "metadata.uid"));
	l = list("events", "default", NULL, body, 0, NULL);
	cr_assert_not_null(l, "%s", kit_st.message);
	cr_assert_eq(n_items(l), 1);
}
