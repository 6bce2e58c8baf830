/* Opening and closing a store on etcd: the endpoint list, the starting and compacted
 * revisions, the feeder thread and the compactor. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "store/etcd.h"

static int parse_endpoints(struct etcd *e, const char *list)
{
	_cleanup_free_ char *copy = strdup(list ? list : "");
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char **v = realloc(e->endpoints, (e->n_endpoints + 1) * sizeof(*v));
		size_t n = strlen(t);
		if (!v)
			return -ENOMEM;
		e->endpoints = v;
		while (n > 0 && t[n - 1] == '/')
			t[--n] = '\0';
		e->endpoints[e->n_endpoints] = strdup(t);
		if (!e->endpoints[e->n_endpoints])
			return -ENOMEM;
		e->n_endpoints++;
	}
	return e->n_endpoints > 0 ? 0 : -EINVAL;
}

/* The store revision now: the header of a cheap range. */
static int current_rev(struct store *s, int64_t *ret)
{
	_cleanup_json_ json_object *req = json_object_new_object(), *ans = NULL;
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "key", etcd_key_json(s->etcd, "", false));
	json_object_object_add(req, "count_only", json_object_new_boolean(true));
	r = etcd_post(s->etcd, "/v3/kv/range", req, &ans);
	if (r < 0)
		return r;
	*ret = etcd_i64(json_get_path(ans, "header"), "revision");
	return 0;
}

/* 0 if revision rev can still be read, -ERANGE if it was compacted. */
static int readable(struct store *s, int64_t rev)
{
	_cleanup_json_ json_object *req = json_object_new_object(), *ans = NULL;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "key", etcd_key_json(s->etcd, "", false));
	json_object_object_add(req, "count_only", json_object_new_boolean(true));
	json_object_object_add(req, "revision", etcd_i64_json(rev));
	return etcd_post(s->etcd, "/v3/kv/range", req, &ans);
}

/* etcd 3.4 does not say how far it was compacted: the oldest readable revision is found by
 * bisection (revisions before it are refused, it is not), so a reopened store knows its floor. */
static int compacted_rev(struct store *s, int64_t cur, int64_t *ret)
{
	int64_t lo = 1, hi = cur; /* hi is readable; lo is the lowest that may be */
	int r;

	*ret = 0;
	if (cur <= 1 || (r = readable(s, 1)) == 0)
		return 0;
	if (r != -ERANGE)
		return r;
	while (lo + 1 < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		r = readable(s, mid);
		if (r == 0)
			hi = mid;
		else if (r == -ERANGE)
			lo = mid;
		else
			return r;
	}
	*ret = hi;
	return 0;
}

static int etcd_init(struct store *s, const char *endpoints, const char *prefix)
{
	struct etcd *e = calloc(1, sizeof(*e));
	int64_t rev = 0, compacted;
	int r;

	if (!e)
		return -ENOMEM;
	s->etcd = e;
	pthread_mutex_init(&e->seen_lock, NULL);
	pthread_cond_init(&e->seen_cond, NULL);
	r = etcd_pool_init(e);
	if (r < 0)
		return r;
	e->prefix = strdup(prefix ? prefix : "/skiff");
	if (!e->prefix)
		return -ENOMEM;
	e->plen = strlen(e->prefix);
	r = parse_endpoints(e, endpoints);
	if (r < 0)
		return r;
	r = current_rev(s, &rev);
	if (r < 0)
		return r;
	atomic_store(&s->rev, rev);
	r = compacted_rev(s, rev, &compacted);
	if (r < 0)
		return r;
	etcd_saw_compacted(s, compacted);
	s->bc.last_rev = rev;
	e->seen = rev;
	return etcd_feeder_start(s);
}

struct store *store_open_etcd(const char *endpoints, const char *prefix, const struct store_options *opts)
{
	struct store *s;
	int r;

	/* Thread-safe since libcurl 7.84; the agent's client calls it too. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	s = store_alloc(opts);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	r = etcd_init(s, endpoints, prefix);
	if (r == 0 && s->opts.compact_interval_seconds > 0)
		r = store_compactor_start(s);
	if (r < 0) {
		store_close(s);
		errno = -r;
		return NULL;
	}
	return s;
}

void etcd_close(struct store *s)
{
	struct etcd *e = s->etcd;

	etcd_feeder_stop(s);
	etcd_pool_free(e);
	for (size_t i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	free(e->prefix);
	pthread_mutex_destroy(&e->seen_lock);
	pthread_cond_destroy(&e->seen_cond);
	free(e);
	s->etcd = NULL;
}
