/* Store compaction: dropping log history up to a revision, and the background compactor
 * that keeps at least compact_keep_seconds and compact_keep_revisions of it (and on etcd
 * defragments members with much free space), while maintenance is on. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "store/etcd.h"
#include "store/store_internal.h"

/* Log rows deleted per statement, so writers never wait long behind a compaction. */
#define COMPACT_CHUNK 2000

int store_compact(struct store *s, int64_t rev)
{
	int r = 0, changes;

	if (s->etcd)
		return etcd_compact(s, rev);
	if (rev <= 0 || rev > store_revision(s))
		return -EINVAL;
	pthread_mutex_lock(&s->write_lock);
	if (rev > atomic_load(&s->compacted)) {
		/* The floor is raised first: readers check it in the same snapshot as the log. */
		r = store_write_meta(s, "compacted", rev);
		if (r == 0)
			atomic_store(&s->compacted, rev);
	}
	pthread_mutex_unlock(&s->write_lock);
	if (r < 0)
		return r;
	do {
		pthread_mutex_lock(&s->write_lock);
		sqlite3_bind_int64(s->w_compact_chunk, 1, atomic_load(&s->compacted));
		sqlite3_bind_int(s->w_compact_chunk, 2, COMPACT_CHUNK);
		r = store_sql_exec_stmt(s->w_compact_chunk);
		changes = sqlite3_changes(s->wdb);
		pthread_mutex_unlock(&s->write_lock);
	} while (r == 0 && changes == COMPACT_CHUNK);
	return r;
}

/* The revision reached at some past instant: sampled once per interval. */
struct sample {
	int64_t t;
	int64_t rev;
};

static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Newest revision at least keep_seconds old, dropping samples older than it. */
static int64_t rev_by_age(struct sample *v, size_t *n, int64_t now, int keep_seconds)
{
	size_t used = *n;

	for (size_t i = 0; i < *n; i++)
		if (v[i].t <= now - keep_seconds)
			used = i;
	if (used == *n)
		return 0;
	int64_t rev = v[used].rev;
	for (size_t i = used; i < *n; i++)
		v[i - used] = v[i];
	*n -= used;
	return rev;
}

static void compact_tick(struct store *s, struct sample *v, size_t *n, size_t cap)
{
	int64_t now = mono_s(), cur = store_revision(s), target;

	if (*n < cap)
		v[(*n)++] = (struct sample){ now, cur };
	target = rev_by_age(v, n, now, s->opts.compact_keep_seconds);
	if (cur - s->opts.compact_keep_revisions < target)
		target = cur - s->opts.compact_keep_revisions;
	if (atomic_load(&s->maint_off))
		return;
	if (target > store_compacted_revision(s))
		(void)store_compact(s, target);
	/* Every tick, not only after a compaction: etcd frees the pages in the background, and a
	 * member that failed is retried. Failures are logged there, never fatal. */
	if (s->etcd)
		(void)etcd_defrag(s, ETCD_DEFRAG_MIN_FREE);
}

void store_set_maintenance(struct store *s, bool on)
{
	atomic_store(&s->maint_off, !on);
}

static void *compactor_main(void *arg)
{
	struct store *s = arg;
	int interval = s->opts.compact_interval_seconds;
	size_t cap = (size_t)(s->opts.compact_keep_seconds / interval) + 4, n = 0;
	struct sample *v = calloc(cap, sizeof(*v));
	struct timespec ts;

	if (!v)
		return NULL;
	v[n++] = (struct sample){ mono_s(), store_revision(s) };
	pthread_mutex_lock(&s->c_lock);
	while (!s->c_stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += interval;
		while (!s->c_stop && pthread_cond_timedwait(&s->c_cond, &s->c_lock, &ts) != ETIMEDOUT)
			;
		if (s->c_stop)
			break;
		pthread_mutex_unlock(&s->c_lock);
		compact_tick(s, v, &n, cap);
		pthread_mutex_lock(&s->c_lock);
	}
	pthread_mutex_unlock(&s->c_lock);
	free(v);
	return NULL;
}

int store_compactor_start(struct store *s)
{
	int r = pthread_create(&s->compactor, NULL, compactor_main, s);

	if (r != 0)
		return -r;
	s->compactor_running = true;
	return 0;
}

void store_compactor_stop(struct store *s)
{
	if (!s->compactor_running)
		return;
	pthread_mutex_lock(&s->c_lock);
	s->c_stop = true;
	pthread_cond_signal(&s->c_cond);
	pthread_mutex_unlock(&s->c_lock);
	pthread_join(s->compactor, NULL);
	s->compactor_running = false;
}
