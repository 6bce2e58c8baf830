/* The scheduler running against a real SQLite store and registry: nodes and pods created
 * through the registry, bindings and events awaited through a store watch (each wait
 * bounded, never a sleep loop): placement with a nodeSelector, the Unschedulable
 * condition and FailedScheduling event, retries when nodes or pods change, a burst larger
 * than the store's event ring. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/meta.h"
#include "api/registry.h"
#include "scheduler/scheduler.h"

/* Generous: only a broken scheduler waits this long for its next event. */
#define EVENT_TIMEOUT_MS 20000

static char dir[] = "/tmp/skiff-test-scheduler-XXXXXX";
static struct store *store;
static struct registry *reg;
static struct scheduler *sched;
static struct store_watch *watch;
static json_object *seen; /* {"pods": {name: pod}, "events": [event, ...]} from the watch */
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
	snprintf(path, sizeof(path), "%s/store.db", dir);
	store = store_open_sqlite(path, &o);
	cr_assert_not_null(store);
	reg = registry_new(store, NULL);
	cr_assert_not_null(reg, "registry_new: %s", strerror(errno));
	cr_assert_eq(store_watch_new(store, "/registry/", store_revision(store), &watch), 0);
	seen = json_object_new_object();
	json_object_object_add(seen, "pods", json_object_new_object());
	json_object_object_add(seen, "events", json_object_new_array());
}

static void teardown(void)
{
	scheduler_stop(sched);
	sched = NULL;
	store_watch_free(watch);
	registry_free(reg);
	store_close(store);
	json_object_put(seen);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	strcpy(dir, "/tmp/skiff-test-scheduler-XXXXXX");
}

TestSuite(scheduler_run, .init = setup, .fini = teardown, .timeout = 120);

static void start(void)
{
	struct scheduler_options o;

	scheduler_options_init(&o);
	o.bind_workers = 4;
	o.initial_backoff_ms = 50;
	o.max_backoff_ms = 200;
	o.seed = 1;
	sched = scheduler_start(reg, &o);
	cr_assert_not_null(sched, "scheduler_start: %s", strerror(errno));
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
	_cleanup_json_ json_object *b = J(body), *out = NULL;
	struct api_status st = { 0 };
	int r = registry_create(reg, resource_by_name(res), ns, NULL, NULL, b, &wo, &out, &st);

	cr_assert_eq(r, 0, "create %s: %d %s", body, r, st.message ? st.message : "");
	api_status_clear(&st);
}

static void patch(const char *res, const char *ns, const char *name, const char *sub, const char *body)
{
	_cleanup_json_ json_object *out = NULL;
	struct api_status st = { 0 };
	bool created = false;
	int r = registry_patch(reg, resource_by_name(res), ns, name, sub, "application/merge-patch+json", body,
			       strlen(body), &wo, &out, &created, &st);

	cr_assert_eq(r, 0, "patch %s %s: %d %s", name, body, r, st.message ? st.message : "");
	api_status_clear(&st);
}

#define READY_STATUS(extra)                                                                                      \
	"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]," \
	"\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"" extra "}}"

/* A Ready node with 4 cpu, 8Gi; pods and extra allocatable as given ("110\"" or "1\""). */
static void node(const char *name, const char *labels, bool cordoned, const char *pods_extra)
{
	char body[1024], status[1024];

	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},"
		 "\"spec\":{\"unschedulable\":%s}}",
		 name, labels, cordoned ? "true" : "false");
	create("nodes", NULL, body);
	snprintf(status, sizeof(status),
		 "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}],"
		 "\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"%s}}}",
		 pods_extra);
	patch("nodes", NULL, name, "status", status);
}

static void pod(const char *name, const char *spec_extra, const char *resources)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},\"spec\":{%s"
		 "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"%s}]}}",
		 name, spec_extra, resources);
	create("pods", "default", body);
}

static void record(const struct store_event *ev)
{
	json_object *obj;

	if (ev->type != STORE_EVENT_PUT)
		return;
	obj = meta_from_stored(ev->value, ev->mod_rev);
	cr_assert_not_null(obj);
	if (strncmp(ev->key, "/registry/pods/", 15) == 0)
		json_object_object_add(json_get_path(seen, "pods"), json_get_string(obj, "metadata.name"), obj);
	else if (strncmp(ev->key, "/registry/events/", 17) == 0)
		json_object_array_add(json_get_path(seen, "events"), obj);
	else
		json_object_put(obj);
}

/* Reads the watch until pred holds. */
static void wait_until(bool (*pred)(const void *arg), const void *arg, const char *what)
{
	while (!pred(arg)) {
		struct store_event ev = { 0 };
		int r = store_watch_next(watch, &ev, EVENT_TIMEOUT_MS);

		cr_assert_eq(r, 0, "waiting for %s: %s", what, strerror(-r));
		record(&ev);
		store_event_clear(&ev);
	}
}

static const char *node_of(const char *name)
{
	json_object *p = json_object_object_get(json_get_path(seen, "pods"), name);

	return p ? json_get_string(p, "spec.nodeName") : NULL;
}

static bool all_bound(const void *arg)
{
	for (const char *const *n = arg; *n; n++)
		if (!node_of(*n))
			return false;
	return true;
}

static json_object *find_event(const char *reason, const char *message)
{
	json_object *evs = json_get_path(seen, "events");

	for (size_t i = 0; i < json_object_array_length(evs); i++) {
		json_object *e = json_object_array_get_idx(evs, i);

		if (strcmp(json_get_string(e, "reason") ?: "", reason) == 0 &&
		    strcmp(json_get_string(e, "message") ?: "", message) == 0)
			return e;
	}
	return NULL;
}

struct event_want {
	const char *reason, *message;
};

static bool has_event(const void *arg)
{
	const struct event_want *w = arg;

	return find_event(w->reason, w->message) != NULL;
}

static json_object *pod_condition(const char *name)
{
	json_object *conds = json_get_path(json_object_object_get(json_get_path(seen, "pods"), name), "status.conditions");

	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (strcmp(json_get_string(c, "type") ?: "", "PodScheduled") == 0)
			return c;
	}
	return NULL;
}

struct cond_want {
	const char *pod, *message;
};

static bool unschedulable_with(const void *arg)
{
	const struct cond_want *w = arg;
	json_object *c = pod_condition(w->pod);

	return c && strcmp(json_get_string(c, "status") ?: "", "False") == 0 &&
	       strcmp(json_get_string(c, "reason") ?: "", "Unschedulable") == 0 &&
	       strcmp(json_get_string(c, "message") ?: "", w->message) == 0;
}

Test(scheduler_run, binds_pods_and_honours_node_selector)
{
	static const char *const names[] = { "web-1", "web-2", "db", NULL };
	json_object *ev;

	node("n1", "", false, "110\"");
	node("n2", "\"disk\":\"ssd\"", false, "110\"");
	start();
	pod("web-1", "", "");
	pod("web-2", "", ",\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}");
	pod("db", "\"nodeSelector\":{\"disk\":\"ssd\"},", "");
	wait_until(all_bound, names, "three bindings");
	cr_assert_str_eq(node_of("db"), "n2");
	cr_assert_str_eq(json_get_string(pod_condition("db"), "status"), "True");
	wait_until(has_event, &(struct event_want){ "Scheduled", "Successfully assigned default/db to n2" },
		   "the Scheduled event");
	ev = find_event("Scheduled", "Successfully assigned default/db to n2");
	cr_assert_str_eq(json_get_string(ev, "type"), "Normal");
	cr_assert_str_eq(json_get_string(ev, "source.component"), "default-scheduler");
	cr_assert_str_eq(json_get_string(ev, "involvedObject.kind"), "Pod");
	cr_assert_str_eq(json_get_string(ev, "involvedObject.name"), "db");
}

Test(scheduler_run, pods_created_before_start_are_scheduled)
{
	static const char *const names[] = { "early", NULL };

	pod("early", "", "");
	node("n1", "", false, "110\"");
	start();
	wait_until(all_bound, names, "the binding of a pod listed at start");
	cr_assert_str_eq(node_of("early"), "n1");
}

#define GPU_MSG "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu."

Test(scheduler_run, unschedulable_pod_is_reported_and_retried_when_a_node_changes)
{
	static const char *const names[] = { "train", NULL };
	json_object *ev;

	node("n1", "", true, "110\"");
	node("n2", "", false, "110\"");
	node("n3", "", false, "110\"");
	start();
	pod("train", "", ",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"},\"requests\":{\"nvidia.com/gpu\":\"1\"}}");
	wait_until(unschedulable_with, &(struct cond_want){ "train", GPU_MSG }, "PodScheduled=False");
	wait_until(has_event, &(struct event_want){ "FailedScheduling", GPU_MSG }, "the FailedScheduling event");
	ev = find_event("FailedScheduling", GPU_MSG);
	cr_assert_str_eq(json_get_string(ev, "type"), "Warning");
	cr_assert_str_eq(json_get_string(ev, "source.component"), "default-scheduler");
	cr_assert_str_eq(json_get_string(ev, "involvedObject.name"), "train");
	/* n3 gets a GPU: the parked pod is retried and placed there. */
	patch("nodes", NULL, "n3", "status", "{\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"1\"}}}");
	wait_until(all_bound, names, "the binding after the node changed");
	cr_assert_str_eq(node_of("train"), "n3");
}

Test(scheduler_run, deleted_pod_makes_room)
{
	static const char *const first[] = { "a", NULL }, *const second[] = { "b", NULL };
	const struct delete_options now = { .grace_period_seconds = 0 };
	_cleanup_json_ json_object *out = NULL;
	struct api_status st = { 0 };
	int code = 0;

	node("n1", "", false, "1\"");
	start();
	pod("a", "", "");
	wait_until(all_bound, first, "the first binding");
	pod("b", "", "");
	wait_until(unschedulable_with, &(struct cond_want){ "b", "0/1 nodes are available: 1 Too many pods." },
		   "Too many pods");
	cr_assert_eq(registry_delete(reg, resource_by_name("pods"), "default", "a", &now, &out, &code, &st), 0, "%s",
		     st.message ? st.message : "");
	api_status_clear(&st);
	wait_until(all_bound, second, "the binding after the delete");
	cr_assert_str_eq(node_of("b"), "n1");
}

Test(scheduler_run, other_schedulers_pods_are_left_alone)
{
	static const char *const names[] = { "mine", NULL };

	node("n1", "", false, "110\"");
	start();
	pod("theirs", "\"schedulerName\":\"other\",", "");
	pod("mine", "", "");
	wait_until(all_bound, names, "the binding of our pod");
	cr_assert_null(node_of("theirs"));
}

/* Burst: pods written straight into the store (the API's stored form) by several txns at
 * once, which one group commit may publish together, more than the store's event ring
 * keeps: watchers that fall out of it list again. */
#define BURST_THREADS 8
#define BURST_EACH 1000

struct burst_writer {
	json_object *tmpl; /* this writer's copy */
	int id;
	int rc;
	pthread_t th;
};

static void *burst_write(void *arg)
{
	struct burst_writer *w = arg;
	struct store_op ops[BURST_EACH];
	char *keys[BURST_EACH] = { 0 }, *vals[BURST_EACH] = { 0 };
	json_object *meta = json_object_object_get(w->tmpl, "metadata");

	w->rc = 0;
	for (int i = 0; i < BURST_EACH && w->rc == 0; i++) {
		char name[32], uid[META_UID_LEN];

		snprintf(name, sizeof(name), "b-%d-%d", w->id, i);
		if (meta_new_uid(uid) < 0 || asprintf(&keys[i], "/registry/pods/default/%s", name) < 0) {
			w->rc = -ENOMEM;
			break;
		}
		json_object_object_add(meta, "name", json_object_new_string(name));
		json_object_object_add(meta, "uid", json_object_new_string(uid));
		vals[i] = meta_to_stored(w->tmpl);
		w->rc = vals[i] ? 0 : -ENOMEM;
		ops[i] = (struct store_op){ .type = STORE_OP_CREATE, .key = keys[i], .value = vals[i] };
	}
	if (w->rc == 0)
		w->rc = store_txn(store, ops, BURST_EACH, NULL, NULL);
	for (int i = 0; i < BURST_EACH; i++) {
		free(keys[i]);
		free(vals[i]);
	}
	return NULL;
}

/* Pods under /registry/pods/ with a node, from a list; *ret_rev: the list's revision. */
static size_t count_bound(int64_t *ret_rev)
{
	struct store_list_result res = { 0 };
	size_t n = 0;

	cr_assert_eq(store_list(store, "/registry/pods/", NULL, 0, 0, &res), 0);
	for (size_t i = 0; i < res.n; i++)
		n += strstr(res.items[i].value, "\"nodeName\"") != NULL;
	*ret_rev = res.revision;
	store_list_result_clear(&res);
	return n;
}

/* Waits for n bound pods: a list, then bindings counted off a watch from its revision,
 * listing again whenever this test's own watch falls behind too. */
static void wait_bound_count(size_t n)
{
	struct store_watch *w = NULL;
	int64_t rev;
	size_t bound = count_bound(&rev);

	cr_assert_eq(store_watch_new(store, "/registry/pods/", rev, &w), 0);
	while (bound < n) {
		struct store_event ev = { 0 };
		int r = store_watch_next(w, &ev, EVENT_TIMEOUT_MS);

		if (r == -ERANGE) {
			store_watch_free(w);
			bound = count_bound(&rev);
			cr_assert_eq(store_watch_new(store, "/registry/pods/", rev, &w), 0);
			continue;
		}
		cr_assert_eq(r, 0, "waiting for %zu bound pods (%zu so far): %s", n, bound, strerror(-r));
		if (ev.type == STORE_EVENT_PUT && strstr(ev.value, "\"nodeName\"") &&
		    (!ev.prev_value || !strstr(ev.prev_value, "\"nodeName\"")))
			bound++;
		store_event_clear(&ev);
	}
	store_watch_free(w);
}

Test(scheduler_run, burst_beyond_the_event_ring_is_all_bound)
{
	const struct write_options dry = { .dry_run = true, .field_manager = "test" };
	_cleanup_json_ json_object *body = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"},"
					     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"),
				    *tmpl = NULL;
	struct burst_writer w[BURST_THREADS];
	struct api_status st = { 0 };

	node("n1", "", false, "3000\"");
	node("n2", "", false, "3000\"");
	node("n3", "", false, "3000\"");
	cr_assert_eq(registry_create(reg, resource_by_name("pods"), "default", NULL, NULL, body, &dry, &tmpl, &st), 0);
	start();
	for (int i = 0; i < BURST_THREADS; i++) {
		w[i] = (struct burst_writer){ .id = i };
		cr_assert_eq(json_object_deep_copy(tmpl, &w[i].tmpl, NULL), 0);
		cr_assert_eq(pthread_create(&w[i].th, NULL, burst_write, &w[i]), 0);
	}
	for (int i = 0; i < BURST_THREADS; i++) {
		pthread_join(w[i].th, NULL);
		json_object_put(w[i].tmpl);
		cr_assert_eq(w[i].rc, 0, "burst txn %d: %s", i, strerror(-w[i].rc));
	}
	wait_bound_count(BURST_THREADS * BURST_EACH);
}
