/* SQLite store reads: get, count, and lists — current or as of an older revision, each
 * from one read snapshot so the items and the revision reported agree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#include "store/etcd.h"
#include "store/store_internal.h"

static char *column_dup(sqlite3_stmt *st, int col, size_t *ret_len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *p;

	if (!t)
		return NULL;
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, t, n);
	p[n] = '\0';
	if (ret_len)
		*ret_len = n;
	return p;
}

int store_get(struct store *s, const char *key, struct store_kv *ret)
{
	struct store_kv kv = { 0 };
	struct reader *rd;
	int r, rc;

	if (s->etcd)
		return etcd_get(s, key, ret);
	r = store_reader_get(s, &rd);
	if (r < 0)
		return r;
	sqlite3_bind_text(rd->get, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(rd->get);
	if (rc == SQLITE_ROW) {
		kv.key = strdup(key);
		kv.value = column_dup(rd->get, 0, &kv.value_len);
		kv.create_rev = sqlite3_column_int64(rd->get, 1);
		kv.mod_rev = sqlite3_column_int64(rd->get, 2);
		r = kv.key && kv.value ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_reset(rd->get);
	store_reader_put(s, rd);
	if (r < 0) {
		store_kv_clear(&kv);
		return r;
	}
	*ret = kv;
	return 0;
}

int store_count(struct store *s, const char *prefix, size_t *ret)
{
	_cleanup_free_ char *hi = NULL;
	struct reader *rd;
	int r;

	if (s->etcd)
		return etcd_count(s, prefix, ret);
	r = store_reader_get(s, &rd);
	if (r < 0)
		return r;
	r = store_bind_prefix(rd->count, 1, 2, prefix ? prefix : "", &hi);
	if (r == 0) {
		if (sqlite3_step(rd->count) == SQLITE_ROW)
			*ret = (size_t)sqlite3_column_int64(rd->count, 0);
		else
			r = -EIO;
	}
	sqlite3_reset(rd->count);
	store_reader_put(s, rd);
	return r;
}

static int read_meta(struct reader *rd, int64_t *ret_rev, int64_t *ret_compacted)
{
	int r = 0;

	if (sqlite3_step(rd->meta) == SQLITE_ROW) {
		*ret_rev = sqlite3_column_int64(rd->meta, 0);
		*ret_compacted = sqlite3_column_int64(rd->meta, 1);
	} else {
		r = -EIO;
	}
	sqlite3_reset(rd->meta);
	return r;
}

static int collect_rows(sqlite3_stmt *st, size_t limit, struct store_list_result *res)
{
	size_t cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_kv *kv;

		if (limit && res->n == limit) {
			res->more = true;
			return 0;
		}
		if (res->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct store_kv *v = realloc(res->items, ncap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			res->items = v;
			cap = ncap;
		}
		kv = &res->items[res->n];
		/* Not a compound literal: its zeroed value_len would overwrite what column_dup wrote. */
		*kv = (struct store_kv){ 0 };
		kv->key = column_dup(st, 0, NULL);
		kv->value = column_dup(st, 1, &kv->value_len);
		kv->create_rev = sqlite3_column_int64(st, 2);
		kv->mod_rev = sqlite3_column_int64(st, 3);
		res->n++;
		if (!kv->key || !kv->value)
			return -ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Runs inside the reader's open read transaction. */
static int list_snapshot(struct reader *rd, const char *prefix, const char *start_after, size_t limit,
			 int64_t rev, struct store_list_result *res)
{
	_cleanup_free_ char *hi = NULL;
	int64_t cur, compacted;
	sqlite3_stmt *st;
	int r;

	r = read_meta(rd, &cur, &compacted);
	if (r < 0)
		return r;
	if (rev == 0 || rev >= cur) {
		/* A revision not reached yet reads as the newest one there is. */
		st = rd->list;
		res->revision = cur;
	} else if (rev < compacted) {
		return -ERANGE;
	} else {
		st = rd->list_hist;
		sqlite3_bind_int64(st, 5, rev);
		res->revision = rev;
	}
	r = store_bind_prefix(st, 1, 2, prefix, &hi);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 3, start_after ? start_after : "", -1, SQLITE_STATIC);
	/* One extra row tells whether more keys follow. */
	sqlite3_bind_int64(st, 4, limit ? (int64_t)limit + 1 : -1);
	r = collect_rows(st, limit, res);
	sqlite3_reset(st);
	return r;
}

int store_list(struct store *s, const char *prefix, const char *start_after, size_t limit, int64_t rev,
	       struct store_list_result *ret)
{
	struct store_list_result res = { 0 };
	struct reader *rd;
	int r;

	if (rev < 0)
		return -EINVAL;
	if (s->etcd)
		return etcd_list(s, prefix, start_after, limit, rev, ret);
	r = store_reader_get(s, &rd);
	if (r < 0)
		return r;
	r = store_sql_exec_stmt(rd->begin);
	if (r == 0) {
		r = list_snapshot(rd, prefix ? prefix : "", start_after, limit, rev, &res);
		if (store_sql_exec_stmt(rd->commit) < 0 && r == 0)
			r = -EIO;
	}
	store_reader_put(s, rd);
	if (r < 0) {
		store_list_result_clear(&res);
		return r;
	}
	*ret = res;
	return 0;
}
