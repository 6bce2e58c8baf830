/* Store watches on both backends (suite watch: SQLite; watch_on_etcd: a real etcd-server):
 * live events, prefix filtering, replay from the log (etcd's history) then the ring with no
 * gaps or duplicates, the eventfd, cancel, slow watchers (-ERANGE) and compaction. Revisions
 * count from the store's revision when the test opened it (etcd starts at 1). */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/store_kit.h"
#include "store/store.h"
#include "store/store_internal.h"

STORE_KIT_SUITES(watch);

#define WATCH_TEST(name) STORE_KIT_TEST(watch, name)

static int64_t base; /* the store's revision when the test first opened it */

static struct store *open_store(void)
{
	static bool opened;
	struct store_options o;
	struct store *s;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.durable = false; /* watches do not depend on fsync; keeps the tests quick */
	s = store_kit_open(&o);
	if (!opened)
		base = store_revision(s);
	opened = true;
	return s;
}

static void put_n(struct store *s, const char *fmt, int from, int n)
{
	char key[128];

	for (int i = from; i < from + n; i++) {
		snprintf(key, sizeof(key), fmt, i);
		cr_assert_eq(store_create(s, key, key, NULL), 0, "create %s", key);
	}
}

/* Reads events until none is pending; checks they carry exactly revisions from+1..to. */
static void expect_revs(struct store_watch *w, int64_t from, int64_t to)
{
	struct store_event ev = { 0 };

	for (int64_t rev = from + 1; rev <= to; rev++) {
		int r = store_watch_next(w, &ev, 5000);
		cr_assert_eq(r, 0, "revision %lld: %s", (long long)rev, strerror(-r));
		cr_assert_eq(ev.mod_rev, rev, "got revision %lld, want %lld", (long long)ev.mod_rev, (long long)rev);
		store_event_clear(&ev);
	}
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT, "no event beyond %lld", (long long)to);
}

/* Keys fmt(from..from+n-1) written PER_TXN to a txn: a revision per txn, PER_TXN events each
 * (many events with few writes keep the tests quick on etcd too). */
#define PER_TXN 8

static void put_txns(struct store *s, const char *fmt, int from, int n)
{
	char keys[PER_TXN][64];
	struct store_op ops[PER_TXN];

	for (int i = 0; i < n; i += PER_TXN) {
		for (int j = 0; j < PER_TXN; j++) {
			snprintf(keys[j], sizeof(keys[j]), fmt, from + i + j);
			ops[j] = (struct store_op){ .type = STORE_OP_CREATE, .key = keys[j], .value = "{}" };
		}
		cr_assert_eq(store_txn(s, ops, PER_TXN, NULL, NULL), 0, "txn at %s", keys[0]);
	}
}

/* Reads the events of keys fmt(from..to-1) as put_txns wrote them: in key order, the first at
 * revision first_rev, the revision one higher every PER_TXN events: no gap, no repeat. */
static void expect_txn_keys(struct store_watch *w, const char *fmt, int from, int to, int64_t first_rev)
{
	struct store_event ev = { 0 };
	char key[64];

	for (int i = from; i < to; i++) {
		int r = store_watch_next(w, &ev, 10000);

		snprintf(key, sizeof(key), fmt, i);
		cr_assert_eq(r, 0, "%s: %s", key, strerror(-r));
		cr_assert_str_eq(ev.key, key);
		cr_assert_eq(ev.mod_rev, first_rev + (i - from) / PER_TXN, "%s at %lld", key, (long long)ev.mod_rev);
		store_event_clear(&ev);
	}
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT, "no event beyond %d", to);
}

WATCH_TEST(from_now_with_prefix_filter)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };

	cr_assert_eq(store_create(s, "/a/1", "before", NULL), 0);
	cr_assert_eq(store_watch_new(s, "/a/", 0, &w), 0);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	cr_assert_eq(store_create(s, "/b/1", "other", NULL), 0);	    /* 2 */
	cr_assert_eq(store_create(s, "/a/2", "v1", NULL), 0);	    /* 3 */
	cr_assert_eq(store_update(s, "/a/2", "v2", 0, NULL), 0);	    /* 4 */
	cr_assert_eq(store_delete(s, "/a/2", 0, NULL), 0);	    /* 5 */

	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	cr_assert_eq(ev.type, STORE_EVENT_PUT);
	cr_assert_str_eq(ev.key, "/a/2");
	cr_assert_str_eq(ev.value, "v1");
	cr_assert_null(ev.prev_value);
	cr_assert_eq(ev.create_rev, base + 3);
	cr_assert_eq(ev.mod_rev, base + 3);
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	cr_assert_eq(ev.type, STORE_EVENT_PUT);
	cr_assert_str_eq(ev.value, "v2");
	cr_assert_str_eq(ev.prev_value, "v1");
	cr_assert_eq(ev.create_rev, base + 3);
	cr_assert_eq(ev.mod_rev, base + 4);
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	cr_assert_eq(ev.type, STORE_EVENT_DELETE);
	cr_assert_str_eq(ev.value, "v2");
	cr_assert_null(ev.prev_value);
	cr_assert_eq(ev.mod_rev, base + 5);
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	store_watch_free(w);
	store_close(s);
}

WATCH_TEST(txn_events_share_one_revision)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	struct store_op ops[] = {
		{ .type = STORE_OP_CREATE, .key = "/t/c", .value = "c" },
		{ .type = STORE_OP_CREATE, .key = "/t/a", .value = "a" },
	};
	int64_t rev;

	cr_assert_eq(store_watch_new(s, "/t/", 0, &w), 0);
	cr_assert_eq(store_txn(s, ops, 2, &rev, NULL), 0);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	cr_assert_str_eq(ev.key, "/t/c", "events come in op order");
	cr_assert_eq(ev.mod_rev, rev);
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	cr_assert_str_eq(ev.key, "/t/a");
	cr_assert_eq(ev.mod_rev, rev);
	store_event_clear(&ev);
	store_watch_free(w);
	store_close(s);
}

WATCH_TEST(fd_polls_readable_while_events_pend)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	struct pollfd p = { .events = POLLIN };

	cr_assert_eq(store_watch_new(s, "/f/", 0, &w), 0);
	p.fd = store_watch_fd(w);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	cr_assert_eq(poll(&p, 1, 0), 0, "drained watch must not poll readable");
	cr_assert_eq(store_create(s, "/other", "x", NULL), 0);
	cr_assert_eq(poll(&p, 1, 0), 0, "an event outside the prefix must not wake the watch");
	cr_assert_eq(store_create(s, "/f/1", "x", NULL), 0);
	cr_assert_eq(poll(&p, 1, 5000), 1);
	cr_assert_eq(store_watch_next(w, &ev, 0), 0);
	cr_assert_str_eq(ev.key, "/f/1");
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	cr_assert_eq(poll(&p, 1, 0), 0);
	store_watch_free(w);
	store_close(s);
}

WATCH_TEST(from_older_revision_replays_then_goes_live)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;

	put_n(s, "/r/%d", 0, 20);
	cr_assert_eq(store_watch_new(s, "/r/", base + 5, &w), 0);
	expect_revs(w, base + 5, base + 20);
	put_n(s, "/r/%d", 20, 5);
	expect_revs(w, base + 20, base + 25);
	store_watch_free(w);
	store_close(s);
}

WATCH_TEST(replay_after_reopen_reads_the_log)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;

	put_n(s, "/r/%d", 0, 30);
	store_close(s);
	s = open_store(); /* the ring starts empty: revisions 11..30 come from disk */
	cr_assert_eq(store_watch_new(s, "/r/", base + 10, &w), 0);
	expect_revs(w, base + 10, base + 30);
	put_n(s, "/r/%d", 30, 2);
	expect_revs(w, base + 30, base + 32);
	store_watch_free(w);
	store_close(s);
}

struct bg_writer {
	struct store *s;
	int from, n;
};

static void *bg_writer_main(void *p)
{
	struct bg_writer *b = p;

	put_txns(b->s, "/r/%06d", b->from, b->n);
	return NULL;
}

WATCH_TEST(replay_joins_ring_under_concurrent_writes)
{
	/* More events than the ring holds before the watch starts, so it replays; then live. */
	enum { OLD = STORE_RING_SOFT_EVENTS + 1000, LIVE = 2000, SKIP = 100 * PER_TXN };
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct bg_writer b = { .from = OLD, .n = LIVE };
	pthread_t th;

	_Static_assert(OLD % PER_TXN == 0 && LIVE % PER_TXN == 0, "whole txns");
	b.s = s;
	put_txns(s, "/r/%06d", 0, OLD);
	cr_assert_eq(store_watch_new(s, "/r/", base + SKIP / PER_TXN, &w), 0);
	pthread_create(&th, NULL, bg_writer_main, &b);
	expect_txn_keys(w, "/r/%06d", SKIP, OLD + LIVE, base + SKIP / PER_TXN + 1);
	pthread_join(th, NULL);
	store_watch_free(w);
	store_close(s);
}

WATCH_TEST(slow_watcher_is_ended_not_waited_for)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };

	cr_assert_eq(store_watch_new(s, "/s/", 0, &w), 0);
	put_txns(s, "/s/%d", 0, STORE_RING_SOFT_EVENTS + 100 * PER_TXN);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ERANGE);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ERANGE, "the end is final");
	store_watch_free(w);
	store_close(s);
}

/* The compaction lands while the replay is under way: after the first replay step, which
 * reads 256 revisions on SQLite and on etcd the first watch message (at most 1,000 revisions,
 * read on until 1,024 events: here 2,000 events of 1,000 txns). */
WATCH_TEST(compaction_ends_a_replay_and_refuses_older_starts)
{
	enum { N = 1100 * PER_TXN, FLOOR = N / PER_TXN - 50 }; /* FLOOR: a revision */
	struct store *s = open_store();
	struct store_watch *w = NULL, *w2 = NULL;
	struct store_event ev = { 0 };
	int r, n = 0;

	put_txns(s, "/c/%06d", 0, N);
	store_close(s);
	s = open_store();
	cr_assert_eq(store_watch_new(s, "/c/", base + 1, &w), 0);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	store_event_clear(&ev);
	cr_assert_eq(store_compact(s, base + FLOOR), 0);
	while ((r = store_watch_next(w, &ev, 1000)) == 0) {
		store_event_clear(&ev);
		n++;
	}
	cr_assert_eq(r, -ERANGE, "replay past the compacted revision must end: %s (%d events)", strerror(-r), n);
	cr_assert_lt(n, N);
	cr_assert_eq(store_watch_new(s, "/c/", base + FLOOR - 1, &w2), -ERANGE);
	cr_assert_eq(store_watch_new(s, "/c/", base + FLOOR, &w2), 0);
	expect_txn_keys(w2, "/c/%06d", FLOOR * PER_TXN, N, base + FLOOR + 1);
	store_watch_free(w2);
	store_watch_free(w);
	store_close(s);
}

static void *cancel_waiter(void *p)
{
	struct store_event ev = { 0 };

	return (void *)(intptr_t)store_watch_next(p, &ev, -1);
}

WATCH_TEST(cancel_wakes_a_blocked_next)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	pthread_t th;
	void *res;

	cr_assert_eq(store_watch_new(s, "/x/", 0, &w), 0);
	pthread_create(&th, NULL, cancel_waiter, w);
	usleep(50 * 1000);
	store_watch_cancel(w);
	pthread_join(th, &res);
	cr_assert_eq((int)(intptr_t)res, -ECANCELED);
	store_watch_free(w);
	store_close(s);
}

WATCH_TEST(many_watchers_each_see_every_event)
{
	enum { WATCHERS = 200, WRITES = 50 };
	struct store *s = open_store();
	struct store_watch *w[WATCHERS];

	for (int i = 0; i < WATCHERS; i++)
		cr_assert_eq(store_watch_new(s, i % 2 ? "/m/" : "", 0, &w[i]), 0);
	put_n(s, "/m/%d", 0, WRITES);
	for (int i = 0; i < WATCHERS; i++) {
		expect_revs(w[i], base, base + WRITES);
		store_watch_free(w[i]);
	}
	store_close(s);
}
