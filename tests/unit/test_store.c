/* The store on both backends (suite store: SQLite; store_on_etcd: a real etcd-server):
 * revisions, compares, txns, lists (current and historical), compaction, reopen, concurrent
 * writers (with group commit on SQLite), and crash safety under SIGKILL. etcd starts at
 * revision 1, so revisions are counted from the store's revision when it was opened. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/store_kit.h"
#include "store/store.h"
#include "store/store_internal.h"

STORE_KIT_SUITES(store);

#define STORE_TEST(name) STORE_KIT_TEST(store, name)

static struct store *open_store(bool group_commit, bool durable)
{
	struct store_options o;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.group_commit = group_commit;
	o.durable = durable;
	return store_kit_open(&o);
}

STORE_TEST(revisions_increase_by_one_per_write)
{
	struct store *s = open_store(true, true);
	struct store_kv kv = { 0 };
	int64_t r1, r2, r3, r4, base = store_revision(s);

	cr_assert_eq(base, store_kit_on_etcd ? 1 : 0, "a new store's revision");
	cr_assert_eq(store_create(s, "/registry/pods/ns/a", "{\"a\":1}", &r1), 0);
	cr_assert_eq(store_create(s, "/registry/pods/ns/b", "{\"b\":1}", &r2), 0);
	cr_assert_eq(store_update(s, "/registry/pods/ns/a", "{\"a\":2}", 0, &r3), 0);
	cr_assert_eq(store_delete(s, "/registry/pods/ns/b", 0, &r4), 0);
	cr_assert_eq(r1, base + 1);
	cr_assert_eq(r2, base + 2);
	cr_assert_eq(r3, base + 3);
	cr_assert_eq(r4, base + 4);
	cr_assert_eq(store_revision(s), base + 4);
	cr_assert_eq(store_get(s, "/registry/pods/ns/a", &kv), 0);
	cr_assert_str_eq(kv.value, "{\"a\":2}");
	cr_assert_eq(kv.value_len, 7);
	cr_assert_eq(kv.create_rev, base + 1);
	cr_assert_eq(kv.mod_rev, base + 3);
	store_kv_clear(&kv);
	cr_assert_eq(store_get(s, "/registry/pods/ns/b", &kv), -ENOENT);
	store_close(s);
}

STORE_TEST(create_existing_key_fails_eexist)
{
	struct store *s = open_store(true, false);
	int64_t rev = -1, base = store_revision(s);

	cr_assert_eq(store_create(s, "/k", "1", &rev), 0);
	rev = -1;
	cr_assert_eq(store_create(s, "/k", "2", &rev), -EEXIST);
	cr_assert_eq(rev, -1, "ret_rev must be untouched on failure");
	cr_assert_eq(store_revision(s), base + 1, "a failed write must not consume a revision");
	store_close(s);
}

STORE_TEST(update_and_delete_compare_mod_rev)
{
	struct store *s = open_store(false, false);
	int64_t c, u, base = store_revision(s);

	cr_assert_eq(store_update(s, "/missing", "x", 0, NULL), -ENOENT);
	cr_assert_eq(store_delete(s, "/missing", 0, NULL), -ENOENT);
	cr_assert_eq(store_create(s, "/k", "1", &c), 0);
	cr_assert_eq(store_update(s, "/k", "2", c + 5, NULL), -ESTALE);
	cr_assert_eq(store_update(s, "/k", "2", c, &u), 0);
	cr_assert_eq(store_update(s, "/k", "3", c, NULL), -ESTALE, "old revision must no longer match");
	cr_assert_eq(store_delete(s, "/k", c, NULL), -ESTALE);
	cr_assert_eq(store_delete(s, "/k", u, NULL), 0);
	cr_assert_eq(store_revision(s), base + 3);
	store_close(s);
}

STORE_TEST(txn_is_all_or_nothing)
{
	struct store *s = open_store(true, true);
	struct store_kv kv = { 0 };
	size_t failed = 99;
	int64_t rev, base = store_revision(s), y0;

	cr_assert_eq(store_create(s, "/y", "y0", &y0), 0);
	struct store_op bad[] = {
		{ .type = STORE_OP_CREATE, .key = "/x", .value = "x" },
		{ .type = STORE_OP_UPDATE, .key = "/y", .value = "y1", .expect_rev = 7 },
	};
	cr_assert_eq(store_txn(s, bad, 2, NULL, &failed), -ESTALE);
	cr_assert_eq(failed, 1);
	cr_assert_eq(store_get(s, "/x", &kv), -ENOENT, "the create of a failed txn must not apply");
	cr_assert_eq(store_revision(s), base + 1);

	struct store_op good[] = {
		{ .type = STORE_OP_CREATE, .key = "/x", .value = "x" },
		{ .type = STORE_OP_UPDATE, .key = "/y", .value = "y1", .expect_rev = y0 },
		{ .type = STORE_OP_CREATE, .key = "/z", .value = "z" },
	};
	cr_assert_eq(store_txn(s, good, 3, &rev, NULL), 0);
	cr_assert_eq(rev, base + 2);
	cr_assert_eq(store_get(s, "/y", &kv), 0);
	cr_assert_str_eq(kv.value, "y1");
	cr_assert_eq(kv.mod_rev, base + 2);
	store_kv_clear(&kv);

	struct store_op dup[] = {
		{ .type = STORE_OP_DELETE, .key = "/x" },
		{ .type = STORE_OP_DELETE, .key = "/x" },
	};
	cr_assert_eq(store_txn(s, dup, 2, NULL, NULL), -EINVAL);
	cr_assert_eq(store_txn(s, good, 0, NULL, NULL), -EINVAL);
	store_close(s);
}

static void put_n(struct store *s, const char *fmt, int n)
{
	char key[128];

	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), fmt, i);
		cr_assert_eq(store_create(s, key, key, NULL), 0, "create %s", key);
	}
}

STORE_TEST(list_prefix_start_after_limit)
{
	struct store *s = open_store(true, false);
	struct store_list_result r = { 0 };
	int64_t base = store_revision(s);
	size_t n;

	put_n(s, "/registry/pods/a/p%02d", 10);
	put_n(s, "/registry/pods/b/p%02d", 3);
	put_n(s, "/registry/services/a/s%02d", 2);

	cr_assert_eq(store_list(s, "/registry/pods/a/", NULL, 0, 0, &r), 0);
	cr_assert_eq(r.n, 10);
	cr_assert_not(r.more);
	cr_assert_eq(r.revision, base + 15);
	cr_assert_str_eq(r.items[0].key, "/registry/pods/a/p00");
	cr_assert_str_eq(r.items[9].value, "/registry/pods/a/p09");
	cr_assert_eq(r.items[9].value_len, strlen("/registry/pods/a/p09"), "a listed item's value_len");
	store_list_result_clear(&r);

	cr_assert_eq(store_list(s, "/registry/pods/", NULL, 4, 0, &r), 0);
	cr_assert_eq(r.n, 4);
	cr_assert(r.more);
	cr_assert_str_eq(r.items[3].key, "/registry/pods/a/p03");
	store_list_result_clear(&r);

	cr_assert_eq(store_list(s, "/registry/pods/", "/registry/pods/a/p08", 3, 0, &r), 0);
	cr_assert_eq(r.n, 3);
	cr_assert(r.more);
	cr_assert_str_eq(r.items[0].key, "/registry/pods/a/p09");
	cr_assert_str_eq(r.items[2].key, "/registry/pods/b/p01");
	store_list_result_clear(&r);

	cr_assert_eq(store_list(s, "/registry/pods/", "/registry/pods/b/p01", 1, 0, &r), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_not(r.more, "the last key must not claim more");
	store_list_result_clear(&r);

	cr_assert_eq(store_list(s, "", NULL, 0, 0, &r), 0);
	cr_assert_eq(r.n, 15);
	store_list_result_clear(&r);

	cr_assert_eq(store_count(s, "/registry/pods/", &n), 0);
	cr_assert_eq(n, 13);
	cr_assert_eq(store_count(s, "/registry/nodes/", &n), 0);
	cr_assert_eq(n, 0);
	store_close(s);
}

STORE_TEST(list_at_older_revision)
{
	struct store *s = open_store(true, false);
	struct store_list_result r = { 0 };
	int64_t b = store_revision(s);

	cr_assert_eq(store_create(s, "/p/a", "a1", NULL), 0); /* 1 */
	cr_assert_eq(store_create(s, "/p/b", "b1", NULL), 0); /* 2 */
	cr_assert_eq(store_create(s, "/q/x", "x1", NULL), 0); /* 3 */
	cr_assert_eq(store_update(s, "/p/a", "a2", 0, NULL), 0); /* 4 */
	cr_assert_eq(store_delete(s, "/p/b", 0, NULL), 0); /* 5 */
	cr_assert_eq(store_create(s, "/p/c", "c1", NULL), 0); /* 6 */
	cr_assert_eq(store_update(s, "/p/a", "a3", 0, NULL), 0); /* 7 */
	cr_assert_eq(store_create(s, "/p/b", "b2", NULL), 0); /* 8 */

	cr_assert_eq(store_list(s, "/p/", NULL, 0, b + 3, &r), 0);
	cr_assert_eq(r.revision, b + 3);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.items[0].key, "/p/a");
	cr_assert_str_eq(r.items[0].value, "a1");
	cr_assert_eq(r.items[0].create_rev, b + 1);
	cr_assert_eq(r.items[0].mod_rev, b + 1);
	cr_assert_str_eq(r.items[1].key, "/p/b");
	cr_assert_str_eq(r.items[1].value, "b1");
	cr_assert_eq(r.items[1].value_len, 2, "a historical item's value_len");
	cr_assert_eq(r.items[1].mod_rev, b + 2);
	store_list_result_clear(&r);

	cr_assert_eq(store_list(s, "/p/", NULL, 0, b + 6, &r), 0);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.items[0].value, "a2");
	cr_assert_eq(r.items[0].mod_rev, b + 4);
	cr_assert_eq(r.items[0].create_rev, b + 1);
	cr_assert_str_eq(r.items[1].key, "/p/c");
	store_list_result_clear(&r);

	/* start_after and limit apply to the historical view too. */
	cr_assert_eq(store_list(s, "/p/", "/p/a", 1, b + 3, &r), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.items[0].key, "/p/b");
	cr_assert_not(r.more);
	store_list_result_clear(&r);

	cr_assert_eq(store_list(s, "/p/", NULL, 0, 0, &r), 0);
	cr_assert_eq(r.revision, b + 8);
	cr_assert_eq(r.n, 3);
	cr_assert_str_eq(r.items[0].value, "a3");
	cr_assert_str_eq(r.items[1].value, "b2");
	cr_assert_eq(r.items[1].create_rev, b + 8);
	store_list_result_clear(&r);
	store_close(s);
}

STORE_TEST(compaction_refuses_older_reads_and_survives_reopen)
{
	struct store *s = open_store(true, false);
	struct store_list_result r = { 0 };
	struct store_watch *w = NULL;
	int64_t b = store_revision(s);

	put_n(s, "/k/%d", 10);
	cr_assert_eq(store_update(s, "/k/0", "new", 0, NULL), 0); /* 11 */
	cr_assert_eq(store_compact(s, b + 20), -EINVAL, "a future revision cannot be compacted");
	cr_assert_eq(store_compact(s, b + 5), 0);
	cr_assert_eq(store_compacted_revision(s), b + 5);
	cr_assert_eq(store_list(s, "/k/", NULL, 0, b + 4, &r), -ERANGE);
	cr_assert_eq(store_watch_new(s, "/k/", b + 4, &w), -ERANGE);
	cr_assert_eq(store_list(s, "/k/", NULL, 0, b + 5, &r), 0, "the compacted revision itself stays readable");
	cr_assert_eq(r.n, 5);
	cr_assert_str_eq(r.items[0].value, "/k/0");
	store_list_result_clear(&r);
	cr_assert_eq(store_compact(s, b + 3), 0, "compacting below the floor is a no-op");
	cr_assert_eq(store_compacted_revision(s), b + 5);
	store_close(s);

	s = open_store(true, false);
	cr_assert_eq(store_revision(s), b + 11);
	cr_assert_eq(store_compacted_revision(s), b + 5, "the floor is known again after reopening");
	cr_assert_eq(store_list(s, "/k/", NULL, 0, b + 4, &r), -ERANGE);
	cr_assert_eq(store_watch_new(s, "/k/", b + 4, &w), -ERANGE);
	cr_assert_eq(store_create(s, "/k/new", "v", NULL), 0);
	cr_assert_eq(store_revision(s), b + 12);
	store_close(s);
}

STORE_TEST(automatic_compaction_keeps_the_configured_history)
{
	struct store_options o;
	struct store *s;
	int64_t b;

	store_options_init(&o);
	o.durable = false;
	o.compact_interval_seconds = 1;
	o.compact_keep_seconds = 0;
	o.compact_keep_revisions = 4;
	s = store_kit_open(&o);
	b = store_revision(s);
	put_n(s, "/k/%d", 10);
	/* Waits for the compactor's ticks (one may land mid-writes); the bound only guards
	 * against a hang. It must never compact further than the configured history. */
	for (int i = 0; i < 100 && store_compacted_revision(s) != b + 6; i++) {
		cr_assert_leq(store_compacted_revision(s), b + 6);
		usleep(100 * 1000);
	}
	cr_assert_eq(store_compacted_revision(s), b + 6, "keeps the last 4 revisions");
	store_close(s);
}

struct writer_arg {
	struct store *s;
	int id, n;
	int64_t revs[64];
};

static void *writer_main(void *p)
{
	struct writer_arg *a = p;
	char key[64];

	for (int i = 0; i < a->n; i++) {
		snprintf(key, sizeof(key), "/w/%d/%d", a->id, i);
		if (store_create(a->s, key, "{}", &a->revs[i]) < 0)
			a->revs[i] = -1;
	}
	return NULL;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

static void concurrent_writers(bool group_commit)
{
	enum { THREADS = 8, PER = 40 };
	struct store *s = open_store(group_commit, true);
	struct writer_arg args[THREADS];
	pthread_t th[THREADS];
	int64_t all[THREADS * PER], base = store_revision(s);

	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct writer_arg){ .s = s, .id = t, .n = PER };
		pthread_create(&th[t], NULL, writer_main, &args[t]);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < PER; i++) {
			cr_assert_gt(args[t].revs[i], 0, "write %d/%d failed", t, i);
			if (i > 0)
				cr_assert_gt(args[t].revs[i], args[t].revs[i - 1]);
			all[t * PER + i] = args[t].revs[i];
		}
	qsort(all, THREADS * PER, sizeof(all[0]), cmp_i64);
	for (int i = 0; i < THREADS * PER; i++)
		cr_assert_eq(all[i], base + i + 1, "revisions must be distinct and dense");
	if (store_kit_on_etcd) {
		store_close(s);
		return; /* etcd commits each txn itself */
	}
	cr_assert_eq(store_sqlite_txns(s), THREADS * PER);
	if (group_commit)
		cr_assert_lt(store_sqlite_batches(s), THREADS * PER, "concurrent writers must share commits");
	else
		cr_assert_eq(store_sqlite_batches(s), THREADS * PER);
	store_close(s);
}

STORE_TEST(concurrent_writers_group_commit)
{
	concurrent_writers(true);
}

STORE_TEST(concurrent_writers_without_group_commit)
{
	concurrent_writers(false);
}

static void *racer_main(void *p)
{
	struct writer_arg *a = p;

	a->revs[0] = store_create(a->s, "/race", "v", NULL);
	return NULL;
}

STORE_TEST(racing_creates_one_wins_in_a_batch)
{
	enum { THREADS = 8 };
	struct store *s = open_store(true, true);
	struct writer_arg args[THREADS];
	pthread_t th[THREADS];
	int64_t base = store_revision(s);
	int won = 0;

	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct writer_arg){ .s = s };
		pthread_create(&th[t], NULL, racer_main, &args[t]);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		cr_assert(args[t].revs[0] == 0 || args[t].revs[0] == -EEXIST);
		won += args[t].revs[0] == 0;
	}
	cr_assert_eq(won, 1);
	cr_assert_eq(store_revision(s), base + 1);
	store_close(s);
}

/* The child writes until killed and reports each acknowledged revision. */
static void crash_child(int wfd)
{
	struct store_options o;
	struct store *s;
	char key[64];

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	s = store_kit_on_etcd ? store_open_etcd(store_kit_etcd.endpoint, "/skiff", &o)
			      : store_open_sqlite(store_kit_dbpath, &o);
	if (!s)
		_exit(2);
	for (int i = 0;; i++) {
		int64_t rev;
		snprintf(key, sizeof(key), "/crash/%08d", i);
		if (store_create(s, key, key, &rev) < 0)
			_exit(3);
		if (write(wfd, &rev, sizeof(rev)) != sizeof(rev))
			_exit(4);
	}
}

STORE_TEST(acknowledged_writes_survive_sigkill)
{
	int64_t rev, last, n = 0, base = 0;
	struct store_kv kv = { 0 };
	struct store *s;
	int p[2], st;
	pid_t pid;
	char key[64];

	if (store_kit_on_etcd) {
		s = open_store(true, true);
		base = store_revision(s);
		store_close(s);
	}
	last = base;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		crash_child(p[1]);
	}
	close(p[1]);
	/* Kill at an arbitrary point once a fair number of writes were acknowledged. */
	while (n < 300 && read(p[0], &rev, sizeof(rev)) == sizeof(rev)) {
		cr_assert_eq(rev, last + 1);
		last = rev;
		n++;
	}
	kill(pid, SIGKILL);
	while (read(p[0], &rev, sizeof(rev)) == sizeof(rev))
		last = rev;
	close(p[0]);
	waitpid(pid, &st, 0);
	cr_assert(WIFSIGNALED(st), "the writer must have been killed, not exited (%d)", st);

	s = open_store(true, true);
	cr_assert_geq(store_revision(s), last);
	for (int64_t i = 0; i < last - base; i++) {
		snprintf(key, sizeof(key), "/crash/%08lld", (long long)i);
		cr_assert_eq(store_get(s, key, &kv), 0, "acknowledged write %s lost", key);
		cr_assert_eq(kv.mod_rev, base + i + 1);
		store_kv_clear(&kv);
	}
	store_close(s);
}
