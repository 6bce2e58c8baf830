/* etcd maintenance against a real etcd-server: defragmentation after compaction (by hand and by
 * the compactor, a dead member skipped), and the watch feeder resuming past compacted revisions:
 * its watchers fail with -ERANGE instead of silently missing the events in between. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/etcd_kit.h"
#include "store/etcd.h"

static struct etcd_kit kit;

static void setup(void)
{
	etcd_kit_start(&kit);
}

static void teardown(void)
{
	etcd_kit_stop(&kit);
}

TestSuite(store_etcd_maint, .init = setup, .fini = teardown);

static struct store *open_at(const char *endpoints, int compact_interval_s)
{
	struct store_options o;
	struct store *s;

	store_options_init(&o);
	o.compact_interval_seconds = compact_interval_s;
	o.compact_keep_seconds = 0;
	o.compact_keep_revisions = 0;
	s = store_open_etcd(endpoints, "/skiff", &o);
	cr_assert_not_null(s, "open %s: %s", endpoints, strerror(errno));
	return s;
}

/* A store on etcd restarted on port (same data), once it serves requests (bounded). */
static struct store *restart_on(int port)
{
	struct store *t = NULL;
	struct store_options o;

	etcd_kit_restart(&kit, port);
	store_options_init(&o);
	o.compact_interval_seconds = 0;
	for (int i = 0; i < 600 && !t; i++) {
		t = store_open_etcd(kit.endpoint, "/skiff", &o);
		if (!t)
			usleep(50 * 1000);
	}
	cr_assert_not_null(t, "etcd did not come back on %s", kit.endpoint);
	return t;
}

/* Writes then deletes n values of 128 KiB: the file grows, and compaction frees it inside. */
static void churn(struct store *s, int n)
{
	size_t len = 128 << 10;
	char *v = malloc(len + 1), key[32];

	cr_assert_not_null(v);
	memset(v, 'x', len);
	v[len] = '\0';
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "/big/%d", i);
		cr_assert_eq(store_create(s, key, v, NULL), 0);
	}
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "/big/%d", i);
		cr_assert_eq(store_delete(s, key, 0, NULL), 0);
	}
	free(v);
}

/* A small write, then a pause: etcd updates dbSizeInUse only when it commits writes. */
static void tick(struct store *s, int i)
{
	char key[32];

	snprintf(key, sizeof(key), "/tick/%d", i);
	cr_assert_eq(store_create(s, key, "t", NULL), 0);
	nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL);
}

/* Runs etcd_defrag with stderr going to a file, whose text lands in log. */
static int defrag_logged(struct store *s, int64_t min_free, char *log, size_t len)
{
	char path[] = "/tmp/skiff-defrag-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2), n;
	ssize_t got;

	cr_assert_geq(fd, 0);
	cr_assert_geq(saved, 0);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	n = etcd_defrag(s, min_free);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	got = pread(fd, log, len - 1, 0);
	close(fd);
	log[got > 0 ? got : 0] = '\0';
	return n;
}

Test(store_etcd_maint, defrag_shrinks_the_file_and_skips_a_dead_member)
{
	char endpoints[160], log[8192], dead[64];
	int64_t size0, used0, size1, used1;
	struct store *s;

	snprintf(dead, sizeof(dead), "127.0.0.1:%d", etcd_kit_free_port());
	snprintf(endpoints, sizeof(endpoints), "http://%s,%s", dead, kit.endpoint);
	s = open_at(endpoints, 0);
	churn(s, 40);
	cr_assert_eq(store_compact(s, store_revision(s)), 0);
	cr_assert_eq(etcd_member_status(s->etcd, 0, &size0, &used0), -ECONNREFUSED);
	/* etcd compacts in the background, and counts the freed pages at its next commits:
	 * bounded wait, with writes, until they are free. */
	for (int i = 0; i < 100; i++) {
		tick(s, i);
		cr_assert_eq(etcd_member_status(s->etcd, 1, &size0, &used0), 0);
		if (size0 - used0 > 4 << 20)
			break;
	}
	cr_assert_gt(used0, 0, "etcd reports dbSizeInUse");
	cr_assert_gt(size0 - used0, 4 << 20, "compaction left %lld of %lld bytes free", (long long)(size0 - used0),
		     (long long)size0);

	cr_assert_eq(defrag_logged(s, 0, log, sizeof(log)), 1, "the live member is defragmented");
	cr_assert(strstr(log, dead) && strstr(log, "skipped"), "the dead member is logged: %s", log);
	cr_assert(strstr(log, "before"), "the sizes are logged: %s", log);
	cr_assert_eq(etcd_member_status(s->etcd, 1, &size1, &used1), 0);
	cr_assert_lt(size1, size0 - (4 << 20), "dbSize %lld -> %lld", (long long)size0, (long long)size1);
	cr_assert_eq(defrag_logged(s, ETCD_DEFRAG_MIN_FREE, log, sizeof(log)), 0, "nothing left to free");
	store_close(s);
}

Test(store_etcd_maint, the_compactor_defragments_after_compacting)
{
	int64_t size0, used0, size, used;
	struct store *s = open_at(kit.endpoint, 1);

	store_set_maintenance(s, false); /* as an instance that does not lead */
	churn(s, 80);
	cr_assert_eq(etcd_member_status(s->etcd, 0, &size0, &used0), 0);
	cr_assert_gt(size0, 8 << 20);
	store_set_maintenance(s, true);
	/* Bounded: the compactor ticks every second; it compacts, then defragments. */
	size = size0;
	for (int i = 0; i < 300 && size > size0 - (8 << 20); i++) {
		tick(s, i);
		cr_assert_eq(etcd_member_status(s->etcd, 0, &size, &used), 0);
	}
	cr_assert_lt(size, size0 - (8 << 20), "dbSize %lld -> %lld", (long long)size0, (long long)size);
	cr_assert_eq(store_compacted_revision(s), store_revision(s));
	store_close(s);
}

static int64_t next_rev(struct store_watch *w)
{
	struct store_event ev = { 0 };
	int64_t rev;

	cr_assert_eq(store_watch_next(w, &ev, 20000), 0);
	rev = ev.mod_rev;
	store_event_clear(&ev);
	return rev;
}

Test(store_etcd_maint, feeder_resumed_past_compaction_fails_its_watchers_with_erange)
{
	struct store *s = open_at(kit.endpoint, 0), *t;
	struct store_watch *wa, *wb, *wnew, *wold;
	struct store_event ev = { 0 };
	int64_t r1, r2, compacted;
	int port, r;

	cr_assert_eq(store_watch_new(s, "/a/", 0, &wa), 0);
	cr_assert_eq(store_watch_new(s, "/b/", 0, &wb), 0);
	cr_assert_eq(store_create(s, "/a/1", "1", &r1), 0);
	cr_assert_eq(next_rev(wa), r1);

	/* The feeder's etcd goes away; meanwhile another client, on a port s does not know,
	 * writes and compacts past what the feeder has read. */
	port = kit.client_port;
	t = restart_on(etcd_kit_free_port());
	cr_assert_eq(store_create(t, "/a/2", "2", NULL), 0);
	cr_assert_eq(store_create(t, "/b/1", "1", &r2), 0);
	cr_assert_eq(store_compact(t, r2), 0);
	compacted = store_compacted_revision(t);
	store_close(t);
	store_close(restart_on(port));

	/* Both watchers could have missed events: -ERANGE (bounded wait: the feeder's back-off). */
	r = store_watch_next(wa, &ev, 30000);
	cr_assert_eq(r, -ERANGE, "watcher of /a/: %d (%s), not a silent skip", r, r == 0 ? ev.key : "-");
	cr_assert_eq(store_watch_next(wa, &ev, 0), -ERANGE, "sticky");
	cr_assert_eq(store_watch_next(wb, &ev, 30000), -ERANGE, "watcher of /b/");
	cr_assert_geq(store_compacted_revision(s), compacted);

	/* From inside the gap: -ERANGE too, at once or on its first read. */
	r = store_watch_new(s, "/a/", r1, &wold);
	if (r == 0) {
		r = store_watch_next(wold, &ev, 20000);
		store_watch_free(wold);
	}
	cr_assert_eq(r, -ERANGE, "a watch from revision %lld: %d", (long long)r1, r);

	/* A watch started now sees what comes next. */
	cr_assert_eq(store_watch_new(s, "/a/", 0, &wnew), 0);
	cr_assert_eq(store_create(s, "/a/3", "3", &r1), 0);
	cr_assert_gt(r1, r2);
	cr_assert_eq(next_rev(wnew), r1);
	store_watch_free(wnew);
	store_watch_free(wa);
	store_watch_free(wb);
	store_close(s);
}
