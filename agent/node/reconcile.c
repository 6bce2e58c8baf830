/* Pod reconciliation: start new pods (at once, on worker threads woken by the watch), stop
 * deleting or vanished ones (then confirm the delete), post each pod's status when it differs
 * from the server's. */
#include "node/reconcile.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "node/object.h"
#include "node/podstatus.h"

struct entry {
	char *uid;
	json_object *pod; /* latest server copy */
	bool seen;        /* in the current relist */
	bool stopping;    /* a stop is under way (without the lock): no status posts */
	bool dirty;       /* new from the watch: a worker steps it at once */
	bool stepping;    /* a worker or a sync steps it (without the lock): nobody else may */
	bool stop_queued; /* a stopper thread has been started for its deletion */
	char *start_error; /* why the runtime could not start it, for the containers' waiting message */
};

/* Workers stepping new pods: two, so one pod's status post overlaps the next one's start. */
#define N_WORKERS 2

/* Locking: r->lock guards the table and each entry, and is never held across the runtime or
 * an HTTP call. Only the watch thread (relist/event) adds entries; a deleting pod's graceful stop
 * (up to its grace period) runs on a stopper thread of its own, so the watch goes on meanwhile
 * (new pods start while another one is terminating). A step (start + status post)
 * also runs without the lock, marked by e->stepping: one stepper per pod at a time, and a stop
 * waits for a step under way, so a start never follows a pod's stop. */
struct reconciler {
	struct api_client *api;
	char *node, *host_ip, *wait_reason, *wait_message;
	struct reconcile_runtime rt;
	bool has_rt;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a pod became dirty, a step ended, or quit */
	struct entry *pods;
	size_t n, cap;
	pthread_t workers[N_WORKERS];
	size_t n_workers;
	int stoppers; /* stopper threads running (detached): free waits for them */
	bool quit;
};

int reconcile_grace_seconds(json_object *pod)
{
	json_object *g = json_get_path(pod, "metadata.deletionGracePeriodSeconds");

	if (!g)
		g = json_get_path(pod, "spec.terminationGracePeriodSeconds");
	return g ? (int)json_object_get_int64(g) : 30;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void *worker(void *ud);

struct reconciler *reconciler_new(struct api_client *api, const char *node, const char *host_ip,
				  const struct reconcile_runtime *rt, const char *wait_reason, const char *wait_message)
{
	struct reconciler *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->api = api;
	r->node = strdup(node);
	r->host_ip = dup_or_null(host_ip);
	r->wait_reason = dup_or_null(wait_reason ? wait_reason : "ContainerCreating");
	r->wait_message = dup_or_null(wait_message);
	if (rt) {
		r->rt = *rt;
		r->has_rt = true;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (!r->node || !r->wait_reason) {
		reconciler_free(r);
		errno = ENOMEM;
		return NULL;
	}
	for (; r->n_workers < N_WORKERS; r->n_workers++) {
		int e = pthread_create(&r->workers[r->n_workers], NULL, worker, r);

		if (e) {
			reconciler_free(r);
			errno = e;
			return NULL;
		}
	}
	return r;
}

void reconciler_free(struct reconciler *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->quit = true;
	pthread_cond_broadcast(&r->cond);
	/* A graceful stop under way ends within its pod's grace period. */
	while (r->stoppers > 0)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < r->n_workers; i++)
		pthread_join(r->workers[i], NULL);
	for (size_t i = 0; i < r->n; i++) {
		free(r->pods[i].start_error);
		free(r->pods[i].uid);
		json_object_put(r->pods[i].pod);
	}
	free(r->pods);
	free(r->node);
	free(r->host_ip);
	free(r->wait_reason);
	free(r->wait_message);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static struct entry *find(struct reconciler *r, const char *uid)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->pods[i].uid, uid) == 0)
			return &r->pods[i];
	return NULL;
}

static void drop(struct reconciler *r, struct entry *e)
{
	free(e->start_error);
	free(e->uid);
	json_object_put(e->pod);
	*e = r->pods[--r->n];
}

static const char *pod_name(json_object *pod)
{
	return json_get_string(pod, "metadata.name") ?: "";
}

static const char *pod_ns(json_object *pod)
{
	return json_get_string(pod, "metadata.namespace") ?: "default";
}

static int pod_path(json_object *pod, const char *sub, char **ret)
{
	return asprintf(ret, "/api/v1/namespaces/%s/pods/%s%s", pod_ns(pod), pod_name(pod), sub) < 0 ? -ENOMEM : 0;
}

/* Posts the pod's status when the runtime's view differs from the server's copy; *ret_pod is
 * the server's answer (the new truth until the watch brings the same) or NULL. No lock held. */
static int post_status(struct reconciler *r, json_object *pod, const char *uid, const char *start_error,
		       json_object **ret_pod)
{
	_cleanup_json_ json_object *rts = NULL, *want = NULL, *patch = NULL, *resp = NULL;
	_cleanup_free_ char *path = NULL;
	char now[40];
	int st;

	*ret_pod = NULL;
	if (r->has_rt && r->rt.status(r->rt.rt, uid, &rts) < 0)
		rts = NULL;
	node_time_format(now, sizeof(now), false);
	want = pod_status_build(&(struct pod_status_input){ .pod = pod, .runtime = rts, .host_ip = r->host_ip,
							    .wait_reason = start_error ? "CreatePodSandboxError"
										       : r->wait_reason,
							    .wait_message = start_error ? start_error : r->wait_message,
							    .now = now });
	if (!pod_status_differs(want, json_get_path(pod, "status")))
		return 0;
	pod_status_carry_transitions(want, json_get_path(pod, "status"));
	if (pod_path(pod, "/status", &path) < 0)
		return -ENOMEM;
	patch = json_object_new_object();
	json_object_object_add(patch, "status", json_object_get(want));
	st = api_patch(r->api, path, API_PATCH_MERGE, patch, &resp);
	if (st == 404)
		return 0; /* gone meanwhile: the watch will say so */
	if (!api_status_ok(st))
		return log_warn_errno(st < 0 ? st : -EIO, "pod %s/%s: posting status: %s", pod_ns(pod), pod_name(pod),
				      st < 0 ? strerror(-st) : api_error_message(resp));
	if (json_get_string(resp, "metadata.uid"))
		*ret_pod = TAKE_PTR(resp);
	return 0;
}

/* The pod is to end: stop it in the runtime, then tell the server it is gone. */
static int finish(struct reconciler *r, json_object *pod, const char *uid)
{
	_cleanup_json_ json_object *opts = json_object_new_object(), *pre = json_object_new_object(), *resp = NULL;
	_cleanup_free_ char *path = NULL;
	int grace = reconcile_grace_seconds(pod), rc, st;

	if (r->has_rt) {
		rc = r->rt.stop(r->rt.rt, uid, grace);
		if (rc < 0)
			return log_warn_errno(rc, "pod %s/%s: stopping: %m", pod_ns(pod), pod_name(pod));
	}
	log_info("pod %s/%s: stopped, confirming the deletion", pod_ns(pod), pod_name(pod));
	if (pod_path(pod, "", &path) < 0)
		return -ENOMEM;
	json_object_object_add(opts, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(opts, "kind", json_object_new_string("DeleteOptions"));
	json_object_object_add(opts, "gracePeriodSeconds", json_object_new_int(0));
	json_object_object_add(pre, "uid", json_object_new_string(uid));
	json_object_object_add(opts, "preconditions", json_object_get(pre));
	st = api_delete(r->api, path, opts, &resp);
	/* 404 / 409: already gone, or a new pod with that name: either way not ours to delete. */
	if (!api_status_ok(st) && st != 404 && st != 409)
		return log_warn_errno(st < 0 ? st : -EIO, "pod %s/%s: confirming the deletion: %s", pod_ns(pod),
				      pod_name(pod), st < 0 ? strerror(-st) : api_error_message(resp));
	return 0;
}

/* Stops e's pod with the lock let go: confirm (a deleting pod) asks the server to remove it
 * afterwards; otherwise (the server already forgot it) it stops at once. Lock held on entry
 * and return; the entry is dropped once its pod is stopped. */
static int end_pod(struct reconciler *r, struct entry *e, bool confirm)
{
	_cleanup_json_ json_object *pod = json_object_get(e->pod);
	_cleanup_free_ char *uid = strdup(e->uid);
	int rc = 0;

	if (e->stopping || !uid)
		return uid ? 0 : -ENOMEM;
	/* A step under way may be starting the pod: let it finish, or the stop could come first. */
	while (e->stepping) {
		pthread_cond_wait(&r->cond, &r->lock);
		e = find(r, uid);
		if (!e || e->stopping)
			return 0;
	}
	e->stopping = true;
	pthread_mutex_unlock(&r->lock);
	if (confirm) {
		rc = finish(r, pod, uid);
	} else {
		if (r->has_rt && (rc = r->rt.stop(r->rt.rt, uid, 0)) < 0)
			log_warn_errno(rc, "pod %s/%s: stopping a pod the server no longer has: %m", pod_ns(pod),
				       pod_name(pod));
		else
			log_info("pod %s/%s: gone from the server, stopped", pod_ns(pod), pod_name(pod));
	}
	pthread_mutex_lock(&r->lock);
	e = find(r, uid);
	if (!e)
		return rc;
	e->stopping = false; /* a failed stop is retried with the next event or list */
	if (rc >= 0)
		drop(r, e);
	return rc;
}

static bool terminal(json_object *pod)
{
	const char *phase = json_get_string(pod, "status.phase");

	return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/* The runtime's start for a pod; the new start error (NULL: none) in *ret_error. No lock held. */
static void start_pod(struct reconciler *r, json_object *pod, bool had_error, char **ret_error, bool *ret_busy)
{
	int rc = r->rt.start(r->rt.rt, pod);

	*ret_error = NULL;
	*ret_busy = rc == -EBUSY; /* the runtime is stopping it: nothing to start */
	if (rc >= 0 || *ret_busy)
		return;
	if (!had_error)
		log_warn_errno(rc, "pod %s/%s: starting: %m", pod_ns(pod), pod_name(pod));
	if (asprintf(ret_error, "the runtime could not start the pod: %s", strerror(-rc)) < 0)
		*ret_error = NULL;
}

/* One runtime step for a live pod, then its status, with the lock let go meanwhile (lock held on
 * entry and return; e may move). The runtime advances a pod one step per start call (next init
 * container, a restart after back-off, an image imported since), so this runs for a new pod and
 * on every sync, not only when the pod changes. */
static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int step(struct reconciler *r, struct entry *e, bool timed)
{
	struct timespec t0, t1;
	_cleanup_json_ json_object *pod = json_object_get(e->pod), *fresh = NULL;
	_cleanup_free_ char *uid = strdup(e->uid), *err = NULL;
	bool busy = false, had_error = e->start_error != NULL;
	int rc;

	if (!uid)
		return -ENOMEM;
	e->stepping = true;
	err = e->start_error ? strdup(e->start_error) : NULL;
	pthread_mutex_unlock(&r->lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t1 = t0;
	if (r->has_rt && !terminal(pod)) {
		char *now_error = NULL;

		start_pod(r, pod, had_error, &now_error, &busy);
		if (!busy) {
			free(err);
			err = now_error;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
	}
	rc = post_status(r, pod, uid, err, &fresh);
	/* Where a new pod's start goes (profiling: --log-level debug). */
	if (timed)
		log_debug("pod %s/%s: first step: runtime %.1f ms, then status %.1f ms", pod_ns(pod), pod_name(pod),
			  ms_since(&t0) - ms_since(&t1), ms_since(&t1));
	pthread_mutex_lock(&r->lock);
	e = find(r, uid);
	if (e) {
		e->stepping = false;
		free(e->start_error);
		e->start_error = TAKE_PTR(err);
		/* Unless the watch brought a newer copy meanwhile. */
		if (fresh && e->pod == pod) {
			json_object_put(e->pod);
			e->pod = TAKE_PTR(fresh);
		}
	}
	pthread_cond_broadcast(&r->cond);
	return rc;
}

static bool deleting(struct entry *e)
{
	return json_get_path(e->pod, "metadata.deletionTimestamp") != NULL;
}

static struct entry *next_dirty(struct reconciler *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->pods[i].dirty && !r->pods[i].stepping && !r->pods[i].stopping)
			return &r->pods[i];
	return NULL;
}

/* Steps each pod the watch brought new, at once: the watch thread only marks it, so a burst of
 * new pods never holds up the stream (a deletion, DELETED or a re-list). */
static void *worker(void *ud)
{
	struct reconciler *r = ud;
	struct entry *e;

	pthread_mutex_lock(&r->lock);
	while (!r->quit) {
		e = next_dirty(r);
		if (!e) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		e->dirty = false;
		if (!deleting(e))
			step(r, e, true);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct stopper {
	struct reconciler *r;
	char *uid;
};

static void *stopper_main(void *ud)
{
	struct stopper *st = ud;
	struct reconciler *r = st->r;
	struct entry *e;

	pthread_mutex_lock(&r->lock);
	e = find(r, st->uid);
	if (e && deleting(e))
		end_pod(r, e, true);
	e = find(r, st->uid);
	if (e)
		e->stop_queued = false; /* a failed stop is tried again with the next event or list */
	r->stoppers--;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	free(st->uid);
	free(st);
	return NULL;
}

/* A deleting pod's stop on a thread of its own (lock held): its grace period must not hold up
 * the watch, and so the start of other pods. Synchronous when no thread can be had. */
static int end_pod_async(struct reconciler *r, struct entry *e)
{
	struct stopper *st;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (e->stop_queued || e->stopping)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->uid = strdup(e->uid))) {
		free(st);
		return end_pod(r, e, true);
	}
	st->r = r;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, stopper_main, st);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(st->uid);
		free(st);
		return end_pod(r, e, true);
	}
	e->stop_queued = true;
	r->stoppers++;
	return 0;
}

/* An ADDED/MODIFIED pod (or one in a relist), lock held. */
static int apply(struct reconciler *r, json_object *pod)
{
	const char *uid = json_get_string(pod, "metadata.uid"), *node = json_get_string(pod, "spec.nodeName");
	struct entry *e;

	if (!uid || !node || strcmp(node, r->node) != 0)
		return 0;
	e = find(r, uid);
	if (!e) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 16;
			struct entry *np = realloc(r->pods, cap * sizeof(*np));

			if (!np)
				return -ENOMEM;
			r->pods = np;
			r->cap = cap;
		}
		e = &r->pods[r->n];
		*e = (struct entry){ .uid = strdup(uid), .dirty = true };
		if (!e->uid)
			return -ENOMEM;
		r->n++;
		log_info("pod %s/%s: bound to this node", pod_ns(pod), pod_name(pod));
		pthread_cond_broadcast(&r->cond);
	}
	json_object_put(e->pod);
	e->pod = json_object_get(pod);
	e->seen = true;
	/* A known pod's changes (mostly its own status coming back) wait for the next sync. */
	if (deleting(e))
		return end_pod_async(r, e);
	return 0;
}

static void forget(struct reconciler *r, struct entry *e)
{
	end_pod(r, e, false);
}

/* Runtime pods the server no longer has (deleted while this agent was away): stop them. */
static void stop_orphans(struct reconciler *r)
{
	char **uids = NULL;
	int rc;

	if (!r->has_rt || !r->rt.list || r->rt.list(r->rt.rt, &uids) < 0 || !uids)
		return;
	for (char **u = uids; *u; u++) {
		if (find(r, *u))
			continue;
		log_info("pod uid %s: running here but gone from the server, stopping it", *u);
		rc = r->rt.stop(r->rt.rt, *u, 0);
		if (rc < 0)
			log_warn_errno(rc, "pod uid %s: stopping: %m", *u);
	}
	if (r->rt.uids_free)
		r->rt.uids_free(uids);
}

static int on_relist(void *ud, json_object *items)
{
	struct reconciler *r = ud;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		r->pods[i].seen = false;
	for (size_t i = 0; i < json_object_array_length(items); i++)
		apply(r, json_object_array_get_idx(items, i));
	for (size_t i = r->n; i-- > 0;)
		if (!r->pods[i].seen)
			forget(r, &r->pods[i]);
	stop_orphans(r);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int on_event(void *ud, const char *type, json_object *pod)
{
	struct reconciler *r = ud;
	const char *uid = json_get_string(pod, "metadata.uid");
	struct entry *e;

	pthread_mutex_lock(&r->lock);
	if (strcmp(type, "DELETED") == 0) {
		if (uid && (e = find(r, uid)))
			forget(r, e);
	} else {
		apply(r, pod);
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const struct api_watch_ops reconciler_watch_ops = { .relist = on_relist, .event = on_event };

/* The uids of the pods a sync steps (live, not stopping), so the table may change meanwhile.
 * A pod the workers have yet to step is theirs: stepping it here too would start it twice
 * over, holding the runtime up for the other new pods of a burst. */
static char **sync_uids(struct reconciler *r)
{
	char **uids = calloc(r->n + 1, sizeof(*uids));
	size_t k = 0;

	for (size_t i = 0; uids && i < r->n; i++)
		if (!r->pods[i].stopping && !r->pods[i].dirty && !deleting(&r->pods[i]) &&
		    !(uids[k++] = strdup(r->pods[i].uid)))
			k--;
	return uids;
}

int reconciler_sync(struct reconciler *r)
{
	struct timespec t0;
	char **uids;
	struct entry *e;
	size_t n = 0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&r->lock);
	uids = sync_uids(r);
	rc = uids ? 0 : -ENOMEM;
	for (size_t i = 0; uids && uids[i]; i++) {
		/* New pods first: the runtime takes one call at a time, and a burst's starts would
		 * otherwise queue behind the periodic steps of every pod already running. */
		while (!r->quit && next_dirty(r))
			pthread_cond_wait(&r->cond, &r->lock);
		/* A worker's step under way: wait for it, the sync still takes its own step. */
		while ((e = find(r, uids[i])) && e->stepping)
			pthread_cond_wait(&r->cond, &r->lock);
		if (e && !e->stopping && !deleting(e)) {
			step(r, e, false);
			n++;
		}
		free(uids[i]);
	}
	pthread_mutex_unlock(&r->lock);
	free(uids);
	/* What the periodic steps cost (profiling: --log-level debug). */
	if (n)
		log_debug("sync: %zu pods stepped in %.1f ms", n, ms_since(&t0));
	return rc;
}

size_t reconciler_count(struct reconciler *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}
