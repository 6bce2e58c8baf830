/* Benchmarks the scheduler in-process over a durable SQLite store and the real registry
 * (binds are POST pods/binding through registry_create): burst throughput at 100-5,000
 * nodes, per-pod latency at a paced create rate, and an RC scaled 0 -> 1,000 with the
 * controllers running. Usage: bench_sched DIR [paced|rc|burst|ab [NODES]]. Prints a markdown section. */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "api/registry.h"
#include "controllers/controllers.h"
#include "scheduler/scheduler.h"

#define PODS 10000
#define PACED_PODS 1000
#define PACED_GAP_US 2000 /* between paced creates: well under the scheduler's capacity */
#define RC_REPLICAS 1000
#define RC_NODES 100
#define TXN_CHUNK 1000 /* the store takes at most 1,024 ops per txn */
#define WAIT_S 30
#define NS "default"

static const char *base_dir;
static int bind_workers; /* 0: the scheduler's default */
static int only_nodes;   /* burst: that node count only (0: all) */

/* The process's CPU time (all threads), seconds: on a shared machine a steadier A/B figure
 * than wall time. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Per-pod timestamps (ns, 0 = not seen), indexed by the N in pod name "p-N". */
struct stamps {
	int64_t *created; /* burst: its txn committed */
	int64_t *added;   /* its ADDED event on the bench's watch */
	int64_t *queued, *popped, *committed; /* the scheduler's trace points */
	int64_t *bound;   /* the update with spec.nodeName on the bench's watch */
};

struct bench_env {
	char dir[4096];
	struct store *store;
	struct registry *reg;
	struct scheduler *sched;
	struct controllers *ctrls;
	struct store_watch *watch;
	pthread_t watcher;
	bool watching;
	atomic_bool stop;
	int n_pods;
	struct stamps st;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int n_bound;      /* pods whose binding the watch showed (guarded by lock) */
	int relists;      /* times the watch fell behind and listed again */
	int n_added;      /* ADDED events seen, and the time of the last */
	int64_t last_added;
	int64_t last_bound;
};

static int pod_index(const char *name, int n)
{
	const char *p = strrchr(name, '/');
	char *end;
	long i;

	p = p ? p + 1 : name;
	if (strncmp(p, "p-", 2) != 0)
		return -1;
	i = strtol(p + 2, &end, 10);
	return *end || i < 0 || i >= n ? -1 : (int)i;
}

static void stamp(int64_t *v, int i, int64_t t)
{
	if (v && i >= 0)
		__atomic_store_n(&v[i], t, __ATOMIC_RELAXED);
}

static void trace(void *arg, enum sched_trace_point point, const char *key)
{
	struct bench_env *e = arg;
	int i = pod_index(key, e->n_pods);
	int64_t *v = point == SCHED_TRACE_QUEUED ? e->st.queued
		     : point == SCHED_TRACE_POPPED ? e->st.popped
						   : e->st.committed;

	stamp(v, i, now_ns());
}

static void note_bound(struct bench_env *e, const char *key, int64_t t)
{
	stamp(e->st.bound, pod_index(key, e->n_pods), t);
	pthread_mutex_lock(&e->lock);
	e->n_bound++;
	e->last_bound = t;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

/* After the watch fell out of the store's event ring (a burst of 10,000 creates can
 * outrun this thread): the list is the truth; bindings first seen here get the list's
 * time, later than they happened, so the figures can only look worse. */
static int relist(struct bench_env *e)
{
	struct store_list_result res = { 0 };
	int64_t t = now_ns();
	int n = 0, rc = store_list(e->store, "/registry/pods/", NULL, 0, 0, &res);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < res.n; i++) {
		int idx = pod_index(res.items[i].key, e->n_pods);

		if (!strstr(res.items[i].value, "\"nodeName\""))
			continue;
		n++;
		if (idx >= 0 && !e->st.bound[idx])
			stamp(e->st.bound, idx, t);
	}
	store_watch_free(e->watch);
	e->watch = NULL;
	rc = store_watch_new(e->store, "/registry/pods/", res.revision, &e->watch);
	store_list_result_clear(&res);
	pthread_mutex_lock(&e->lock);
	e->n_bound = n;
	e->last_bound = t;
	e->relists++;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

/* The bench's own view: a pod's ADDED event and the update that gave it a node. */
static void *watcher_main(void *arg)
{
	struct bench_env *e = arg;

	while (!atomic_load(&e->stop)) {
		struct store_event ev = { 0 };
		int rc = store_watch_next(e->watch, &ev, 100);
		int64_t t = now_ns();

		if (rc == -ETIMEDOUT)
			continue;
		if (rc == -ERANGE)
			rc = relist(e);
		if (rc < 0) {
			fprintf(stderr, "bench_sched: watch: %s\n", strerror(-rc));
			break;
		}
		if (!ev.key)
			continue;
		if (ev.type == STORE_EVENT_PUT && !ev.prev_value) {
			stamp(e->st.added, pod_index(ev.key, e->n_pods), t);
			pthread_mutex_lock(&e->lock);
			e->n_added++;
			e->last_added = t;
			pthread_mutex_unlock(&e->lock);
		}
		if (ev.type == STORE_EVENT_PUT && strstr(ev.value, "\"nodeName\"") &&
		    (!ev.prev_value || !strstr(ev.prev_value, "\"nodeName\"")))
			note_bound(e, ev.key, t);
		store_event_clear(&ev);
	}
	return NULL;
}

/* Waits until n pods are bound or WAIT_S pass; the time of the last binding seen, or -1. */
static int64_t wait_bound(struct bench_env *e, int n)
{
	struct timespec dl;
	int64_t r = -1;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_S;
	pthread_mutex_lock(&e->lock);
	while (e->n_bound < n)
		if (pthread_cond_timedwait(&e->cond, &e->lock, &dl) == ETIMEDOUT)
			break;
	if (e->n_bound >= n)
		r = e->last_bound;
	else
		fprintf(stderr, "bench_sched: only %d of %d pods bound after %d s\n", e->n_bound, n, WAIT_S);
	pthread_mutex_unlock(&e->lock);
	return r;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int env_open(struct bench_env *e, const char *name, int n_pods)
{
	struct store_options o;
	char path[4200];

	*e = (struct bench_env){ .n_pods = n_pods };
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	snprintf(e->dir, sizeof(e->dir), "%s/%s", base_dir, name);
	if (mkdir(e->dir, 0700) < 0)
		return -errno;
	store_options_init(&o); /* durable (synchronous=FULL) with group commit */
	o.compact_interval_seconds = 0;
	snprintf(path, sizeof(path), "%s/store.db", e->dir);
	e->store = store_open_sqlite(path, &o);
	if (!e->store)
		return -errno;
	e->reg = registry_new(e->store, NULL);
	if (!e->reg)
		return -errno;
	e->st.created = calloc(n_pods, sizeof(int64_t));
	e->st.added = calloc(n_pods, sizeof(int64_t));
	e->st.queued = calloc(n_pods, sizeof(int64_t));
	e->st.popped = calloc(n_pods, sizeof(int64_t));
	e->st.committed = calloc(n_pods, sizeof(int64_t));
	e->st.bound = calloc(n_pods, sizeof(int64_t));
	if (!e->st.created || !e->st.added || !e->st.queued || !e->st.popped || !e->st.committed || !e->st.bound)
		return -ENOMEM;
	return 0;
}

static int env_start(struct bench_env *e, bool controllers)
{
	struct scheduler_options so;
	int rc = store_watch_new(e->store, "/registry/pods/", store_revision(e->store), &e->watch);

	if (rc < 0)
		return rc;
	rc = -pthread_create(&e->watcher, NULL, watcher_main, e);
	if (rc < 0)
		return rc;
	e->watching = true;
	scheduler_options_init(&so);
	if (bind_workers > 0)
		so.bind_workers = bind_workers;
	so.trace = trace;
	so.trace_arg = e;
	e->sched = scheduler_start(e->reg, &so);
	if (!e->sched)
		return -errno;
	if (controllers && !(e->ctrls = controllers_start(e->reg, NULL)))
		return -errno;
	return 0;
}

static void env_close(struct bench_env *e)
{
	controllers_stop(e->ctrls);
	scheduler_stop(e->sched);
	atomic_store(&e->stop, true);
	if (e->watching)
		pthread_join(e->watcher, NULL);
	store_watch_free(e->watch);
	if (e->reg)
		registry_free(e->reg);
	if (e->store)
		store_close(e->store);
	free(e->st.created);
	free(e->st.added);
	free(e->st.queued);
	free(e->st.popped);
	free(e->st.committed);
	free(e->st.bound);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	nftw(e->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* An object as the registry would store it for body (a dry-run create), or NULL. */
static json_object *registry_shaped(struct registry *reg, const char *res, const char *ns, const char *body)
{
	const struct write_options wo = { .dry_run = true, .field_manager = "bench" };
	struct api_status st = { 0 };
	const char *err;
	json_object *in = json_parse_buffer(body, strlen(body), &err), *out = NULL;
	int rc = in ? registry_create(reg, resource_by_name(res), ns, NULL, NULL, in, &wo, &out, &st) : -EINVAL;

	if (rc < 0)
		fprintf(stderr, "bench_sched: template %s: %s\n", res, st.message ? st.message : strerror(-rc));
	api_status_clear(&st);
	json_object_put(in);
	return rc < 0 ? NULL : out;
}

/* The stored form of tmpl renamed to name, with a fresh uid. */
static char *clone_stored(json_object *tmpl, const char *name)
{
	json_object *meta = json_object_object_get(tmpl, "metadata"), *labels;
	char uid[META_UID_LEN];

	if (meta_new_uid(uid) < 0)
		return NULL;
	json_object_object_add(meta, "name", json_object_new_string(name));
	json_object_object_add(meta, "uid", json_object_new_string(uid));
	labels = json_object_object_get(meta, "labels");
	if (labels && json_object_object_get(labels, "kubernetes.io/hostname"))
		json_object_object_add(labels, "kubernetes.io/hostname", json_object_new_string(name));
	return meta_to_stored(tmpl);
}

/* Up to TXN_CHUNK creates, prepared ahead so that only the store's work is timed. */
struct chunk {
	struct store_op *ops;
	char **keys, **vals;
	int from, n;
};

static void chunks_free(struct chunk *c, int n_chunks)
{
	for (int k = 0; c && k < n_chunks; k++) {
		for (int i = 0; i < c[k].n; i++) {
			free(c[k].keys[i]);
			free(c[k].vals[i]);
		}
		free(c[k].keys);
		free(c[k].vals);
		free(c[k].ops);
	}
	free(c);
}

static int chunk_prepare(struct chunk *c, json_object *tmpl, const char *prefix, const char *name_prefix)
{
	c->ops = calloc(c->n, sizeof(*c->ops));
	c->keys = calloc(c->n, sizeof(*c->keys));
	c->vals = calloc(c->n, sizeof(*c->vals));
	if (!c->ops || !c->keys || !c->vals)
		return -ENOMEM;
	for (int i = 0; i < c->n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s%d", name_prefix, c->from + i);
		c->vals[i] = clone_stored(tmpl, name);
		if (!c->vals[i] || asprintf(&c->keys[i], "%s%s", prefix, name) < 0)
			return -ENOMEM;
		c->ops[i] = (struct store_op){ .type = STORE_OP_CREATE, .key = c->keys[i], .value = c->vals[i] };
	}
	return 0;
}

/* n clones of tmpl named <name_prefix>0.. as *ret_n chunks, or NULL. */
static struct chunk *bulk_prepare(json_object *tmpl, const char *prefix, const char *name_prefix, int n,
				  int *ret_n)
{
	int n_chunks = (n + TXN_CHUNK - 1) / TXN_CHUNK;
	struct chunk *c = calloc(n_chunks, sizeof(*c));

	for (int k = 0; c && k < n_chunks; k++) {
		c[k].from = k * TXN_CHUNK;
		c[k].n = n - c[k].from < TXN_CHUNK ? n - c[k].from : TXN_CHUNK;
		if (chunk_prepare(&c[k], tmpl, prefix, name_prefix) < 0) {
			chunks_free(c, n_chunks);
			return NULL;
		}
	}
	*ret_n = n_chunks;
	return c;
}

/* One txn after another, as a fast client would send them; created[i]: its txn's return. */
static int bulk_commit(struct store *s, struct chunk *c, int n_chunks, int64_t *created)
{
	for (int k = 0; k < n_chunks; k++) {
		int rc = store_txn(s, c[k].ops, c[k].n, NULL, NULL);
		int64_t t = now_ns();

		if (rc < 0)
			return rc;
		for (int i = 0; created && i < c[k].n; i++)
			created[c[k].from + i] = t;
	}
	return 0;
}

static int bulk_create(struct store *s, json_object *tmpl, const char *prefix, const char *name_prefix, int n)
{
	int n_chunks = 0, rc;
	struct chunk *c = bulk_prepare(tmpl, prefix, name_prefix, n, &n_chunks);

	if (!c)
		return -ENOMEM;
	rc = bulk_commit(s, c, n_chunks, NULL);
	chunks_free(c, n_chunks);
	return rc;
}

/* Enough GPUs that every case's pods fit with room to choose. */
static int gpus_per_node(int nodes)
{
	int need = (PODS * 5 / 4 + nodes - 1) / nodes;

	return need > 8 ? need : 8;
}

static int add_nodes(struct bench_env *e, int n, bool gpu)
{
	char body[1024], gpus[64] = "";
	_cleanup_json_ json_object *tmpl = NULL;
	const char *err;
	json_object *status;

	tmpl = registry_shaped(e->reg, "nodes", NULL,
			       "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n-0\","
			       "\"labels\":{\"kubernetes.io/hostname\":\"n-0\",\"kubernetes.io/os\":\"linux\"}}}");
	if (!tmpl)
		return -EINVAL;
	/* What a kubelet's status patch leaves there. */
	if (gpu)
		snprintf(gpus, sizeof(gpus), ",\"nvidia.com/gpu\":\"%d\"", gpus_per_node(n));
	snprintf(body, sizeof(body),
		 "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}],"
		 "\"capacity\":{\"cpu\":\"64\",\"memory\":\"256Gi\",\"pods\":\"110\"%s},"
		 "\"allocatable\":{\"cpu\":\"64\",\"memory\":\"256Gi\",\"pods\":\"110\"%s}}",
		 gpus, gpus);
	status = json_parse_buffer(body, strlen(body), &err);
	if (!status)
		return -EINVAL;
	json_object_object_add(tmpl, "status", status);
	return bulk_create(e->store, tmpl, "/registry/nodes/", "n-", n);
}

static const char *pod_body(bool gpu)
{
	return gpu ? "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-0\",\"labels\":{\"app\":\"bench\"}},"
		     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{"
		     "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\",\"nvidia.com/gpu\":\"1\"},"
		     "\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}"
		   : "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-0\",\"labels\":{\"app\":\"bench\"}},"
		     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{"
		     "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}}]}}";
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct dist {
	double p50, p99, max; /* ms */
	int n;
};

/* The distribution of to[i] - from[i] over pods where both were seen. */
static struct dist spread(const int64_t *from, const int64_t *to, int n)
{
	int64_t *d = calloc(n, sizeof(*d));
	struct dist r = { 0 };

	for (int i = 0; d && i < n; i++)
		if (from[i] && to[i])
			d[r.n++] = to[i] > from[i] ? to[i] - from[i] : 0;
	if (r.n > 0) {
		qsort(d, r.n, sizeof(*d), cmp_i64);
		r.p50 = d[r.n / 2] / 1e6;
		r.p99 = d[(r.n * 99 + 99) / 100 - 1] / 1e6;
		r.max = d[r.n - 1] / 1e6;
	}
	free(d);
	return r;
}

struct burst {
	double rate;
	struct dist create_bound, popped_committed;
	int relists;
	double cpu_us_per_pod; /* the whole process's, create to last binding */
	size_t events_then;    /* Scheduled events stored when the last binding was seen */
};

/* PODS pods created up front (10 txns of 1,000, one after another, prepared beforehand)
 * while the scheduler runs on `nodes` nodes; throughput = PODS / (first create started ->
 * last binding on the watch). */
static int run_burst(int nodes, bool gpu, struct burst *r)
{
	struct bench_env e;
	_cleanup_json_ json_object *tmpl = NULL;
	struct chunk *c = NULL;
	char name[64];
	int64_t t0, t_end;
	double cpu0;
	int rc, n_chunks = 0;

	snprintf(name, sizeof(name), "burst-%d-%s", nodes, gpu ? "gpu" : "plain");
	rc = env_open(&e, name, PODS);
	if (rc == 0)
		rc = add_nodes(&e, nodes, gpu);
	if (rc == 0)
		rc = (tmpl = registry_shaped(e.reg, "pods", NS, pod_body(gpu))) ? 0 : -EINVAL;
	if (rc == 0)
		rc = (c = bulk_prepare(tmpl, "/registry/pods/" NS "/", "p-", PODS, &n_chunks)) ? 0 : -ENOMEM;
	if (rc == 0)
		rc = env_start(&e, false);
	t0 = now_ns();
	cpu0 = cpu_s();
	if (rc == 0)
		rc = bulk_commit(e.store, c, n_chunks, e.st.created);
	/* The txns' commit times stand for creation: the watch sees them only after. */
	if (rc == 0 && (t_end = wait_bound(&e, PODS)) < 0)
		rc = -ETIMEDOUT;
	if (rc == 0) {
		r->rate = PODS / ((t_end - t0) / 1e9);
		r->create_bound = spread(e.st.created, e.st.bound, PODS);
		r->popped_committed = spread(e.st.popped, e.st.committed, PODS);
		r->relists = e.relists;
		r->cpu_us_per_pod = (cpu_s() - cpu0) * 1e6 / PODS;
		store_count(e.store, "/registry/events/", &r->events_then);
	}
	chunks_free(c, n_chunks);
	env_close(&e);
	return rc;
}

static int create_pod(struct registry *reg, const char *body_fmt, int i)
{
	const struct write_options wo = { .field_manager = "bench" };
	_cleanup_json_ json_object *in = NULL, *out = NULL;
	struct api_status st = { 0 };
	char name[32];
	const char *err;
	int rc;

	in = json_parse_buffer(body_fmt, strlen(body_fmt), &err);
	if (!in)
		return -EINVAL;
	snprintf(name, sizeof(name), "p-%d", i);
	json_object_object_add(json_object_object_get(in, "metadata"), "name", json_object_new_string(name));
	rc = registry_create(reg, resource_by_name("pods"), NS, NULL, NULL, in, &wo, &out, &st);
	if (rc < 0)
		fprintf(stderr, "bench_sched: create %s: %s\n", name, st.message ? st.message : strerror(-rc));
	api_status_clear(&st);
	return rc;
}

struct paced {
	double rate;
	struct dist queued_committed, create_bound;
};

/* PACED_PODS pods created one at a time through the registry, PACED_GAP_US apart. */
static int run_paced(int nodes, bool gpu, struct paced *r)
{
	struct bench_env e;
	char name[64];
	int64_t t0, t_end;
	int rc;

	snprintf(name, sizeof(name), "paced-%d-%s", nodes, gpu ? "gpu" : "plain");
	rc = env_open(&e, name, PACED_PODS);
	if (rc == 0)
		rc = add_nodes(&e, nodes, gpu);
	if (rc == 0)
		rc = env_start(&e, false);
	t0 = now_ns();
	for (int i = 0; i < PACED_PODS && rc == 0; i++) {
		rc = create_pod(e.reg, pod_body(gpu), i);
		usleep(PACED_GAP_US);
	}
	if (rc == 0 && (t_end = wait_bound(&e, PACED_PODS)) < 0)
		rc = -ETIMEDOUT;
	if (rc == 0) {
		r->rate = PACED_PODS / ((t_end - t0) / 1e9);
		r->queued_committed = spread(e.st.queued, e.st.committed, PACED_PODS);
		r->create_bound = spread(e.st.added, e.st.bound, PACED_PODS);
	}
	env_close(&e);
	return rc;
}

/* Waits (at most 10 s) until the store's revision holds still for 300 ms: the
 * controllers' start-up writes are done. */
static void settle(struct store *s)
{
	int64_t last = -1;
	int still = 0;

	for (int i = 0; i < 100 && still < 3; i++) {
		int64_t rev = store_revision(s);

		still = rev == last ? still + 1 : 0;
		last = rev;
		usleep(100000);
	}
}

/* An RC at 0 replicas scaled to RC_REPLICAS; seconds from the scale write to the last
 * binding on the watch, or -1. */
static int run_rc(double *ret_s, double *ret_created_s)
{
	const struct write_options wo = { .field_manager = "bench" };
	const char *rc_body =
		"{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":\"rc\"},"
		"\"spec\":{\"replicas\":0,\"selector\":{\"app\":\"rc\"},\"template\":{\"metadata\":{\"labels\":"
		"{\"app\":\"rc\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":"
		"{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}}]}}}}";
	const char *scale = "{\"spec\":{\"replicas\":1000}}";
	_cleanup_json_ json_object *in = NULL, *out = NULL, *out2 = NULL;
	struct api_status st = { 0 };
	struct bench_env e;
	const char *err;
	bool created = false;
	int64_t t0, t_end;
	int rc;

	rc = env_open(&e, "rc", 1);
	if (rc == 0)
		rc = add_nodes(&e, RC_NODES, false);
	if (rc == 0)
		rc = env_start(&e, true);
	if (rc == 0)
		rc = (in = json_parse_buffer(rc_body, strlen(rc_body), &err)) ? 0 : -EINVAL;
	if (rc == 0)
		rc = registry_create(e.reg, resource_by_name("replicationcontrollers"), NS, NULL, NULL, in, &wo, &out,
				     &st);
	if (rc == 0)
		settle(e.store);
	t0 = now_ns();
	if (rc == 0)
		rc = registry_patch(e.reg, resource_by_name("replicationcontrollers"), NS, "rc", NULL,
				    "application/merge-patch+json", scale, strlen(scale), &wo, &out2, &created, &st);
	if (rc < 0 && st.message)
		fprintf(stderr, "bench_sched: rc: %s\n", st.message);
	api_status_clear(&st);
	if (rc == 0 && (t_end = wait_bound(&e, RC_REPLICAS)) < 0)
		rc = -ETIMEDOUT;
	if (rc == 0) {
		*ret_s = (t_end - t0) / 1e9;
		pthread_mutex_lock(&e.lock);
		*ret_created_s = e.n_added >= RC_REPLICAS ? (e.last_added - t0) / 1e9 : -1;
		pthread_mutex_unlock(&e.lock);
	}
	env_close(&e);
	return rc;
}

static const char *verdict(bool ok)
{
	return ok ? "met" : "not met";
}

static void burst_rows(void)
{
	static const int nodes[] = { 100, 1000, 5000 };
	char extra[4096] = "";
	size_t off = 0;

	for (int g = 0; g < 2; g++)
		for (size_t k = 0; k < sizeof(nodes) / sizeof(nodes[0]); k++) {
			int target = nodes[k] == 1000 ? 10000 : nodes[k] == 5000 ? 5000 : 0;
			struct burst b = { 0 };
			int rc;
			char tgt[32] = "-";

			if (only_nodes && only_nodes != nodes[k])
				continue;
			rc = run_burst(nodes[k], g, &b);
			if (target && (!g || nodes[k] == 5000))
				snprintf(tgt, sizeof(tgt), ">= %d pods/s", target);
			if (rc < 0) {
				printf("| burst: %d %s pods, %d nodes | failed (%s) | | | %s | %s |\n", PODS,
				       g ? "GPU" : "cpu/mem", nodes[k], strerror(-rc), tgt,
				       strcmp(tgt, "-") ? "not met (failed)" : "-");
				continue;
			}
			printf("| burst: %d %s pods, %d nodes | %.0f | %.1f ms | %.1f ms | %s | %s |\n", PODS,
			       g ? "GPU" : "cpu/mem", nodes[k], b.rate, b.create_bound.p50, b.create_bound.p99, tgt,
			       strcmp(tgt, "-") ? verdict(b.rate >= target) : "-");
			fflush(stdout);
			off += snprintf(extra + off, sizeof(extra) - off,
					"- burst %s, %d nodes: popped -> bind committed p50 %.2f ms, p99 %.2f ms, "
					"max %.2f ms; process CPU %.0f us per pod%s\n",
					g ? "GPU" : "cpu/mem", nodes[k], b.popped_committed.p50, b.popped_committed.p99,
					b.popped_committed.max, b.cpu_us_per_pod,
					b.relists ? " (the bench's watch fell behind and listed again)" : "");
			if (off >= sizeof(extra))
				off = sizeof(extra) - 1;
		}
	printf("\nPer decision within the bursts (taken off the queue -> its binding committed; "
	       "includes the wait for a free bind worker and the group commit):\n\n%s\n",
	       extra);
}

static void paced_rows(void)
{
	static const struct {
		int nodes;
		bool gpu;
	} cases[] = { { 1000, false }, { 5000, true } };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct paced p = { 0 };
		int rc = run_paced(cases[k].nodes, cases[k].gpu, &p);
		const char *what = cases[k].gpu ? "GPU" : "cpu/mem";

		if (rc < 0) {
			printf("| paced %s, %d nodes: queued -> bind committed | failed (%s) | | | p99 <= 10 ms | "
			       "not met (failed) |\n",
			       what, cases[k].nodes, strerror(-rc));
			continue;
		}
		printf("| paced: %d %s pods one by one, %d nodes: queued -> bind committed | %.0f | %.2f ms | "
		       "%.2f ms | p99 <= 10 ms | %s |\n",
		       PACED_PODS, what, cases[k].nodes, p.rate, p.queued_committed.p50, p.queued_committed.p99,
		       verdict(p.queued_committed.p99 <= 10.0));
		printf("| paced: same pods, create -> bound (both on a store watch) | %.0f | %.2f ms | %.2f ms | - "
		       "| - |\n",
		       p.rate, p.create_bound.p50, p.create_bound.p99);
		fflush(stdout);
	}
}

static void rc_row(void)
{
	double s = 0, created = 0;
	int rc = run_rc(&s, &created);

	if (rc < 0) {
		printf("| RC 0 -> %d replicas, %d nodes, until all bound | failed (%s) | | | <= 0.5 s | not met "
		       "(failed) |\n",
		       RC_REPLICAS, RC_NODES, strerror(-rc));
		return;
	}
	printf("| RC 0 -> %d replicas, %d nodes, scale write -> all bound (all created after %.3f s) | %.0f | | "
	       "%.3f s (all) | <= 0.5 s | %s |\n",
	       RC_REPLICAS, RC_NODES, created, RC_REPLICAS / s, s, verdict(s <= 0.5));
}

/* Same run, same machine load: the 1,000-node burst under scheduler variants, interleaved. */
static void ab_rows(void)
{
	static const struct {
		int workers;
	} v[] = { { 32 }, { 64 }, { 128 } };
	int saved = bind_workers;

	for (int round = 0; round < 3; round++)
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			struct burst b = { 0 };
			int rc;

			bind_workers = v[k].workers;
			rc = run_burst(only_nodes ? only_nodes : 1000, false, &b);
			printf("| A/B round %d, %d bind workers, %d nodes | %.0f | %.1f ms | %.1f ms | "
			       "%.0f us CPU/pod, %zu events | %s |\n",
			       round, v[k].workers, only_nodes ? only_nodes : 1000, b.rate, b.create_bound.p50,
			       b.create_bound.p99, b.cpu_us_per_pod, b.events_then, rc < 0 ? strerror(-rc) : "");
			fflush(stdout);
		}
	bind_workers = saved;
}

int main(int argc, char **argv)
{
	const char *workers = getenv("BENCH_SCHED_BIND_WORKERS");
	const char *only = argc > 2 ? argv[2] : NULL; /* paced, rc or burst: that part only */

	if (argc < 2) {
		fprintf(stderr, "usage: bench_sched DIR (a scratch directory on the data dir's filesystem)\n");
		return 2;
	}
	base_dir = argv[1];
	bind_workers = workers ? atoi(workers) : 0;
	only_nodes = argc > 3 ? atoi(argv[3]) : 0;
	log_set_level(getenv("BENCH_SCHED_LOG_INFO") ? SKIFF_LOG_INFO : SKIFF_LOG_WARN);
	printf("### Scheduler\n\n");
	printf("bench_sched, in-process: durable SQLite store (synchronous=FULL, group commit) under %s, the "
	       "registry, the scheduler (%s bind workers); bindings go through registry_create(pods/binding) "
	       "and the bench reads them from its own store watch. Nodes are written straight into the store "
	       "as the registry shapes them (64 cpu, 256Gi, 110 pods; GPU cases: nvidia.com/gpu as needed, "
	       "at least 8). Pods request 100m cpu and 128Mi (GPU pods also 1 nvidia.com/gpu).\n\n",
	       base_dir, workers ? workers : "default");
	printf("- burst: %d pods created up front, as 10 store txns of 1,000 one after another; pods/s = %d / (first "
	       "create started -> last binding seen on the watch); p50/p99 = create committed -> binding "
	       "seen on the watch, which with all pods queued at once is mostly queueing.\n",
	       PODS, PODS);
	printf("- paced: %d pods created one by one through the registry, %d us apart; p50/p99 = the "
	       "scheduler seeing the pod (queued) -> its binding committed, per pod; pods/s = the create "
	       "rate reached.\n",
	       PACED_PODS, PACED_GAP_US);
	printf("- RC: the controllers run too; replication controller scaled 0 -> %d by a merge patch.\n",
	       RC_REPLICAS);
	printf("- Anchors: kube-scheduler's scheduler_perf floors at 5,000 nodes: 680-810 pods/s (basic "
	       "pods), 180 pods/s (extended resources); Nomad C1M placed ~3,750 containers/s.\n\n");
	printf("| case | pods/s | p50 | p99 | target | verdict |\n|---|---:|---:|---:|---|---|\n");
	fflush(stdout);
	if (!only || strcmp(only, "paced") == 0)
		paced_rows();
	if (!only || strcmp(only, "rc") == 0)
		rc_row();
	if (!only || strcmp(only, "burst") == 0)
		burst_rows();
	if (only && strcmp(only, "ab") == 0)
		ab_rows();
	return 0;
}
