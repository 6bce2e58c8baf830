/* The etcd backend's reads and writes: ranges for get, list and count, txns comparing
 * versions and mod revisions, compaction; the store revision is the answers' header revision. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "store/etcd.h"

/* Raises *v to rev unless it is higher already (several threads learn revisions at once). */
static void raise_to(_Atomic int64_t *v, int64_t rev)
{
	int64_t cur = atomic_load(v);

	while (cur < rev && !atomic_compare_exchange_weak(v, &cur, rev))
		;
}

void etcd_saw_rev(struct store *s, int64_t rev)
{
	raise_to(&s->rev, rev);
}

void etcd_saw_compacted(struct store *s, int64_t rev)
{
	raise_to(&s->compacted, rev);
}

static int64_t header_rev(struct store *s, json_object *ans)
{
	int64_t rev = etcd_i64(json_get_path(ans, "header"), "revision");

	etcd_saw_rev(s, rev);
	return rev;
}

/* A range kv as a store_kv, the store's key without the prefix. */
static int kv_from_json(struct etcd *e, json_object *j, struct store_kv *kv)
{
	_cleanup_free_ char *key = NULL;
	size_t klen;
	int r;

	*kv = (struct store_kv){ 0 };
	r = etcd_b64_decode(json_get_string(j, "key"), &key, &klen);
	if (r < 0)
		return r;
	if (klen < e->plen)
		return -EIO;
	kv->key = strdup(key + e->plen);
	r = etcd_b64_decode(json_get_string(j, "value"), &kv->value, &kv->value_len);
	kv->create_rev = etcd_i64(j, "create_revision");
	kv->mod_rev = etcd_i64(j, "mod_revision");
	if (r == 0 && !kv->key)
		r = -ENOMEM;
	if (r < 0)
		store_kv_clear(kv);
	return r;
}

static int range(struct store *s, json_object *req, json_object **ret)
{
	if (!json_object_object_get(req, "key"))
		return -ENOMEM;
	return etcd_post(s->etcd, "/v3/kv/range", req, ret);
}

int etcd_get(struct store *s, const char *key, struct store_kv *ret)
{
	_cleanup_json_ json_object *req = json_object_new_object(), *ans = NULL;
	json_object *kvs;
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "key", etcd_key_json(s->etcd, key, false));
	r = range(s, req, &ans);
	if (r < 0)
		return r;
	header_rev(s, ans);
	kvs = json_member(ans, "kvs", json_type_array);
	if (!kvs || json_object_array_length(kvs) == 0)
		return -ENOENT;
	return kv_from_json(s->etcd, json_object_array_get_idx(kvs, 0), ret);
}

/* Store keys start with '/': the whole store is under prefix + "/", so a store at "/skiff"
 * never reads the keys of one at "/skiff-two". */
static json_object *prefix_range(struct store *s, const char *prefix, const char *start_after)
{
	json_object *req = json_object_new_object();

	if (!req)
		return NULL;
	if (!prefix || !*prefix)
		prefix = "/";
	if (start_after && strcmp(start_after, prefix) >= 0)
		json_object_object_add(req, "key", etcd_key_json(s->etcd, start_after, true));
	else
		json_object_object_add(req, "key", etcd_key_json(s->etcd, prefix, false));
	json_object_object_add(req, "range_end", etcd_range_end_json(s->etcd, prefix));
	return req;
}

int etcd_count(struct store *s, const char *prefix, size_t *ret)
{
	_cleanup_json_ json_object *req = prefix_range(s, prefix, NULL), *ans = NULL;
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "count_only", json_object_new_boolean(true));
	r = range(s, req, &ans);
	if (r < 0)
		return r;
	header_rev(s, ans);
	*ret = (size_t)etcd_i64(ans, "count");
	return 0;
}

/* Appends a range's kvs to res. */
static int list_items(struct store *s, json_object *kvs, struct store_list_result *res)
{
	size_t n = kvs ? json_object_array_length(kvs) : 0;
	struct store_kv *v;

	if (n == 0)
		return 0;
	v = realloc(res->items, (res->n + n) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	res->items = v;
	for (size_t i = 0; i < n; i++) {
		int r = kv_from_json(s->etcd, json_object_array_get_idx(kvs, i), &res->items[res->n]);
		if (r < 0)
			return r;
		res->n++;
	}
	return 0;
}

/* One range of at most limit keys after start_after at *rev (0: the newest); a revision etcd
 * has not reached yet reads as the newest there is, as with SQLite (*rev becomes 0). */
static int list_page(struct store *s, const char *prefix, const char *start_after, size_t limit, int64_t *rev,
		     json_object **ans)
{
	_cleanup_json_ json_object *req = prefix_range(s, prefix, start_after);
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "limit", etcd_i64_json((int64_t)limit));
	if (*rev)
		json_object_object_add(req, "revision", etcd_i64_json(*rev));
	r = range(s, req, ans);
	if (r == -EAGAIN) {
		json_object_object_del(req, "revision");
		*rev = 0;
		r = range(s, req, ans);
	}
	return r;
}

/* Read page by page, all pages at the first one's revision: an unlimited list of a big
 * prefix never makes one huge answer (etcd's and ours to hold at once). */
int etcd_list(struct store *s, const char *prefix, const char *start_after, size_t limit, int64_t rev,
	      struct store_list_result *ret)
{
	struct store_list_result res = { 0 };
	const char *after = start_after;
	int r;

	if (rev < 0)
		return -EINVAL;
	for (;;) {
		_cleanup_json_ json_object *ans = NULL;
		size_t want = limit && limit - res.n < ETCD_LIST_PAGE ? limit - res.n : ETCD_LIST_PAGE;

		r = list_page(s, prefix, after, want, &rev, &ans);
		if (r < 0)
			break;
		if (!res.revision) {
			int64_t cur = header_rev(s, ans);

			res.revision = rev && rev < cur ? rev : cur;
			rev = res.revision;
		}
		res.more = json_object_get_boolean(json_object_object_get(ans, "more"));
		r = list_items(s, json_member(ans, "kvs", json_type_array), &res);
		if (r < 0 || !res.more || res.n == 0 || (limit && res.n >= limit))
			break;
		after = res.items[res.n - 1].key;
	}
	if (r < 0) {
		store_list_result_clear(&res);
		return r;
	}
	*ret = res;
	return 0;
}

int etcd_compact(struct store *s, int64_t rev)
{
	_cleanup_json_ json_object *req = json_object_new_object(), *ans = NULL;
	int r;

	if (rev <= 0 || rev > store_revision(s))
		return -EINVAL;
	if (rev <= atomic_load(&s->compacted))
		return 0;
	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "revision", etcd_i64_json(rev));
	r = etcd_post(s->etcd, "/v3/kv/compaction", req, &ans);
	if (r == -ERANGE)
		r = 0; /* compacted past it already, by another client */
	if (r < 0)
		return r;
	etcd_saw_compacted(s, rev);
	return 0;
}
