/* Store watches: live events, prefix filtering, replay from the log then the ring with no
 * gaps or duplicates, the eventfd, cancel, slow watchers (-ERANGE) and compaction. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_internal.h"

static char dir[64];
static char dbpath[128];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void setup(void)
{
	strcpy(dir, "/tmp/skiff-watch-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", dir);
}

static void teardown(void)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(watch, .init = setup, .fini = teardown);

static struct store *open_store(void)
{
	struct store_options o;
	struct store *s;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	o.durable = false; /* watches do not depend on fsync; keeps the tests quick */
	s = store_open_sqlite(dbpath, &o);
	cr_assert_not_null(s, "open %s: %s", dbpath, strerror(errno));
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

Test(watch, from_now_with_prefix_filter)
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
	cr_assert_eq(ev.create_rev, 3);
	cr_assert_eq(ev.mod_rev, 3);
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	cr_assert_eq(ev.type, STORE_EVENT_PUT);
	cr_assert_str_eq(ev.value, "v2");
	cr_assert_str_eq(ev.prev_value, "v1");
	cr_assert_eq(ev.create_rev, 3);
	cr_assert_eq(ev.mod_rev, 4);
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	cr_assert_eq(ev.type, STORE_EVENT_DELETE);
	cr_assert_str_eq(ev.value, "v2");
	cr_assert_null(ev.prev_value);
	cr_assert_eq(ev.mod_rev, 5);
	store_event_clear(&ev);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	store_watch_free(w);
	store_close(s);
}

Test(watch, txn_events_share_one_revision)
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

Test(watch, fd_polls_readable_while_events_pend)
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

Test(watch, from_older_revision_replays_then_goes_live)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;

	put_n(s, "/r/%d", 0, 20);
	cr_assert_eq(store_watch_new(s, "/r/", 5, &w), 0);
	expect_revs(w, 5, 20);
	put_n(s, "/r/%d", 20, 5);
	expect_revs(w, 20, 25);
	store_watch_free(w);
	store_close(s);
}

Test(watch, replay_after_reopen_reads_the_log)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;

	put_n(s, "/r/%d", 0, 30);
	store_close(s);
	s = open_store(); /* the ring starts empty: revisions 11..30 come from disk */
	cr_assert_eq(store_watch_new(s, "/r/", 10, &w), 0);
	expect_revs(w, 10, 30);
	put_n(s, "/r/%d", 30, 2);
	expect_revs(w, 30, 32);
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
	char key[64];

	for (int i = b->from; i < b->from + b->n; i++) {
		snprintf(key, sizeof(key), "/r/%d", i);
		if (store_create(b->s, key, "{}", NULL) < 0)
			break;
	}
	return NULL;
}

Test(watch, replay_joins_ring_under_concurrent_writes)
{
	enum { OLD = STORE_RING_SOFT_EVENTS + 1000, LIVE = 2000 };
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };
	struct bg_writer b = { .from = OLD, .n = LIVE };
	pthread_t th;

	b.s = s;
	put_n(s, "/r/%d", 0, OLD);
	cr_assert_eq(store_watch_new(s, "/r/", 100, &w), 0);
	pthread_create(&th, NULL, bg_writer_main, &b);
	for (int64_t rev = 101; rev <= OLD + LIVE; rev++) {
		int r = store_watch_next(w, &ev, 10000);
		cr_assert_eq(r, 0, "revision %lld: %s", (long long)rev, strerror(-r));
		cr_assert_eq(ev.mod_rev, rev, "got %lld want %lld", (long long)ev.mod_rev, (long long)rev);
		store_event_clear(&ev);
	}
	pthread_join(th, NULL);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ETIMEDOUT);
	store_watch_free(w);
	store_close(s);
}

Test(watch, slow_watcher_is_ended_not_waited_for)
{
	struct store *s = open_store();
	struct store_watch *w = NULL;
	struct store_event ev = { 0 };

	cr_assert_eq(store_watch_new(s, "/s/", 0, &w), 0);
	put_n(s, "/s/%d", 0, STORE_RING_SOFT_EVENTS + 100);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ERANGE);
	cr_assert_eq(store_watch_next(w, &ev, 0), -ERANGE, "the end is final");
	store_watch_free(w);
	store_close(s);
}

Test(watch, compaction_ends_a_replay_and_refuses_older_starts)
{
	struct store *s = open_store();
	struct store_watch *w = NULL, *w2 = NULL;
	struct store_event ev = { 0 };
	int r, n = 0;

	put_n(s, "/c/%d", 0, 600);
	store_close(s);
	s = open_store();
	cr_assert_eq(store_watch_new(s, "/c/", 1, &w), 0);
	cr_assert_eq(store_watch_next(w, &ev, 1000), 0);
	store_event_clear(&ev);
	cr_assert_eq(store_compact(s, 550), 0);
	while ((r = store_watch_next(w, &ev, 1000)) == 0) {
		store_event_clear(&ev);
		n++;
	}
	cr_assert_eq(r, -ERANGE, "replay past the compacted revision must end: %s", strerror(-r));
	cr_assert_lt(n, 600);
	cr_assert_eq(store_watch_new(s, "/c/", 549, &w2), -ERANGE);
	cr_assert_eq(store_watch_new(s, "/c/", 550, &w2), 0);
	expect_revs(w2, 550, 600);
	store_watch_free(w2);
	store_watch_free(w);
	store_close(s);
}

static void *cancel_waiter(void *p)
{
	struct store_event ev = { 0 };

	return (void *)(intptr_t)store_watch_next(p, &ev, -1);
}

Test(watch, cancel_wakes_a_blocked_next)
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

Test(watch, many_watchers_each_see_every_event)
{
	enum { WATCHERS = 200, WRITES = 50 };
	struct store *s = open_store();
	struct store_watch *w[WATCHERS];

	for (int i = 0; i < WATCHERS; i++)
		cr_assert_eq(store_watch_new(s, i % 2 ? "/m/" : "", 0, &w[i]), 0);
	put_n(s, "/m/%d", 0, WRITES);
	for (int i = 0; i < WATCHERS; i++) {
		expect_revs(w[i], 0, WRITES);
		store_watch_free(w[i]);
	}
	store_close(s);
}
