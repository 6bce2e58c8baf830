/* The watch loop: GET list, then GET ?watch=1 from its resourceVersion, one event per line. */
#include "api/watch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

struct stream {
	const struct api_watch_ops *ops;
	void *ud;
	atomic_bool *stop;
	struct api_watch_stats *stats;
	struct api_client *c;
	unsigned gen; /* the client's server generation when the stream opened */
	bool moved;   /* the client moved to another server: end the stream, resume there */
	char *rv;    /* last resourceVersion seen */
	char *line;  /* bytes of the current, unfinished line */
	size_t len;
	bool relist; /* set when the stream must end in a re-list */
};

int api_watch_parse_line(const char *line, size_t len, json_object **ret_event, const char **ret_type,
			 json_object **ret_obj)
{
	const char *err, *type;
	json_object *ev = json_parse_buffer(line, len, &err), *obj;

	if (!ev)
		return -EINVAL;
	type = json_get_string(ev, "type");
	obj = json_get_path(ev, "object");
	if (!type || !json_object_is_type(obj, json_type_object)) {
		json_object_put(ev);
		return -EINVAL;
	}
	*ret_event = ev;
	*ret_type = type;
	*ret_obj = obj;
	return 0;
}

static void set_rv(struct stream *s, const char *rv)
{
	char *d;

	if (!rv || !*rv || !(d = strdup(rv)))
		return;
	free(s->rv);
	s->rv = d;
}

static int handle_line(struct stream *s, const char *line, size_t len)
{
	_cleanup_json_ json_object *ev = NULL;
	json_object *obj;
	const char *type;

	if (len == 0)
		return 0;
	if (api_watch_parse_line(line, len, &ev, &type, &obj) < 0) {
		log_warn("watch: unparsable event line, re-listing");
		return -EINVAL;
	}
	if (strcmp(type, "ERROR") == 0) {
		json_object *code = json_get_path(obj, "code");

		log_info("watch: ERROR %d (%s), re-listing", code ? json_object_get_int(code) : 0,
			 api_error_message(obj));
		return -ESTALE;
	}
	set_rv(s, json_get_string(obj, "metadata.resourceVersion"));
	if (strcmp(type, "BOOKMARK") == 0)
		return 0;
	if (s->stats)
		s->stats->events++;
	return s->ops->event(s->ud, type, obj);
}

static size_t stream_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct stream *s = ud;
	size_t n = size * nmemb;

	for (size_t i = 0; i < n; i++) {
		if (ptr[i] != '\n') {
			char *nl = s->len % 4096 == 0 ? realloc(s->line, s->len + 4096 + 1) : s->line;

			if (!nl)
				return 0;
			s->line = nl;
			s->line[s->len++] = ptr[i];
			continue;
		}
		int r = handle_line(s, s->line ? s->line : "", s->len);

		s->len = 0;
		if (r < 0) {
			s->relist = true;
			return 0; /* aborts the transfer */
		}
	}
	return n;
}

static int stream_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct stream *s = ud;

	(void)dt, (void)dn, (void)ut, (void)un;
	if (atomic_load(s->stop))
		return 1;
	/* Another request found this stream's server gone: a stream on a server cut off without a
	 * FIN would otherwise wait for data until its timeout. */
	if (api_client_generation(s->c) != s->gen) {
		s->moved = true;
		return 1;
	}
	return 0;
}

static int list(struct api_client *c, const char *path, const char *query, struct stream *s)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_free_ char *p = NULL;
	json_object *items;
	int st;

	if (asprintf(&p, "%s%s%s", path, query ? "?" : "", query ? query : "") < 0)
		return -ENOMEM;
	st = api_get(c, p, &body);
	if (st < 0)
		return st;
	if (!api_status_ok(st)) {
		log_warn("watch: list %s: HTTP %d: %s", p, st, api_error_message(body));
		return -EIO;
	}
	items = json_get_path(body, "items");
	if (!json_object_is_type(items, json_type_array))
		return -EBADMSG;
	if (s->stats)
		s->stats->lists++;
	free(s->rv);
	s->rv = NULL;
	set_rv(s, json_get_string(body, "metadata.resourceVersion"));
	return s->ops->relist(s->ud, items);
}

/* One watch stream until it ends: 0 when the server closed it cleanly or the client moved to
 * another server (resume from s->rv: all servers of a cluster share resourceVersions). */
static int watch(struct api_client *c, const char *path, const char *query, struct stream *s)
{
	struct curl_slist *hdrs = NULL;
	_cleanup_free_ char *p = NULL;
	long code = 0;
	CURLcode cc;
	CURL *h;
	int r;

	if (asprintf(&p, "%s?%s%swatch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=%s", path,
		     query ? query : "", query ? "&" : "", s->rv ? s->rv : "0") < 0)
		return -ENOMEM;
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	s->gen = api_client_generation(c);
	s->moved = false;
	r = api_client_setup(c, h, p, &hdrs);
	if (r < 0)
		goto out;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stream_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	if (s->stats)
		s->stats->streams++;
	s->len = 0;
	s->relist = false;
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (s->relist || atomic_load(s->stop))
		r = -ESTALE;
	else if (s->moved)
		r = 0, log_info("watch %s: the api server changed, resuming there", path);
	else if (cc != CURLE_OK)
		r = -EIO, log_info("watch %s: stream broke: %s", path, curl_easy_strerror(cc));
	else if (code != 200)
		r = -EIO, log_info("watch %s: HTTP %ld, re-listing", path, code);
	else
		r = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return r;
}

/* Waits ms milliseconds, or less once *stop is set. */
static void pause_ms(atomic_bool *stop, unsigned ms)
{
	for (unsigned t = 0; t < ms && !atomic_load(stop); t += 100)
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
}

int api_watch_run(struct api_client *c, const char *path, const char *query, const struct api_watch_ops *ops,
		  void *ud, atomic_bool *stop, struct api_watch_stats *stats)
{
	struct stream s = { .ops = ops, .ud = ud, .stop = stop, .stats = stats, .c = c };
	bool need_list = true;
	unsigned backoff = 0;
	int r;

	while (!atomic_load(stop)) {
		if (need_list) {
			r = list(c, path, query, &s);
			if (r < 0) {
				/* 0.5 s, doubling to 8 s: quick after a blip, gentle on a down server. */
				backoff = backoff ? (backoff < 8000 ? backoff * 2 : 8000) : 500;
				log_debug_errno(r, "watch %s: list failed, retry in %u ms: %m", path, backoff);
				pause_ms(stop, backoff);
				continue;
			}
			need_list = false;
		}
		r = watch(c, path, query, &s);
		if (r < 0) {
			need_list = true;
			if (!s.relist)
				pause_ms(stop, 500);
			continue;
		}
		backoff = 0;
	}
	free(s.rv);
	free(s.line);
	return 0;
}
