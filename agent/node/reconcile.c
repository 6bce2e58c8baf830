/* Pod reconciliation: start new pods, stop deleting or vanished ones (then confirm the delete),
 * post each pod's status when it differs from the server's. */
#include "node/reconcile.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	char *start_error; /* why the runtime could not start it, for the containers' waiting message */
};

/* Locking: r->lock guards the table and each entry. Only the watch thread (relist/event) adds or
 * drops entries; it lets go of the lock while the runtime stops a pod (up to its grace period),
 * so reconciler_sync and whoever else asks are never held up by a stop. */
struct reconciler {
	struct api_client *api;
	char *node, *host_ip, *wait_reason, *wait_message;
	struct reconcile_runtime rt;
	bool has_rt;
	pthread_mutex_t lock;
	struct entry *pods;
	size_t n, cap;
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
	if (!r->node || !r->wait_reason) {
		reconciler_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void reconciler_free(struct reconciler *r)
{
	if (!r)
		return;
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

/* Posts e's status when the runtime's view differs from the server's copy. */
static int post_status(struct reconciler *r, struct entry *e)
{
	_cleanup_json_ json_object *rts = NULL, *want = NULL, *patch = NULL, *resp = NULL;
	_cleanup_free_ char *path = NULL;
	char now[40];
	int st;

	if (r->has_rt && r->rt.status(r->rt.rt, e->uid, &rts) < 0)
		rts = NULL;
	node_time_format(now, sizeof(now), false);
	want = pod_status_build(&(struct pod_status_input){ .pod = e->pod, .runtime = rts, .host_ip = r->host_ip,
							    .wait_reason = e->start_error ? "CreatePodSandboxError"
											  : r->wait_reason,
							    .wait_message = e->start_error ? e->start_error : r->wait_message,
							    .now = now });
	if (!pod_status_differs(want, json_get_path(e->pod, "status")))
		return 0;
	pod_status_carry_transitions(want, json_get_path(e->pod, "status"));
	if (pod_path(e->pod, "/status", &path) < 0)
		return -ENOMEM;
	patch = json_object_new_object();
	json_object_object_add(patch, "status", json_object_get(want));
	st = api_patch(r->api, path, API_PATCH_MERGE, patch, &resp);
	if (st == 404)
		return 0; /* gone meanwhile: the watch will say so */
	if (!api_status_ok(st))
		return log_warn_errno(st < 0 ? st : -EIO, "pod %s/%s: posting status: %s", pod_ns(e->pod),
				      pod_name(e->pod), st < 0 ? strerror(-st) : api_error_message(resp));
	/* The server's answer is the new truth until the watch brings the same. */
	if (json_get_string(resp, "metadata.uid")) {
		json_object_put(e->pod);
		e->pod = TAKE_PTR(resp);
	}
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

/* One runtime step for a live pod, then its status. The runtime advances a pod one step per
 * start call (next init container, a restart after back-off, an image imported since), so this
 * runs on every event and every sync, not only when the pod changes. Lock held. */
static int step(struct reconciler *r, struct entry *e)
{
	int rc;

	if (r->has_rt && !terminal(e->pod)) {
		rc = r->rt.start(r->rt.rt, e->pod);
		if (rc == -EBUSY)
			return post_status(r, e); /* the runtime is stopping it: nothing to start */
		if (rc < 0 && !e->start_error)
			log_warn_errno(rc, "pod %s/%s: starting: %m", pod_ns(e->pod), pod_name(e->pod));
		free(e->start_error);
		e->start_error = NULL;
		if (rc < 0 && asprintf(&e->start_error, "the runtime could not start the pod: %s", strerror(-rc)) < 0)
			e->start_error = NULL;
	}
	return post_status(r, e);
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
		*e = (struct entry){ .uid = strdup(uid) };
		if (!e->uid)
			return -ENOMEM;
		r->n++;
		log_info("pod %s/%s: bound to this node", pod_ns(pod), pod_name(pod));
	}
	json_object_put(e->pod);
	e->pod = json_object_get(pod);
	e->seen = true;
	if (json_get_path(pod, "metadata.deletionTimestamp"))
		return end_pod(r, e, true);
	return step(r, e);
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

int reconciler_sync(struct reconciler *r)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		if (!r->pods[i].stopping && !json_get_path(r->pods[i].pod, "metadata.deletionTimestamp"))
			step(r, &r->pods[i]);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

size_t reconciler_count(struct reconciler *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}
