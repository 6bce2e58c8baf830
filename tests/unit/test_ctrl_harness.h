/* Shared by the controllers' integration tests: a real SQLite store and registry in a temp
 * dir, the controllers on it, and waits on store watches with a timeout (never sleep loops).
 * Everything is static inline: each test file uses what it needs. */
#ifndef SKIFF_TEST_CTRL_HARNESS_H
#define SKIFF_TEST_CTRL_HARNESS_H

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

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static inline void open_store(void)
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

static inline void start(const struct controllers_options *o)
{
	ctrls = controllers_start(reg, o);
	cr_assert_not_null(ctrls, "controllers_start: %s", strerror(errno));
}

static inline void setup(void)
{
	open_store();
	start(NULL);
}

static inline void teardown(void)
{
	controllers_stop(ctrls);
	registry_free(reg);
	store_close(db);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	strcpy(dir, "/tmp/skiff-test-ctrl-XXXXXX");
}

static inline json_object *J(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

static inline void create(const char *res, const char *ns, const char *body)
{
	json_object *in = J(body), *out = NULL;
	struct api_status st = { 0 };
	int rc = registry_create(reg, resource_by_name(res), ns, NULL, NULL, in, &wo, &out, &st);

	cr_assert_eq(rc, 0, "create %s: %s", res, st.message ? st.message : strerror(-rc));
	json_object_put(in);
	json_object_put(out);
	api_status_clear(&st);
}

static inline void delete(const char *res, const char *ns, const char *name, int64_t grace)
{
	cr_assert_eq(ctrl_delete(reg, res, ns, name, grace, NULL), 0, "delete %s %s", res, name);
}

/* Waits until pred holds, checking again after every store event. */
static inline bool wait_for(bool (*pred)(void *), void *arg)
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

static inline json_object *list(const char *res, const char *ns)
{
	json_object *l = NULL, *items = NULL;

	cr_assert_eq(ctrl_list(reg, res, ns, NULL, &l, &items), 0);
	return l;
}

static inline size_t count(const char *res, const char *ns)
{
	json_object *l = list(res, ns);
	size_t n = json_object_array_length(json_get_path(l, "items"));

	json_object_put(l);
	return n;
}

static inline json_object *get(const char *res, const char *ns, const char *name)
{
	json_object *o = NULL;
	struct api_status st = { 0 };

	if (registry_read(reg, resource_by_name(res), ns, name, &o, NULL, &st) < 0)
		o = NULL;
	api_status_clear(&st);
	return o;
}

/* Events of this reason whose message starts with prefix. */
static inline size_t events_with(const char *ns, const char *reason, const char *prefix)
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

static inline int set_pod_status(json_object *pod, void *arg)
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

#define NODE(name) "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" name "\"}}"

static inline bool key_gone(void *arg)
{
	struct store_kv kv = { 0 };
	int rc = store_get(db, arg, &kv);

	store_kv_clear(&kv);
	return rc == -ENOENT;
}

#endif
