/* The etcd store backend against real etcd-server processes on loopback: reads, txns,
 * lists at revisions, compaction, watches (live, replayed from etcd, cancelled) and failover. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "lib/etcd_kit.h"
#include "store/store.h"

static struct etcd_kit kit;

static void setup(void)
{
	etcd_kit_start(&kit);
}

static void teardown(void)
{
	etcd_kit_stop(&kit);
}

TestSuite(store_etcd, .init = setup, .fini = teardown);

/* Kills etcd and starts it again on the same data and client port (etcd_kit starts fresh
 * members only); returns once a store opens on it again. */
static struct store *etcd_restart(void)
{
	char data[128], peer[64], cluster[96];
	struct store_options o;
	struct store *t = NULL;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	snprintf(data, sizeof(data), "%s/data", kit.dir);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", etcd_kit_free_port());
	snprintf(cluster, sizeof(cluster), "default=%s", peer);
	kill(kit.pid, SIGKILL);
	waitpid(kit.pid, NULL, 0);
	kit.pid = fork();
	cr_assert_geq(kit.pid, 0);
	if (kit.pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/usr/bin/etcd", "etcd", "--data-dir", data, "--listen-client-urls", kit.endpoint,
		      "--advertise-client-urls", kit.endpoint, "--listen-peer-urls", peer,
		      "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster, (char *)NULL);
		_exit(127);
	}
	/* Bounded: etcd answers within a few seconds or the test fails. */
	for (int i = 0; i < 600 && !t; i++) {
		t = store_open_etcd(kit.endpoint, "/skiff", &o);
		if (!t)
			usleep(50 * 1000);
	}
	cr_assert_not_null(t, "etcd did not come back on %s", kit.endpoint);
	return t;
}

static struct store *open_at(const char *endpoints, const char *prefix)
{
	struct store_options o;
	struct store *s;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	s = store_open_etcd(endpoints, prefix, &o);
	cr_assert_not_null(s, "open %s: %s", endpoints, strerror(errno));
	return s;
}

static struct store *open_store(void)
{
	return open_at(kit.endpoint, "/skiff");
}

Test(store_etcd, writes_compare_and_bump_the_revision)
{
	struct store *s = open_store();
	struct store_kv kv = { 0 };
	int64_t base = store_revision(s), r1, r2, r3;
	size_t n;

	cr_assert_eq(store_get(s, "/k", &kv), -ENOENT);
	cr_assert_eq(store_create(s, "/k", "{\"v\":1}", &r1), 0);
	cr_assert_eq(r1, base + 1);
	cr_assert_eq(store_create(s, "/k", "x", NULL), -EEXIST);
	cr_assert_eq(store_update(s, "/k", "{\"v\":2}", r1 + 5, NULL), -ESTALE);
	cr_assert_eq(store_update(s, "/nope", "x", 0, NULL), -ENOENT);
	cr_assert_eq(store_update(s, "/k", "{\"v\":2}", r1, &r2), 0);
	cr_assert_eq(r2, r1 + 1);
	cr_assert_eq(store_get(s, "/k", &kv), 0);
	cr_assert_str_eq(kv.key, "/k");
	cr_assert_str_eq(kv.value, "{\"v\":2}");
	cr_assert_eq(kv.value_len, strlen("{\"v\":2}"));
	cr_assert_eq(kv.create_rev, r1);
	cr_assert_eq(kv.mod_rev, r2);
	store_kv_clear(&kv);
	cr_assert_eq(store_count(s, "/", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_delete(s, "/k", r1, NULL), -ESTALE);
	cr_assert_eq(store_delete(s, "/k", r2, &r3), 0);
	cr_assert_eq(r3, r2 + 1);
	cr_assert_eq(store_delete(s, "/k", 0, NULL), -ENOENT);
	cr_assert_eq(store_revision(s), r3);
	store_close(s);
}

Test(store_etcd, txn_is_all_or_nothing_and_names_the_failing_op)
{
	struct store *s = open_store();
	struct store_op ops[3] = {
		{ .type = STORE_OP_CREATE, .key = "/t/a", .value = "a" },
		{ .type = STORE_OP_CREATE, .key = "/t/b", .value = "b" },
		{ .type = STORE_OP_UPDATE, .key = "/t/c", .value = "c" },
	};
	static struct store_op big[129];
	static char keys[129][24];
	struct store_kv kv = { 0 };
	int64_t rev, rb;
	size_t failed = 99;

	cr_assert_eq(store_create(s, "/t/b", "old", &rb), 0);
	cr_assert_eq(store_create(s, "/t/c", "old", NULL), 0);
	cr_assert_eq(store_txn(s, ops, 3, &rev, &failed), -EEXIST);
	cr_assert_eq(failed, 1);
	cr_assert_eq(store_get(s, "/t/a", &kv), -ENOENT, "nothing of a failed txn is applied");
	ops[1] = (struct store_op){ .type = STORE_OP_DELETE, .key = "/t/b", .expect_rev = rb + 100 };
	cr_assert_eq(store_txn(s, ops, 3, &rev, &failed), -ESTALE);
	cr_assert_eq(failed, 1);
	ops[2].key = "/t/missing";
	ops[1].expect_rev = rb;
	cr_assert_eq(store_txn(s, ops, 3, &rev, &failed), -ENOENT);
	cr_assert_eq(failed, 2);
	ops[2].key = "/t/c";
	cr_assert_eq(store_txn(s, ops, 3, &rev, &failed), 0);
	cr_assert_eq(rev, store_revision(s));
	cr_assert_eq(store_get(s, "/t/a", &kv), 0);
	cr_assert_eq(kv.mod_rev, rev);
	store_kv_clear(&kv);
	cr_assert_eq(store_get(s, "/t/c", &kv), 0);
	cr_assert_str_eq(kv.value, "c");
	cr_assert_eq(kv.mod_rev, rev, "every op of one txn shares its revision");
	store_kv_clear(&kv);
	cr_assert_eq(store_get(s, "/t/b", &kv), -ENOENT);
	for (int i = 0; i < 129; i++) {
		snprintf(keys[i], sizeof(keys[i]), "/big/%d", i);
		big[i] = (struct store_op){ .type = STORE_OP_CREATE, .key = keys[i], .value = "x" };
	}
	cr_assert_eq(store_txn(s, big, 129, NULL, NULL), -E2BIG, "etcd takes 128 ops per txn");
	cr_assert_eq(store_txn(s, big, 128, NULL, NULL), 0);
	store_close(s);
}

Test(store_etcd, list_prefix_start_after_limit_and_older_revision)
{
	struct store *s = open_store();
	struct store_list_result res = { 0 };
	int64_t mid;

	cr_assert_eq(store_create(s, "/l/a", "1", NULL), 0);
	cr_assert_eq(store_create(s, "/l/b", "1", NULL), 0);
	cr_assert_eq(store_create(s, "/l/c", "1", &mid), 0);
	cr_assert_eq(store_create(s, "/lx", "other", NULL), 0);
	cr_assert_eq(store_update(s, "/l/a", "2", 0, NULL), 0);
	cr_assert_eq(store_delete(s, "/l/b", 0, NULL), 0);

	cr_assert_eq(store_list(s, "/l/", NULL, 0, 0, &res), 0);
	cr_assert_eq(res.n, 2);
	cr_assert_str_eq(res.items[0].key, "/l/a");
	cr_assert_str_eq(res.items[0].value, "2");
	cr_assert_str_eq(res.items[1].key, "/l/c");
	cr_assert_eq(res.revision, store_revision(s));
	cr_assert(!res.more);
	store_list_result_clear(&res);

	cr_assert_eq(store_list(s, "/l/", NULL, 1, mid, &res), 0);
	cr_assert_eq(res.n, 1);
	cr_assert(res.more);
	cr_assert_str_eq(res.items[0].key, "/l/a");
	cr_assert_str_eq(res.items[0].value, "1", "as of the older revision");
	cr_assert_eq(res.revision, mid);
	store_list_result_clear(&res);
	cr_assert_eq(store_list(s, "/l/", "/l/a", 0, mid, &res), 0);
	cr_assert_eq(res.n, 2);
	cr_assert_str_eq(res.items[0].key, "/l/b");
	cr_assert_str_eq(res.items[1].key, "/l/c");
	store_list_result_clear(&res);
	cr_assert_eq(store_list(s, "/l/", NULL, 0, store_revision(s) + 100, &res), 0, "a future revision reads as now");
	cr_assert_eq(res.n, 2);
	store_list_result_clear(&res);
	store_close(s);
}

Test(store_etcd, compaction_refuses_older_lists_and_watches)
{
	struct store *s = open_store();
	struct store_list_result res = { 0 };
	struct store_watch *w = NULL;
	int64_t r1, r2;

	cr_assert_eq(store_create(s, "/c/a", "1", &r1), 0);
	cr_assert_eq(store_update(s, "/c/a", "2", 0, &r2), 0);
	cr_assert_eq(store_update(s, "/c/a", "3", 0, NULL), 0);
	cr_assert_eq(store_compact(s, r2), 0);
	cr_assert_eq(store_compacted_revision(s), r2);
	cr_assert_eq(store_list(s, "/c/", NULL, 0, r1, &res), -ERANGE);
	cr_assert_eq(store_list(s, "/c/", NULL, 0, r2, &res), 0);
	cr_assert_str_eq(res.items[0].value, "2");
	store_list_result_clear(&res);
	cr_assert_eq(store_watch_new(s, "/c/", r1, &w), -ERANGE);
	store_close(s);
}

/* Another store on the same etcd compacted: a replay from before it ends with -ERANGE and
 * teaches the store the floor; a store opened afterwards knows it from the start. */
Test(store_etcd, replay_from_a_revision_compacted_elsewhere_is_erange)
{
	struct store *a = open_store(), *b, *c;
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	int64_t r1, r2;

	cr_assert_eq(store_create(a, "/c/a", "1", &r1), 0);
	cr_assert_eq(store_update(a, "/c/a", "2", 0, &r2), 0);
	cr_assert_eq(store_update(a, "/c/a", "3", 0, NULL), 0);
	b = open_store(); /* its ring starts after these writes: a watch from r1 must replay */
	cr_assert_eq(store_compact(a, r2), 0);
	cr_assert_eq(store_compacted_revision(b), 0, "b has not heard of the compaction yet");
	cr_assert_eq(store_watch_new(b, "/c/", r1 - 1, &w), 0);
	cr_assert_eq(store_watch_next(w, &ev, 5000), -ERANGE);
	store_watch_free(w);
	cr_assert_eq(store_compacted_revision(b), r2, "etcd's answer carries the floor");
	c = open_store();
	cr_assert_eq(store_compacted_revision(c), r2, "found when opening");
	cr_assert_eq(store_watch_new(c, "/c/", r1 - 1, &w), -ERANGE);
	cr_assert_eq(store_watch_new(c, "/c/", r2, &w), 0);
	cr_assert_eq(store_watch_next(w, &ev, 5000), 0);
	cr_assert_str_eq(ev.value, "3");
	store_event_clear(&ev);
	store_watch_free(w);
	store_close(a);
	store_close(b);
	store_close(c);
}

static void expect_event(struct store_watch *w, enum store_event_type type, const char *key, const char *value,
			 const char *prev, int64_t rev)
{
	struct store_event ev = { 0 };
	int r = store_watch_next(w, &ev, 10000);

	cr_assert_eq(r, 0, "revision %lld: %s", (long long)rev, strerror(-r));
	cr_assert_eq(ev.type, type);
	cr_assert_str_eq(ev.key, key);
	cr_assert_str_eq(ev.value, value);
	if (prev)
		cr_assert_str_eq(ev.prev_value, prev);
	else
		cr_assert_null(ev.prev_value);
	cr_assert_eq(ev.mod_rev, rev, "got %lld, want %lld", (long long)ev.mod_rev, (long long)rev);
	store_event_clear(&ev);
}

Test(store_etcd, watch_from_now_sees_puts_updates_deletes_under_its_prefix)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	int64_t base;

	cr_assert_eq(store_create(s, "/a/0", "before", NULL), 0);
	cr_assert_eq(store_watch_new(s, "/a/", 0, &w), 0);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	base = store_revision(s);
	cr_assert_eq(store_create(s, "/b/1", "other", NULL), 0);
	cr_assert_eq(store_create(s, "/a/2", "v1", NULL), 0);
	cr_assert_eq(store_update(s, "/a/2", "v2", 0, NULL), 0);
	cr_assert_eq(store_delete(s, "/a/2", 0, NULL), 0);
	expect_event(w, STORE_EVENT_PUT, "/a/2", "v1", NULL, base + 2);
	expect_event(w, STORE_EVENT_PUT, "/a/2", "v2", "v1", base + 3);
	expect_event(w, STORE_EVENT_DELETE, "/a/2", "v2", NULL, base + 4);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	store_watch_free(w);
	store_close(s);
}

Test(store_etcd, watch_from_an_older_revision_replays_from_etcd_then_goes_live)
{
	struct store *s = open_store(), *t;
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	int64_t r1, r4;

	cr_assert_eq(store_create(s, "/r/1", "a", &r1), 0);
	cr_assert_eq(store_create(s, "/q/1", "other", NULL), 0);
	cr_assert_eq(store_update(s, "/r/1", "b", 0, NULL), 0);
	cr_assert_eq(store_delete(s, "/r/1", 0, &r4), 0);
	/* A fresh store's ring starts now: the older events come from etcd's history. */
	t = open_store();
	cr_assert_eq(store_watch_new(t, "/r/", r1 - 1, &w), 0);
	expect_event(w, STORE_EVENT_PUT, "/r/1", "a", NULL, r1);
	expect_event(w, STORE_EVENT_PUT, "/r/1", "b", "a", r1 + 2);
	expect_event(w, STORE_EVENT_DELETE, "/r/1", "b", NULL, r4);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	cr_assert_eq(store_create(s, "/r/2", "live", NULL), 0); /* written through the other store */
	expect_event(w, STORE_EVENT_PUT, "/r/2", "live", NULL, r4 + 1);
	store_watch_free(w);
	store_close(t);
	store_close(s);
}

static void *cancel_later(void *arg)
{
	store_watch_cancel(arg);
	return NULL;
}

Test(store_etcd, cancel_wakes_a_blocked_next)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	pthread_t t;

	cr_assert_eq(store_watch_new(s, "/", 0, &w), 0);
	cr_assert_eq(pthread_create(&t, NULL, cancel_later, w), 0);
	cr_assert_eq(store_watch_next(w, &ev, -1), -ECANCELED);
	pthread_join(t, NULL);
	store_watch_free(w);
	store_close(s);
}

Test(store_etcd, prefixes_keep_two_stores_apart)
{
	struct store *a = open_at(kit.endpoint, "/one"), *b = open_at(kit.endpoint, "/two");
	struct store_kv kv = { 0 };
	size_t n;

	cr_assert_eq(store_create(a, "/k", "a", NULL), 0);
	cr_assert_eq(store_create(b, "/k", "b", NULL), 0);
	cr_assert_eq(store_get(a, "/k", &kv), 0);
	cr_assert_str_eq(kv.value, "a");
	store_kv_clear(&kv);
	cr_assert_eq(store_count(b, "", &n), 0);
	cr_assert_eq(n, 1);
	store_close(a);
	store_close(b);
}

/* "/skiff-two" starts with "/skiff": the stores' ranges, lists and watches still stay apart. */
Test(store_etcd, a_prefix_that_extends_another_keeps_apart_too)
{
	struct store *a = open_at(kit.endpoint, "/skiff"), *b = open_at(kit.endpoint, "/skiff-two");
	struct store_op bad = { .type = STORE_OP_CREATE, .key = "k", .value = "v" };
	struct store_list_result lr = { 0 };
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	int64_t rev;
	size_t n;

	cr_assert_eq(store_watch_new(a, "", 0, &w), 0);
	cr_assert_eq(store_create(b, "/k", "b", NULL), 0);
	cr_assert_eq(store_create(a, "/k", "a", &rev), 0);
	cr_assert_eq(store_count(a, "", &n), 0);
	cr_assert_eq(n, 1, "a counts only its own key");
	cr_assert_eq(store_list(a, "", NULL, 0, 0, &lr), 0);
	cr_assert_eq(lr.n, 1);
	cr_assert_str_eq(lr.items[0].key, "/k");
	cr_assert_str_eq(lr.items[0].value, "a");
	store_list_result_clear(&lr);
	cr_assert_eq(store_watch_next(w, &ev, 5000), 0);
	cr_assert_str_eq(ev.key, "/k");
	cr_assert_str_eq(ev.value, "a", "b's write is not a's event");
	cr_assert_eq(ev.mod_rev, rev);
	store_event_clear(&ev);
	cr_assert_eq(store_txn(a, &bad, 1, NULL, NULL), -EINVAL, "keys start with '/'");
	store_watch_free(w);
	store_close(a);
	store_close(b);
}

/* Lists longer than a page (ETCD_LIST_PAGE keys) are read in pages, every page at the first
 * one's revision: whole, in key order, limits and older revisions kept. */
Test(store_etcd, a_list_longer_than_a_page_reads_whole_at_one_revision)
{
	enum { TXNS = 17, KEYS = TXNS * 128, OLD_TXNS = 10 };
	static char keys[KEYS][16];
	struct store *s = open_store();
	struct store_list_result r = { 0 };
	struct store_op ops[128];
	int64_t rev, old = 0;
	char want[32];

	for (int t = 0; t < TXNS; t++) {
		for (int i = 0; i < 128; i++) {
			snprintf(keys[t * 128 + i], sizeof(keys[0]), "/l/%06d", t * 128 + i);
			ops[i] = (struct store_op){ .type = STORE_OP_CREATE, .key = keys[t * 128 + i], .value = "v" };
		}
		cr_assert_eq(store_txn(s, ops, 128, &rev, NULL), 0);
		if (t == OLD_TXNS - 1)
			old = rev;
	}
	cr_assert_eq(store_list(s, "/l/", NULL, 0, 0, &r), 0);
	cr_assert_eq(r.n, KEYS);
	cr_assert_not(r.more);
	cr_assert_eq(r.revision, rev);
	for (size_t i = 0; i < r.n; i++) {
		snprintf(want, sizeof(want), "/l/%06zu", i);
		cr_assert_str_eq(r.items[i].key, want);
	}
	store_list_result_clear(&r);
	cr_assert_eq(store_list(s, "/l/", "/l/000099", 1500, 0, &r), 0);
	cr_assert_eq(r.n, 1500);
	cr_assert(r.more);
	cr_assert_str_eq(r.items[0].key, "/l/000100");
	cr_assert_str_eq(r.items[1499].key, "/l/001599");
	store_list_result_clear(&r);
	cr_assert_eq(store_list(s, "/l/", NULL, 0, old, &r), 0);
	cr_assert_eq(r.n, OLD_TXNS * 128, "every page at revision %lld", (long long)old);
	cr_assert_eq(r.revision, old);
	store_list_result_clear(&r);
	store_close(s);
}

Test(store_etcd, a_dead_endpoint_fails_over_to_the_next)
{
	char eps[160];
	struct store *s;
	struct store_watch *w = NULL;
	struct store_kv kv = { 0 };
	int64_t rev;

	snprintf(eps, sizeof(eps), "http://127.0.0.1:%d,%s", etcd_kit_free_port(), kit.endpoint);
	s = open_at(eps, "/skiff");
	cr_assert_eq(store_watch_new(s, "/f/", 0, &w), 0);
	cr_assert_eq(store_create(s, "/f/k", "v", &rev), 0);
	cr_assert_eq(store_get(s, "/f/k", &kv), 0);
	cr_assert_eq(kv.mod_rev, rev);
	store_kv_clear(&kv);
	expect_event(w, STORE_EVENT_PUT, "/f/k", "v", NULL, rev);
	store_watch_free(w);
	store_close(s);
}

Test(store_etcd, a_broken_watch_stream_resumes_after_the_last_revision)
{
	struct store *s = open_store(), *t;
	struct store_watch *w = NULL;
	int64_t rev;

	cr_assert_eq(store_watch_new(s, "/w/", 0, &w), 0);
	cr_assert_eq(store_create(s, "/w/1", "a", &rev), 0);
	expect_event(w, STORE_EVENT_PUT, "/w/1", "a", NULL, rev);
	t = etcd_restart();
	cr_assert_eq(store_create(t, "/w/2", "b", NULL), 0);
	cr_assert_eq(store_update(t, "/w/1", "c", 0, NULL), 0);
	expect_event(w, STORE_EVENT_PUT, "/w/2", "b", NULL, rev + 1);
	expect_event(w, STORE_EVENT_PUT, "/w/1", "c", "a", rev + 2);
	store_watch_free(w);
	store_close(t);
	store_close(s);
}

#define WRITERS 4
#define PER_WRITER 25

struct writer {
	struct store *s;
	int id;
};

static void *write_many(void *arg)
{
	struct writer *wr = arg;
	char key[32];

	for (int i = 0; i < PER_WRITER; i++) {
		snprintf(key, sizeof(key), "/m/%d/%d", wr->id, i);
		if (store_create(wr->s, key, "v", NULL) != 0)
			return (void *)1;
	}
	return NULL;
}

Test(store_etcd, concurrent_writers_and_a_txn_reach_a_watcher_in_revision_order)
{
	struct store *s = open_store();
	struct store_op ops[2] = {
		{ .type = STORE_OP_CREATE, .key = "/m/x", .value = "1" },
		{ .type = STORE_OP_CREATE, .key = "/m/y", .value = "2" },
	};
	struct writer wr[WRITERS];
	pthread_t t[WRITERS];
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	int64_t base = store_revision(s), trev;
	void *res;

	cr_assert_eq(store_watch_new(s, "/m/", 0, &w), 0);
	for (int i = 0; i < WRITERS; i++) {
		wr[i] = (struct writer){ s, i };
		cr_assert_eq(pthread_create(&t[i], NULL, write_many, &wr[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], &res);
		cr_assert_null(res, "writer %d failed", i);
	}
	cr_assert_eq(store_txn(s, ops, 2, &trev, NULL), 0);
	cr_assert_eq(trev, base + WRITERS * PER_WRITER + 1);
	for (int64_t rev = base + 1; rev < trev; rev++) {
		int r = store_watch_next(w, &ev, 5000);
		cr_assert_eq(r, 0, "revision %lld: %s", (long long)rev, strerror(-r));
		cr_assert_eq(ev.mod_rev, rev, "no gaps, in order");
		store_event_clear(&ev);
	}
	expect_event(w, STORE_EVENT_PUT, "/m/x", "1", NULL, trev);
	expect_event(w, STORE_EVENT_PUT, "/m/y", "2", NULL, trev);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	store_watch_free(w);
	store_close(s);
}

Test(store_etcd, a_value_over_etcds_request_limit_is_e2big)
{
	struct store *s = open_store();
	size_t n = 2u << 20;
	_cleanup_free_ char *big = malloc(n + 1);
	struct store_kv kv = { 0 };
	int r;

	cr_assert_not_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	r = store_create(s, "/big", big, NULL);
	cr_assert_eq(r, -E2BIG, "2 MiB: %s", strerror(-r));
	big[(3u << 20) / 2 + 4096] = '\0'; /* over etcd's 1.5 MiB request limit */
	r = store_create(s, "/big", big, NULL);
	cr_assert_eq(r, -E2BIG, "1.5 MiB: %s", strerror(-r));
	cr_assert_eq(store_get(s, "/big", &kv), -ENOENT);
	big[1u << 20] = '\0'; /* 1 MiB fits */
	cr_assert_eq(store_create(s, "/big", big, NULL), 0);
	cr_assert_eq(store_get(s, "/big", &kv), 0);
	cr_assert_eq(kv.value_len, 1u << 20);
	store_kv_clear(&kv);
	store_close(s);
}

Test(store_etcd, open_fails_when_no_endpoint_answers)
{
	char eps[96];

	snprintf(eps, sizeof(eps), "http://127.0.0.1:%d,http://127.0.0.1:%d", etcd_kit_free_port(), etcd_kit_free_port());
	errno = 0;
	cr_assert_null(store_open_etcd(eps, "/skiff", NULL));
	cr_assert_eq(errno, ECONNREFUSED);
	cr_assert_null(store_open_etcd("", "/skiff", NULL));
	cr_assert_eq(errno, EINVAL);
}

/* Sockets of this network namespace to port in TIME-WAIT: the trace of a closed connection. */
static int time_wait_to(int port)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/tcp", "re");
	char line[256];
	unsigned rport, state;
	int n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%*x %*x:%x %x", &rport, &state) == 2 && (int)rport == port &&
		    state == 0x06)
			n++;
	return n;
}

Test(store_etcd, requests_reuse_connections_and_survive_a_restart)
{
	struct store *s = open_store(), *t;
	struct store_kv kv = { 0 };
	int before = time_wait_to(kit.client_port);

	cr_assert_eq(store_create(s, "/r/k", "v", NULL), 0);
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(store_get(s, "/r/k", &kv), 0);
		store_kv_clear(&kv);
	}
	cr_assert_lt(time_wait_to(kit.client_port) - before, 10, "one connection per request");
	/* The pooled connections die with etcd: the next requests connect again. */
	t = etcd_restart();
	cr_assert_eq(store_update(s, "/r/k", "w", 0, NULL), 0);
	cr_assert_eq(store_get(s, "/r/k", &kv), 0);
	cr_assert_str_eq(kv.value, "w");
	store_kv_clear(&kv);
	store_close(t);
	store_close(s);
}
