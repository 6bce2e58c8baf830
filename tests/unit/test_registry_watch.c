/* Registry watch tests over a real SQLite store: initial state, changes, selector
 * transitions, resuming from a revision, compacted starts. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/registry.h"

static char dir[] = "/tmp/skiff-test-regwatch-XXXXXX";
static struct store *st_store;
static struct registry *reg;
static struct api_status st;
static const struct write_options wo = { .strict = true, .field_manager = "test" };

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void setup(void)
{
	struct store_options o;
	char path[128];

	cr_assert_not_null(mkdtemp(dir));
	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.durable = false;
	snprintf(path, sizeof(path), "%s/db", dir);
	st_store = store_open_sqlite(path, &o);
	cr_assert_not_null(st_store);
	reg = registry_new(st_store, NULL);
	cr_assert_not_null(reg, "registry_new: %s", strerror(errno));
}

static void teardown(void)
{
	registry_free(reg);
	store_close(st_store);
	api_status_clear(&st);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	strcpy(dir, "/tmp/skiff-test-regwatch-XXXXXX");
}

TestSuite(registry_watch, .init = setup, .fini = teardown);

static const struct resource *R(const char *name)
{
	return resource_by_name(name);
}

static json_object *J(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

static const char *S(json_object *o, const char *path)
{
	const char *v = json_get_string(o, path);

	return v ? v : "";
}

#define POD(name, labels)                                                                                     \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"labels\":{" labels "}},"     \
	"\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"

static json_object *create(const char *res, const char *ns, const char *body)
{
	_cleanup_json_ json_object *b = J(body);
	json_object *out = NULL;
	int r = registry_create(reg, R(res), ns, NULL, NULL, b, &wo, &out, &st);

	cr_assert_eq(r, 0, "create %s: %d %s", body, r, st.message ? st.message : "");
	return out;
}

static int patch_labels(const char *name, const char *labels)
{
	char body[256];
	json_object *out = NULL;
	bool created = false;
	int r;

	snprintf(body, sizeof(body), "{\"metadata\":{\"labels\":%s}}", labels);
	r = registry_patch(reg, R("pods"), "default", name, NULL, "application/merge-patch+json", body, strlen(body), &wo,
			   &out, &created, &st);
	json_object_put(out);
	return r;
}

static struct registry_watch *watch(const char *ns, const char *labels, const char *fields, const char *rv)
{
	struct list_options lo = { .label_selector = labels, .field_selector = fields, .resource_version = rv };
	struct registry_watch *w = NULL;

	cr_assert_eq(registry_watch_new(reg, R("pods"), ns, &lo, &w, &st), 0, "%s", st.message);
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
	cr_assert_str_eq(t, type, "expected %s %s, got %s %s", type, name, t, S(obj, "metadata.name"));
	cr_assert_str_eq(S(obj, "metadata.name"), name);
	rv = atoll(S(obj, "metadata.resourceVersion"));
	cr_assert_gt(rv, 0);
	json_object_put(obj);
	return rv;
}

static void expect_nothing(struct registry_watch *w)
{
	const char *t = NULL;
	json_object *obj = NULL;
	int r = registry_watch_next(w, &t, &obj, 0);

	cr_assert_eq(r, -ETIMEDOUT, "unexpected %s %s", t ? t : "", S(obj, "metadata.name"));
}

static void del(const char *name)
{
	struct delete_options d = { .grace_period_seconds = 0 };
	json_object *out = NULL;
	int code = 0;

	cr_assert_eq(registry_delete(reg, R("pods"), "default", name, &d, &out, &code, &st), 0, "%s", st.message);
	json_object_put(out);
}

Test(registry_watch, initial_state_then_changes)
{
	json_object_put(create("pods", "default", POD("a", "")));
	json_object_put(create("pods", "kube-system", POD("other-ns", "")));
	struct registry_watch *w = watch("default", NULL, NULL, "");
	int64_t rv_mod, rv_del;

	expect(w, "ADDED", "a");
	expect_nothing(w);
	json_object_put(create("pods", "default", POD("b", "")));
	json_object_put(create("pods", "kube-system", POD("other-ns-2", "")));
	expect(w, "ADDED", "b");
	cr_assert_eq(patch_labels("a", "{\"x\":\"1\"}"), 0);
	rv_mod = expect(w, "MODIFIED", "a");
	del("a");
	rv_del = expect(w, "DELETED", "a");
	cr_assert_gt(rv_del, rv_mod, "a DELETED carries the deleting revision");
	cr_assert_eq(rv_del, store_revision(st_store));
	expect_nothing(w);
	registry_watch_free(w);
}

Test(registry_watch, selector_transitions)
{
	json_object_put(create("pods", "default", POD("s", "\"app\":\"web\"")));
	json_object_put(create("pods", "default", POD("t", "\"app\":\"db\"")));
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
	_cleanup_json_ json_object *bind = J("{\"kind\":\"Binding\",\"target\":{\"name\":\"n1\"}}"), *out = NULL;

	json_object_put(create("pods", "default", POD("unbound", "")));
	expect_nothing(w);
	cr_assert_eq(registry_create(reg, R("pods"), "default", "unbound", "binding", bind, &wo, &out, &st), 0, "%s",
		     st.message);
	expect(w, "ADDED", "unbound");
	registry_watch_free(w);
}

Test(registry_watch, resume_from_revision)
{
	_cleanup_json_ json_object *a = create("pods", "default", POD("r1", ""));
	json_object_put(create("pods", "default", POD("r2", "")));
	struct registry_watch *w = watch("default", NULL, NULL, S(a, "metadata.resourceVersion"));

	expect(w, "ADDED", "r2");
	expect_nothing(w);
	registry_watch_free(w);
}

Test(registry_watch, compacted_start_is_gone)
{
	_cleanup_json_ json_object *a = create("pods", "default", POD("c1", ""));
	const char *t = NULL;
	json_object *obj = NULL;
	struct registry_watch *w;

	json_object_put(create("pods", "default", POD("c2", "")));
	json_object_put(create("pods", "default", POD("c3", "")));
	cr_assert_eq(store_compact(st_store, store_revision(st_store)), 0);
	w = watch("default", NULL, NULL, S(a, "metadata.resourceVersion"));
	cr_assert_eq(registry_watch_next(w, &t, &obj, 1000), -ERANGE);
	registry_watch_free(w);
}

Test(registry_watch, bad_selector_and_cancel)
{
	struct list_options lo = { .label_selector = "a in (" };
	struct registry_watch *w = NULL;
	const char *t = NULL;
	json_object *obj = NULL;

	cr_assert_lt(registry_watch_new(reg, R("pods"), "default", &lo, &w, &st), 0);
	cr_assert_eq(st.code, 400);
	w = watch("default", NULL, NULL, "");
	registry_watch_cancel(w);
	cr_assert_eq(registry_watch_next(w, &t, &obj, 1000), -ECANCELED);
	registry_watch_free(w);
}
