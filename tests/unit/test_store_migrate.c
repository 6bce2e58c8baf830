/* skiffctl store migrate on a SQLite store of thousands of keys (pages of the source list,
 * multi-key txns, updates, deletes, large values) into a real etcd: every key and value, the
 * order of revisions kept (strictly, or with --batch in txns within etcd's limits), refusals. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "lib/etcd_kit.h"
#include "lib/pods_kit.h"
#include "store/store.h"

#define SKIFFCTL "build/asan/bin/skiffctl"
#define N_SINGLE 2500
#define N_MULTI 40 /* txns of 3 creates each */
#define N_BIG 6    /* 300 KiB values: more than one fits no 1 MiB txn */

static struct etcd_kit kit;
static char dir[64], db[96];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static struct store *open_sqlite(void)
{
	struct store_options o;
	struct store *s;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.durable = false;
	s = store_open_sqlite(db, &o);
	cr_assert_not_null(s, "open %s: %s", db, strerror(errno));
	return s;
}

static struct store *open_etcd(const char *prefix)
{
	struct store_options o;
	struct store *s;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	s = store_open_etcd(kit.endpoint, prefix, &o);
	cr_assert_not_null(s, "open etcd: %s", strerror(errno));
	return s;
}

static void fill(struct store *s)
{
	char key[96], val[128];
	_cleanup_free_ char *big = malloc(300 * 1024 + 1);

	cr_assert_not_null(big);
	for (int i = 0; i < N_SINGLE; i++) {
		/* Keys out of creation order, so key order and revision order differ. */
		snprintf(key, sizeof(key), "/registry/pods/ns/p%05d", (i * 7919) % N_SINGLE);
		snprintf(val, sizeof(val), "{\"i\":%d}", i);
		cr_assert_eq(store_create(s, key, val, NULL), 0, "%s", key);
	}
	for (int i = 0; i < N_MULTI; i++) {
		char k[3][96];
		struct store_op ops[3];

		for (int j = 0; j < 3; j++) {
			snprintf(k[j], sizeof(k[j]), "/registry/services/ns/m%03d-%d", i, j);
			ops[j] = (struct store_op){ .type = STORE_OP_CREATE, .key = k[j], .value = "{\"multi\":true}" };
		}
		cr_assert_eq(store_txn(s, ops, 3, NULL, NULL), 0);
	}
	for (int i = 0; i < 100; i++) { /* older keys written again: they move to the end */
		snprintf(key, sizeof(key), "/registry/pods/ns/p%05d", i * 3);
		cr_assert_eq(store_update(s, key, "{\"updated\":true}", 0, NULL), 0);
	}
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "/registry/pods/ns/p%05d", 1000 + i);
		cr_assert_eq(store_delete(s, key, 0, NULL), 0);
	}
	memset(big, 'x', 300 * 1024);
	big[0] = '"', big[300 * 1024 - 1] = '"', big[300 * 1024] = '\0';
	for (int i = 0; i < N_BIG; i++) {
		snprintf(key, sizeof(key), "/registry/configmaps/ns/big%d", i);
		cr_assert_eq(store_create(s, key, big, NULL), 0);
	}
	cr_assert_eq(store_create(s, "/registry/ranges/serviceips", "{\"range\":\"10.96.0.0/12\"}", NULL), 0);
}

static void setup(void)
{
	struct store *s;

	pods_kit_make(SKIFFCTL);
	strcpy(dir, "/tmp/skiff-migrate-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/store.db", dir);
	etcd_kit_start(&kit);
	s = open_sqlite();
	fill(s);
	store_close(s);
}

static void teardown(void)
{
	etcd_kit_stop(&kit);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store_migrate, .init = setup, .fini = teardown, .timeout = 240);

/* Runs skiffctl store migrate with extra args; its exit status, its output in out. */
static int migrate(char *out, size_t size, const char *extra)
{
	char cmd[512];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), SKIFFCTL " store migrate --from sqlite:%s --to etcd:%s %s 2>&1", db, kit.endpoint,
		 extra);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	st = pclose(p);
	cr_assert(WIFEXITED(st), "%s: status %#x", cmd, st);
	return WEXITSTATUS(st);
}

struct pair {
	int64_t src, dst; /* the key's mod revision in store.db and in etcd */
	const char *key;
};

/* Source revision order, ties by key: the order the migration writes in. */
static int by_src(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Walking the source in revision order, the target's revisions never go back and move on
 * exactly where the source's do (strict), or keys share one in groups of at most 128 (batch). */
static void check_order(struct pair *p, size_t n, bool batch)
{
	size_t groups = 1, in_group = 1;

	qsort(p, n, sizeof(*p), by_src);
	for (size_t i = 1; i < n; i++) {
		cr_assert_leq(p[i - 1].dst, p[i].dst, "%s after %s", p[i].key, p[i - 1].key);
		if (!batch) {
			cr_assert_eq(p[i - 1].src < p[i].src, p[i - 1].dst < p[i].dst, "%s / %s", p[i - 1].key, p[i].key);
		} else if (p[i - 1].dst == p[i].dst) {
			cr_assert_leq(++in_group, 128, "more than 128 keys in one txn");
		} else {
			groups++;
			in_group = 1;
		}
	}
	if (batch)
		cr_assert_lt(groups, n / 64, "%zu txns for %zu keys", groups, n);
}

/* Both stores hold the same keys and values, in the order check_order wants. */
static void check_copy(const char *prefix, bool batch)
{
	struct store *src = open_sqlite(), *dst = open_etcd(prefix);
	struct store_list_result a = { 0 }, b = { 0 };
	_cleanup_free_ struct pair *p = NULL;

	cr_assert_eq(store_list(src, "", NULL, 0, 0, &a), 0);
	cr_assert_eq(store_list(dst, "", NULL, 0, 0, &b), 0);
	cr_assert_eq(a.n, N_SINGLE - 50 + 3 * N_MULTI + N_BIG + 1);
	cr_assert_eq(b.n, a.n, "etcd holds %zu keys, store.db %zu", b.n, a.n);
	p = calloc(a.n, sizeof(*p));
	cr_assert_not_null(p);
	for (size_t i = 0; i < a.n; i++) {
		cr_assert_str_eq(a.items[i].key, b.items[i].key);
		cr_assert_str_eq(a.items[i].value, b.items[i].value, "%s", a.items[i].key);
		p[i] = (struct pair){ .src = a.items[i].mod_rev, .dst = b.items[i].mod_rev, .key = a.items[i].key };
	}
	check_order(p, a.n, batch);
	store_list_result_clear(&a);
	store_list_result_clear(&b);
	store_close(src);
	store_close(dst);
}

Test(store_migrate, copies_every_key_in_revision_order)
{
	char out[4096], want[64];

	cr_assert_eq(migrate(out, sizeof(out), ""), 0, "%s", out);
	snprintf(want, sizeof(want), "migrated %d keys", N_SINGLE - 50 + 3 * N_MULTI + N_BIG + 1);
	cr_assert(strstr(out, want), "%s", out);
	check_copy("/skiff", false);
}

Test(store_migrate, batch_packs_within_limits)
{
	char out[4096];

	cr_assert_eq(migrate(out, sizeof(out), "--batch --etcd-prefix /batched"), 0, "%s", out);
	check_copy("/batched", true);
}

Test(store_migrate, refuses_a_prefix_with_keys)
{
	struct store *dst = open_etcd("/skiff");
	int64_t before;
	char out[4096];

	cr_assert_eq(store_create(dst, "/registry/namespaces/x", "{}", NULL), 0);
	before = store_revision(dst);
	cr_assert_eq(migrate(out, sizeof(out), ""), 1, "%s", out);
	cr_assert(strstr(out, "already holds 1 keys"), "%s", out);
	store_close(dst);
	dst = open_etcd("/skiff");
	cr_assert_eq(store_revision(dst), before, "the refusal wrote to etcd");
	store_close(dst);
}

Test(store_migrate, refuses_a_store_held_open)
{
	struct store *src = open_sqlite(), *dst;
	char out[4096], want[64];
	size_t n = 1;

	cr_assert_eq(migrate(out, sizeof(out), ""), 1, "%s", out);
	snprintf(want, sizeof(want), "in use by pid %d", (int)getpid());
	cr_assert(strstr(out, want), "%s", out);
	store_close(src);
	dst = open_etcd("/skiff");
	cr_assert_eq(store_count(dst, "", &n), 0);
	cr_assert_eq(n, 0);
	store_close(dst);
}
