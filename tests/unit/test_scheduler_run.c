/* The scheduler running against a real SQLite store and registry: nodes and pods created
 * through the registry, bindings and events awaited through a store watch (each wait
 * bounded, never a sleep loop): placement with a nodeSelector, the Unschedulable
 * condition and FailedScheduling event, retries when nodes or pods change. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
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
