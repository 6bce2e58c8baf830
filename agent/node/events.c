/* The event recorder (see events.h). One table of recent events under a lock: emit counts an
 * entry up (or adds one) and wakes the thread; the thread POSTs an entry's first occurrence
 * at once and PATCHes count and lastTimestamp of repeats at most every REPEAT_MS, so a pod in
 * a loop costs one request every few seconds, not one per occurrence. */
#include "node/events.h"

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

#include "api/meta.h"
#include "controllers/events.h"

#define MAX_ENTRIES 512
#define REPEAT_MS 2000
#define FREE_FLUSH_MS 1000

enum { K_NS, K_POD, K_UID, K_FIELD, K_TYPE, K_REASON, K_MSG, N_KEYS };

struct ev_entry {
	char *key[N_KEYS];
	char *name;        /* the Event's name on the server once created */
	int count, posted; /* occurrences, and how many the server has */
	time_t first, last;
	int64_t posted_ms; /* monotonic time of the last request */
	bool sending;      /* a request about it is under way: it stays in the table */
};

struct event_recorder {
	struct api_client *api;
	char *node;
	pthread_mutex_t lock;
	pthread_cond_t wake, progress;
	pthread_t thread;
	bool stop, busy;
	struct ev_entry *entries[MAX_ENTRIES];
	size_t n;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CLOCK_REALTIME ms from now, for pthread_cond_timedwait. */
static struct timespec abs_after(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static void entry_free(struct ev_entry *e)
{
	if (!e)
		return;
	for (int i = 0; i < N_KEYS; i++)
		free(e->key[i]);
	free(e->name);
	free(e);
}

static bool entry_dirty(const struct ev_entry *e)
{
	return e->count != e->posted;
}

/* The Event object of e as it stands, for a create. */
static json_object *event_json(struct event_recorder *rec, const struct ev_entry *e)
{
	_cleanup_json_ json_object *pod = json_object_new_object();
	json_object *ev, *m = json_object_new_object(), *inv;
	char first[META_TIMESTAMP_LEN], last[META_TIMESTAMP_LEN];

	json_object_object_add(pod, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(pod, "kind", json_object_new_string("Pod"));
	json_object_object_add(m, "name", json_object_new_string(e->key[K_POD]));
	json_object_object_add(m, "namespace", json_object_new_string(e->key[K_NS]));
	json_object_object_add(m, "uid", json_object_new_string(e->key[K_UID]));
	json_object_object_add(pod, "metadata", m);
	ev = event_build(pod, EVENT_COMPONENT, e->key[K_TYPE], e->key[K_REASON], e->key[K_MSG]);
	if (!ev)
		return NULL;
	inv = json_get_path(ev, "involvedObject");
	if (inv && e->key[K_FIELD][0])
		json_object_object_add(inv, "fieldPath", json_object_new_string(e->key[K_FIELD]));
	json_object_object_add(json_get_path(ev, "source"), "host", json_object_new_string(rec->node));
	json_object_object_add(ev, "reportingInstance", json_object_new_string(rec->node));
	meta_timestamp(e->first, first);
	meta_timestamp(e->last, last);
	json_object_object_add(ev, "firstTimestamp", json_object_new_string(first));
	json_object_object_add(ev, "lastTimestamp", json_object_new_string(last));
	json_object_object_add(ev, "count", json_object_new_int(e->count));
	return ev;
}

/* Sends e's news: a create the first time, a count patch afterwards. Lock held on entry and
 * return, let go for the request. A failure drops this news (events are best effort); a
 * patched Event that is gone (expired, deleted) is created anew next time. */
static void post_entry(struct event_recorder *rec, struct ev_entry *e)
{
	_cleanup_json_ json_object *body = NULL, *resp = NULL;
	_cleanup_free_ char *path = NULL, *name = e->name ? strdup(e->name) : NULL;
	char last[META_TIMESTAMP_LEN];
	int count = e->count, st;

	if (name) {
		meta_timestamp(e->last, last);
		body = json_object_new_object();
		json_object_object_add(body, "count", json_object_new_int(count));
		json_object_object_add(body, "lastTimestamp", json_object_new_string(last));
	} else {
		body = event_json(rec, e);
	}
	if (!body || asprintf(&path, "/api/v1/namespaces/%s/events%s%s", e->key[K_NS], name ? "/" : "",
			      name ? name : "") < 0) {
		path = NULL;
		e->posted = count;
		return;
	}
	e->posted = count;
	e->posted_ms = mono_ms();
	rec->busy = e->sending = true;
	pthread_mutex_unlock(&rec->lock);
	st = name ? api_patch(rec->api, path, API_PATCH_MERGE, body, &resp) : api_create(rec->api, path, body, &resp);
	pthread_mutex_lock(&rec->lock);
	rec->busy = e->sending = false;
	if (!api_status_ok(st))
		log_debug("event %s %s/%s: %s", e->key[K_REASON], e->key[K_NS], e->key[K_POD],
			  st < 0 ? strerror(-st) : api_error_message(resp));
	if (!name && api_status_ok(st) && json_get_string(resp, "metadata.name")) {
		free(e->name);
		e->name = strdup(json_get_string(resp, "metadata.name"));
	} else if (name && st == 404) {
		free(e->name);
		e->name = NULL;
		e->posted = 0;
	}
}

/* The next entry to send now, or NULL with *ret_wait_ms until one may be due. */
static struct ev_entry *next_due(struct event_recorder *rec, int64_t now, int64_t *ret_wait_ms)
{
	*ret_wait_ms = 1000;
	for (size_t i = 0; i < rec->n; i++) {
		struct ev_entry *e = rec->entries[i];
		int64_t due = e->name ? e->posted_ms + REPEAT_MS : 0;

		if (!entry_dirty(e))
			continue;
		if (due <= now)
			return e;
		if (due - now < *ret_wait_ms)
			*ret_wait_ms = due - now;
	}
	return NULL;
}

static void *recorder_thread(void *ud)
{
	struct event_recorder *rec = ud;
	int64_t wait_ms;
	struct ev_entry *e;

	pthread_mutex_lock(&rec->lock);
	while (!rec->stop) {
		e = next_due(rec, mono_ms(), &wait_ms);
		if (e) {
			post_entry(rec, e);
			pthread_cond_broadcast(&rec->progress);
			continue;
		}
		pthread_cond_broadcast(&rec->progress);
		struct timespec until = abs_after(wait_ms);

		pthread_cond_timedwait(&rec->wake, &rec->lock, &until);
	}
	pthread_mutex_unlock(&rec->lock);
	return NULL;
}

struct event_recorder *event_recorder_new(struct api_client *api, const char *node)
{
	struct event_recorder *rec = calloc(1, sizeof(*rec));
	int r;

	if (!rec)
		return NULL;
	rec->api = api;
	rec->node = strdup(node ? node : "");
	pthread_mutex_init(&rec->lock, NULL);
	pthread_cond_init(&rec->wake, NULL);
	pthread_cond_init(&rec->progress, NULL);
	r = rec->node ? pthread_create(&rec->thread, NULL, recorder_thread, rec) : ENOMEM;
	if (r != 0) {
		free(rec->node);
		pthread_cond_destroy(&rec->wake);
		pthread_cond_destroy(&rec->progress);
		pthread_mutex_destroy(&rec->lock);
		free(rec);
		errno = r;
		return NULL;
	}
	return rec;
}

void event_recorder_free(struct event_recorder *rec)
{
	if (!rec)
		return;
	event_recorder_flush(rec, FREE_FLUSH_MS);
	pthread_mutex_lock(&rec->lock);
	rec->stop = true;
	pthread_cond_broadcast(&rec->wake);
	pthread_mutex_unlock(&rec->lock);
	pthread_join(rec->thread, NULL);
	for (size_t i = 0; i < rec->n; i++)
		entry_free(rec->entries[i]);
	free(rec->node);
	pthread_cond_destroy(&rec->wake);
	pthread_cond_destroy(&rec->progress);
	pthread_mutex_destroy(&rec->lock);
	free(rec);
}

static struct ev_entry *find(struct event_recorder *rec, const char *const key[N_KEYS])
{
	for (size_t i = 0; i < rec->n; i++) {
		struct ev_entry *e = rec->entries[i];
		int k = 0;

		while (k < N_KEYS && strcmp(e->key[k], key[k]) == 0)
			k++;
		if (k == N_KEYS)
			return e;
	}
	return NULL;
}

/* Room for one more entry: when full, the least recent one already sent gives way. */
static bool make_room(struct event_recorder *rec)
{
	size_t victim = rec->n;

	if (rec->n < MAX_ENTRIES)
		return true;
	for (size_t i = 0; i < rec->n; i++)
		if (!entry_dirty(rec->entries[i]) && !rec->entries[i]->sending && (victim == rec->n || rec->entries[i]->last < rec->entries[victim]->last))
			victim = i;
	if (victim == rec->n)
		return false;
	entry_free(rec->entries[victim]);
	rec->entries[victim] = rec->entries[--rec->n];
	return true;
}

static struct ev_entry *entry_new(const char *const key[N_KEYS], time_t now)
{
	struct ev_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	for (int i = 0; i < N_KEYS; i++) {
		e->key[i] = strdup(key[i]);
		if (!e->key[i]) {
			entry_free(e);
			return NULL;
		}
	}
	e->first = now;
	return e;
}

void event_recorder_emit(struct event_recorder *rec, const struct runtime_event *ev)
{
	const char *const key[N_KEYS] = { ev->ns ?: "default", ev->pod_name ?: "", ev->pod_uid ?: "",
					  ev->field_path ?: "", ev->type ?: "Normal", ev->reason ?: "",
					  ev->message ?: "" };
	time_t now = time(NULL);
	struct ev_entry *e;

	pthread_mutex_lock(&rec->lock);
	e = find(rec, key);
	if (!e && make_room(rec) && (e = entry_new(key, now)))
		rec->entries[rec->n++] = e;
	if (e) {
		e->count++;
		e->last = now;
		pthread_cond_signal(&rec->wake);
	} else {
		log_debug("event %s %s/%s dropped: the queue is full", key[K_REASON], key[K_NS], key[K_POD]);
	}
	pthread_mutex_unlock(&rec->lock);
}

static void hook_emit(void *ud, const struct runtime_event *ev)
{
	event_recorder_emit(ud, ev);
}

void event_recorder_hooks(struct event_recorder *rec, struct runtime_event_hooks *ret)
{
	*ret = (struct runtime_event_hooks){ .userdata = rec, .emit = rec ? hook_emit : NULL };
}

static bool any_dirty(struct event_recorder *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		if (entry_dirty(rec->entries[i]))
			return true;
	return rec->busy;
}

int event_recorder_flush(struct event_recorder *rec, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	int r = 0;

	pthread_mutex_lock(&rec->lock);
	while (any_dirty(rec)) {
		int64_t left = deadline - mono_ms();
		struct timespec until = abs_after(left);

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		pthread_cond_timedwait(&rec->progress, &rec->lock, &until);
	}
	pthread_mutex_unlock(&rec->lock);
	return r;
}
