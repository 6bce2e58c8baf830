/* Watch streams (see watch_stream.h). Runs on the connection's own thread: the reader
 * callback blocks in poll() on the watch, the client socket and the shutdown fd. */
#include "api/watch_stream.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/json.h>
#include <skiff/log.h>

#include "api/encode.h"
#include "api/status.h"
#include "api/watch_event.h"

#define BOOKMARK_INTERVAL_MS 60000

struct watch_stream {
	struct watch_stream_params p;
	char *start_rv;
	char *buf; /* encoded events not yet handed to MHD */
	size_t len, off, cap;
	bool columns_sent;
	bool ending; /* send what is buffered, then end the stream */
	char last_rv[32];
	int64_t deadline_ms;      /* monotonic; 0 = none */
	int64_t next_bookmark_ms; /* monotonic */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int buf_append(struct watch_stream *ws, const char *s, size_t n)
{
	if (ws->off == ws->len)
		ws->off = ws->len = 0;
	if (ws->len + n + 1 > ws->cap) {
		size_t cap = ws->cap ? ws->cap : 4096;
		char *b;

		while (cap < ws->len + n + 1)
			cap *= 2;
		b = realloc(ws->buf, cap);
		if (!b)
			return -ENOMEM;
		ws->buf = b;
		ws->cap = cap;
	}
	memcpy(ws->buf + ws->len, s, n);
	ws->len += n;
	ws->buf[ws->len++] = '\n';
	return 0;
}

static int emit(struct watch_stream *ws, const char *type, json_object *obj)
{
	bool table = ws->p.table;
	_cleanup_json_ json_object *ev = encode_watch_event(ws->p.res, type, obj, table, !ws->columns_sent,
							     time(NULL));
	const char *s;
	size_t n;

	if (!ev)
		return -ENOMEM;
	if (table && strcmp(type, "BOOKMARK") != 0 && strcmp(type, "ERROR") != 0)
		ws->columns_sent = true;
	s = encode_json(ev, &n);
	return buf_append(ws, s, n);
}

static void emit_gone(struct watch_stream *ws)
{
	struct api_status st = { 0 };
	_cleanup_json_ json_object *o = NULL;
	int64_t compacted = store_compacted_revision(registry_store(ws->p.reg));

	api_status_set(&st, 410, "Expired", "too old resource version: %s (%lld)",
		       ws->start_rv ? ws->start_rv : "", (long long)compacted);
	o = api_status_to_json(&st);
	api_status_clear(&st);
	if (o)
		emit(ws, "ERROR", o);
	ws->ending = true;
}

/* Without a registry bookmark, tell the client the last revision it has seen. */
static void emit_bookmark(struct watch_stream *ws)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *meta = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(ws->p.res->kind));
	json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(meta, "resourceVersion", json_object_new_string(ws->last_rv));
	json_object_object_add(o, "metadata", meta);
	emit(ws, "BOOKMARK", o);
}

static int append_line(void *ctx, const char *s, size_t n)
{
	return buf_append(ctx, s, n);
}

/* A change goes out in the bytes every stream of the same form shares. */
static int emit_event(struct watch_stream *ws, const struct registry_watch_event *e)
{
	int r;

	if (!e->shared)
		return emit(ws, e->type, e->obj);
	r = watch_event_encode(e->cache, ws->p.res, e->type, ws->p.table, !ws->columns_sent, time(NULL),
			       append_line, ws);
	if (r == 0 && ws->p.table)
		ws->columns_sent = true;
	return r;
}

/* 0: an event was taken (or none pending: -ETIMEDOUT); ws->ending set when the watch is over. */
static int take_event(struct watch_stream *ws, int timeout_ms)
{
	struct registry_watch_event e = { 0 };
	int r = registry_watch_next_event(ws->p.watch, &e, timeout_ms);

	if (r == -ETIMEDOUT)
		return r;
	if (r == -ERANGE) {
		emit_gone(ws);
		return 0;
	}
	if (r < 0) {
		ws->ending = true;
		return 0;
	}
	if (e.rev > 0)
		snprintf(ws->last_rv, sizeof(ws->last_rv), "%lld", (long long)e.rev);
	if (emit_event(ws, &e) < 0)
		ws->ending = true;
	registry_watch_event_clear(&e);
	return 0;
}

static int poll_timeout(const struct watch_stream *ws, int64_t now)
{
	int64_t t = -1;

	if (ws->deadline_ms)
		t = ws->deadline_ms - now;
	if (ws->p.bookmarks && ws->last_rv[0] && (t < 0 || ws->next_bookmark_ms - now < t))
		t = ws->next_bookmark_ms - now;
	if (t < -1)
		t = 0;
	return t > 1000000 ? 1000000 : (int)t;
}

/* Waits for the next thing to send. -EPIPE when the client or the server is going away. */
static int wait_next(struct watch_stream *ws)
{
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = registry_watch_fd(ws->p.watch), .events = POLLIN },
			{ .fd = ws->p.conn_fd, .events = POLLRDHUP },
			{ .fd = ws->p.stop_fd, .events = POLLIN },
		};
		int64_t now;
		int timeout, r;

		/* Events the registry already holds (the initial state) need no fd wake-up. */
		r = take_event(ws, 0);
		if (r != -ETIMEDOUT)
			return 0;
		now = now_ms();
		if (ws->deadline_ms && now >= ws->deadline_ms) {
			ws->ending = true;
			return 0;
		}
		if (ws->p.bookmarks && ws->last_rv[0] && now >= ws->next_bookmark_ms) {
			ws->next_bookmark_ms = now + BOOKMARK_INTERVAL_MS;
			emit_bookmark(ws);
			return 0;
		}
		timeout = poll_timeout(ws, now);
		/* Without a pollable watch fd, fall back to a bounded wait in the registry. */
		if (fds[0].fd < 0)
			timeout = timeout < 0 || timeout > 200 ? 200 : timeout;
		r = poll(fds, 3, timeout);
		if (r < 0 && errno != EINTR)
			return -EPIPE;
		if (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
			return -EPIPE;
		if (fds[2].revents)
			return -EPIPE;
	}
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct watch_stream *ws = cls;

	(void)pos;
	for (;;) {
		if (ws->off < ws->len) {
			size_t n = ws->len - ws->off < max ? ws->len - ws->off : max;

			memcpy(out, ws->buf + ws->off, n);
			ws->off += n;
			return (ssize_t)n;
		}
		if (ws->ending || !ws->p.watch)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (wait_next(ws) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void stream_free(void *cls)
{
	struct watch_stream *ws = cls;

	registry_watch_free(ws->p.watch);
	free(ws->start_rv);
	free(ws->buf);
	free(ws);
}

struct MHD_Response *watch_stream_response(const struct watch_stream_params *p)
{
	struct watch_stream *ws = calloc(1, sizeof(*ws));
	struct MHD_Response *resp;

	if (!ws) {
		registry_watch_free(p->watch);
		return NULL;
	}
	ws->p = *p;
	ws->start_rv = p->start_rv ? strdup(p->start_rv) : NULL;
	if (p->start_rv && p->start_rv[0] && strcmp(p->start_rv, "0") != 0 && strlen(p->start_rv) < sizeof(ws->last_rv))
		strcpy(ws->last_rv, p->start_rv);
	else if (p->known_rv > 0)
		snprintf(ws->last_rv, sizeof(ws->last_rv), "%lld", p->known_rv);
	if (p->timeout_s > 0)
		ws->deadline_ms = now_ms() + (int64_t)p->timeout_s * 1000;
	ws->next_bookmark_ms = now_ms() + BOOKMARK_INTERVAL_MS;
	if (!p->watch)
		emit_gone(ws);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, ws, stream_free);
	if (!resp) {
		stream_free(ws);
		errno = ENOMEM;
		return NULL;
	}
	return resp;
}
