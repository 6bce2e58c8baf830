/* skiffctl store migrate's copy: every key of a stopped cluster's SQLite store, read
 * through store.h at one revision, written into etcd in mod revision order so objects
 * keep their relative resourceVersion order (etcd numbers them anew). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <skiff/cleanup.h>

#include "store/store.h"
#include "store_migrate.h"

#define PAGE 1000
#define TXN_OPS 128 /* etcd's gateway limit per txn */
/* etcd takes requests up to 1.5 MiB; a create costs its key thrice (compare, put, the
 * failure branch's range) plus the value: keep well under. */
#define TXN_BYTES (1u << 20)
#define OP_OVERHEAD 64

struct kvs {
	struct store_kv *v;
	size_t n, cap;
};

static void kvs_clear(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++)
		store_kv_clear(&k->v[i]);
	free(k->v);
}

/* A file that exists and holds the store's tables: opening anything else through
 * store_open_sqlite would create a store there. */
static int check_source(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int n = 0;

	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "skiffctl store migrate: sqlite:%s: %s\n", path,
			errno ? strerror(errno) : "not a regular file");
		return -ENOENT;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('kv', 'meta')",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (n != 2) {
		fprintf(stderr, "skiffctl store migrate: sqlite:%s is not a skiff store (no kv and meta tables)\n", path);
		return -EINVAL;
	}
	return 0;
}

static int kvs_take(struct kvs *k, struct store_list_result *r)
{
	if (k->n + r->n > k->cap) {
		size_t cap = k->cap ? k->cap * 2 : PAGE;
		struct store_kv *v;

		while (cap < k->n + r->n)
			cap *= 2;
		v = realloc(k->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		k->v = v, k->cap = cap;
	}
	for (size_t i = 0; i < r->n; i++) {
		k->v[k->n++] = r->items[i];
		r->items[i] = (struct store_kv){ 0 };
	}
	return 0;
}

/* Every key, at one revision (the first page's), a page at a time. */
static int read_all(struct store *src, struct kvs *ret, int64_t *ret_rev)
{
	int64_t rev = 0;
	bool more = true;
	int r = 0;

	while (more && r == 0) {
		struct store_list_result res = { 0 };
		const char *after = ret->n ? ret->v[ret->n - 1].key : NULL;

		r = store_list(src, "", after, PAGE, rev, &res);
		if (r == 0) {
			rev = res.revision;
			more = res.more && res.n > 0;
			r = kvs_take(ret, &res);
		}
		store_list_result_clear(&res);
	}
	if (r < 0)
		fprintf(stderr, "skiffctl store migrate: reading the SQLite store: %s\n", strerror(-r));
	*ret_rev = rev;
	return r;
}

static int by_rev(const void *a, const void *b)
{
	const struct store_kv *x = a, *y = b;

	if (x->mod_rev != y->mod_rev)
		return x->mod_rev < y->mod_rev ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* strlen, not value_len: the SQLite store's lists leave value_len 0 (sqlite_read.c). */
static size_t op_cost(const struct store_kv *kv)
{
	return 3 * strlen(kv->key) + strlen(kv->value) + OP_OVERHEAD;
}

/* How many keys from i go in one txn: those of one source revision (any revision with
 * batch), within etcd's limits; a single oversized key goes alone (etcd then refuses it). */
static size_t group_len(const struct kvs *k, size_t i, bool batch)
{
	size_t n = 1, bytes = op_cost(&k->v[i]);

	while (i + n < k->n && n < TXN_OPS) {
		const struct store_kv *kv = &k->v[i + n];

		if (!batch && kv->mod_rev != k->v[i].mod_rev)
			break;
		if (bytes + op_cost(kv) > TXN_BYTES)
			break;
		bytes += op_cost(kv);
		n++;
	}
	return n;
}

static int write_all(struct store *dst, const struct kvs *k, bool batch, struct migrate_stats *st)
{
	struct store_op ops[TXN_OPS];

	for (size_t i = 0, n; i < k->n; i += n) {
		int64_t rev = 0;
		size_t failed = 0;
		int r;

		n = group_len(k, i, batch);
		for (size_t j = 0; j < n; j++)
			ops[j] = (struct store_op){ .type = STORE_OP_CREATE, .key = k->v[i + j].key,
						    .value = k->v[i + j].value };
		r = store_txn(dst, ops, n, &rev, &failed);
		if (r < 0) {
			fprintf(stderr,
				"skiffctl store migrate: writing %s: %s; %zu of %zu keys were written: delete the prefix before retrying\n",
				ops[r == -EEXIST && failed < n ? failed : 0].key, strerror(-r), i, k->n);
			return r;
		}
		if (st->txns++ == 0)
			st->first_rev = rev;
		st->last_rev = rev;
		for (size_t j = 0; j < n; j++)
			st->bytes += strlen(k->v[i + j].value);
		st->keys += n;
	}
	return 0;
}

/* The prefix holds exactly what was written: nobody else wrote there meanwhile. */
static int check_count(struct store *dst, const struct migrate_options *o, size_t want)
{
	size_t n = 0;
	int r = store_count(dst, "", &n);

	if (r == 0 && n == want)
		return 0;
	if (r < 0)
		fprintf(stderr, "skiffctl store migrate: etcd:%s: counting keys after the copy: %s\n", o->etcd_endpoints,
			strerror(-r));
	else
		fprintf(stderr, "skiffctl store migrate: etcd:%s prefix %s holds %zu keys after copying %zu: another writer?\n",
			o->etcd_endpoints, o->etcd_prefix, n, want);
	return r < 0 ? r : -EIO;
}

static struct store *open_target(const struct migrate_options *o)
{
	struct store_options so;
	struct store *s;
	size_t n = 0;
	int r;

	store_options_init(&so);
	so.compact_interval_seconds = 0;
	s = store_open_etcd(o->etcd_endpoints, o->etcd_prefix, &so);
	if (!s) {
		fprintf(stderr, "skiffctl store migrate: etcd:%s: %s (is etcd running there?)\n", o->etcd_endpoints,
			strerror(errno));
		return NULL;
	}
	r = store_count(s, "", &n);
	if (r < 0 || n > 0) {
		if (r < 0)
			fprintf(stderr, "skiffctl store migrate: etcd:%s: counting keys: %s\n", o->etcd_endpoints,
				strerror(-r));
		else
			fprintf(stderr, "skiffctl store migrate: etcd:%s prefix %s already holds %zu keys: refusing to mix stores\n",
				o->etcd_endpoints, o->etcd_prefix, n);
		store_close(s);
		errno = r < 0 ? -r : EEXIST;
		return NULL;
	}
	return s;
}

static struct store *open_source(const char *path)
{
	struct store_options so;
	struct store *s;

	store_options_init(&so);
	so.compact_interval_seconds = 0;
	s = store_open_sqlite(path, &so);
	if (!s)
		fprintf(stderr, "skiffctl store migrate: sqlite:%s: %s\n", path, strerror(errno));
	return s;
}

int store_migrate(const struct migrate_options *o, struct migrate_stats *ret)
{
	struct store *src = NULL, *dst = NULL;
	struct kvs k = { 0 };
	int r;

	*ret = (struct migrate_stats){ 0 };
	r = check_source(o->sqlite_path);
	if (r < 0)
		return r;
	dst = open_target(o);
	if (!dst)
		return -errno;
	src = open_source(o->sqlite_path);
	if (!src) {
		r = -errno;
		goto out;
	}
	r = read_all(src, &k, &ret->source_rev);
	if (r < 0)
		goto out;
	qsort(k.v, k.n, sizeof(*k.v), by_rev);
	r = write_all(dst, &k, o->batch, ret);
	if (r == 0)
		r = check_count(dst, o, k.n);
out:
	kvs_clear(&k);
	if (src)
		store_close(src);
	store_close(dst);
	return r;
}
