/* Registry watch tests over a real SQLite store: initial state, changes, selector
 * transitions, resuming from a revision, compacted starts. */
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
	kit_setup("regwatch", NULL);
}

TestSuite(registry_watch, .init = setup, .fini = kit_teardown);

static int patch_labels(const char *name, const char *labels)
{
	char body[256];
	json_object *out = NULL;
	bool created = false;
	int r;

	snprintf(body, sizeof(body), "{\"metadata\":{\"labels\":%s}}", labels);
	r = registry_patch(kit_reg, kit_res("pods"), "default", name, NULL, "application/merge-patch+json", body, strlen(body), &kit_wo,
			   &out, &created, &kit_st);
	json_object_put(out);
	return r;
}

static struct registry_watch *watch(const char *ns, const char *labels, const char *fields, const char *rv)
{
	struct list_options lo = { .label_selector = labels, .field_selector = fields, .resource_version = rv };
	struct registry_watch *w = NULL;

	cr_assert_eq(registry_watch_new(kit_reg, kit_res("pods"), ns, &lo, &w, &kit_st), 0, "%s", kit_st.message);
	return w;
}

/* The next event must be type for name; returns its resourceVersion. */
static int64_t expect(struct registry_watch *w, const char *type, const char *name)
{
	const char *t = NULL;
	json_object *obj = NULL;
	int64_t rv;
	int r = registry_watch_next(w, &t, &obj, 5000);

	cr_assert_eq(r, 0, "waiting for %s %s: %d", type, name, r);
	cr_assert_str_eq(t, type, "expected %s %s, got %s %s", type, name, t, kit_str(obj, "metadata.name"));
	cr_assert_str_eq(kit_str(obj, "metadata.name"), name);
	rv = atoll(kit_str(obj, "metadata.resourceVersion"));
	cr_assert_gt(rv, 0);
	json_object_put(obj);
	return rv;
}

static void expect_nothing(struct registry_watch *w)
{
	const char *t = NULL;
	json_object *obj = NULL;
	int r = registry_watch_next(w, &t, &obj, 0);

	cr_assert_eq(r, -ETIMEDOUT, "unexpected %s %s", t ? t : "", kit_str(obj, "metadata.name"));
}

static void del(const char *name)
{
	struct delete_options d = { .grace_period_seconds = 0 };
	json_object *out = NULL;
	int code = 0;

	cr_assert_eq(registry_delete(kit_reg, kit_res("pods"), "default", name, &d, &out, &code, &kit_st), 0, "%s", kit_st.message);
	json_object_put(out);
}

Test(registry_watch, initial_state_then_changes)
{
	json_object_put(kit_create("pods", "default", KIT_POD("a", "")));
	json_object_put(kit_create("pods", "kube-system", KIT_POD("other-ns", "")));
	struct registry_watch *w = watch("default", NULL, NULL, "");
	int64_t rv_mod, rv_del;

	expect(w, "ADDED", "a");
	expect_nothing(w);
	json_object_put(kit_create("pods", "default", KIT_POD("b", "")));
	json_object_put(kit_create("pods", "kube-system", KIT_POD("other-ns-2", "")));
	expect(w, "ADDED", "b");
	cr_assert_eq(patch_labels("a", "{\"x\":\"1\"}"), 0);
	rv_mod = expect(w, "MODIFIED", "a");
	del("a");
	rv_del = expect(w, "DELETED", "a");
	cr_assert_gt(rv_del, rv_mod, "a DELETED carries the deleting revision");
	cr_assert_eq(rv_del, store_revision(kit_store));
	expect_nothing(w);
	registry_watch_free(w);
}

Test(registry_watch, selector_transitions)
{
	json_object_put(kit_create("pods", "default", KIT_POD("s", "\"app\":\"web\"")));
	json_object_put(kit_create("pods", "default", KIT_POD("t", "\"app\":\"db\"")));
	struct registry_watch *w = watch("default", "app=web", NULL, "0");

	expect(w, "ADDED", "s");
	expect_nothing(w);
	cr_assert_eq(patch_labels("s", "{\"app\":\"db\"}"), 0);
	expect(w, "DELETED", "s");
	cr_assert_eq(patch_labels("t", "{\"tier\":\"x\"}"), 0);
	expect_nothing(w);
	cr_assert_eq(patch_labels("t", "{\"app\":\"web\"}"), 0);
	expect(w, "ADDED", "t");
	cr_assert_eq(patch_labels("t", "{\"tier\":\"y\"}"), 0);
	expect(w, "MODIFIED", "t");
	registry_watch_free(w);
}

Test(registry_watch, field_selector_node_name)
{
	struct registry_watch *w = watch(NULL, NULL, "spec.nodeName=n1", "");
	_cleanup_json_ json_object *bind = kit_json("{\"kind\":\"Binding\",\"target\":{\"name\":\"n1\"}}"), *out = NULL;

	json_object_put(kit_create("pods", "default", KIT_POD("unbound", "")));
	expect_nothing(w);
	cr_assert_eq(registry_create(kit_reg, kit_res("pods"), "default", "unbound", "binding", bind, &kit_wo, &out, &kit_st), 0, "%s",
		     kit_st.message);
	expect(w, "ADDED", "unbound");
	registry_watch_free(w);
}

Test(registry_watch, resume_from_revision)
{
	_cleanup_json_ json_object *a = kit_create("pods", "default", KIT_POD("r1", ""));
	json_object_put(kit_create("pods", "default", KIT_POD("r2", "")));
	struct registry_watch *w = watch("default", NULL, NULL, kit_str(a, "metadata.resourceVersion"));

	expect(w, "ADDED", "r2");
	expect_nothing(w);
	registry_watch_free(w);
}

Test(registry_watch, compacted_start_is_gone)
{
	_cleanup_json_ json_object *a = kit_create("pods", "default", KIT_POD("c1", ""));
	const char *t = NULL;
	json_object *obj = NULL;
	struct registry_watch *w;

	json_object_put(kit_create("pods", "default", KIT_POD("c2", "")));
	json_object_put(kit_create("pods", "default", KIT_POD("c3", "")));
	cr_assert_eq(store_compact(kit_store, store_revision(kit_store)), 0);
	w = watch("default", NULL, NULL, kit_str(a, "metadata.resourceVersion"));
	cr_assert_eq(registry_watch_next(w, &t, &obj, 1000), -ERANGE);
	registry_watch_free(w);
}

Test(registry_watch, bad_selector_and_cancel)
{
	struct list_options lo = { .label_selector = "a in (" };
	struct registry_watch *w = NULL;
	const char *t = NULL;
	json_object *obj = NULL;

	cr_assert_lt(registry_watch_new(kit_reg, kit_res("pods"), "default", &lo, &w, &kit_st), 0);
	cr_assert_eq(kit_st.code, 400);
	w = watch("default", NULL, NULL, "");
	registry_watch_cancel(w);
	cr_assert_eq(registry_watch_next(w, &t, &obj, 1000), -ECANCELED);
	registry_watch_free(w);
}
