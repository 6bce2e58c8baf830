/* The store's event broadcaster: a bounded in-memory ring of recent events, shared (by
 * reference) by every watcher, fed by the commit path; it wakes only watchers concerned. */
#include <errno.h>
#include <stdlib.h>

#include "store/store_internal.h"

static struct sevent **slot(struct bcast *bc, uint64_t seq)
{
	return &bc->slots[seq % STORE_RING_SLOTS];
}

void bcast_init(struct bcast *bc, int64_t rev)
{
	pthread_rwlockattr_t attr;

	/* glibc prefers readers by default: many watchers reading could starve the commit path. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&bc->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&bc->watchers_lock, NULL);
	bc->first_seq = bc->next_seq = 1;
	bc->last_rev = rev;
}

/* Drops every event of the oldest revision held, so the ring always starts on a whole revision. */
static void evict_oldest_rev(struct bcast *bc)
{
	int64_t rev = (*slot(bc, bc->first_seq))->ev.mod_rev;

	while (bc->first_seq < bc->next_seq) {
		struct sevent **e = slot(bc, bc->first_seq);
		if ((*e)->ev.mod_rev != rev)
			break;
		bc->bytes -= (*e)->bytes;
		sevent_unref(*e);
		*e = NULL;
		bc->first_seq++;
	}
}

void bcast_destroy(struct bcast *bc)
{
	while (bc->first_seq < bc->next_seq)
		evict_oldest_rev(bc);
	free(bc->watchers);
	bc->watchers = NULL;
	pthread_rwlock_destroy(&bc->lock);
	pthread_mutex_destroy(&bc->watchers_lock);
}

static bool over_bounds(struct bcast *bc)
{
	return bc->next_seq - bc->first_seq > STORE_RING_SOFT_EVENTS || bc->bytes > STORE_RING_SOFT_BYTES;
}

void bcast_publish(struct bcast *bc, struct sevent **evs, size_t n)
{
	if (n == 0)
		return;
	pthread_rwlock_wrlock(&bc->lock);
	for (size_t i = 0; i < n; i++) {
		int64_t rev = evs[i]->ev.mod_rev;

		atomic_fetch_add_explicit(&evs[i]->ref, 1, memory_order_relaxed);
		*slot(bc, bc->next_seq++) = evs[i];
		bc->bytes += evs[i]->bytes;
		/* The revision being added is never evicted, so one txn always fits whole. */
		while (over_bounds(bc) && (*slot(bc, bc->first_seq))->ev.mod_rev < rev)
			evict_oldest_rev(bc);
	}
	bc->last_rev = evs[n - 1]->ev.mod_rev;
	pthread_rwlock_unlock(&bc->lock);
}

void bcast_gap(struct bcast *bc, int64_t rev)
{
	pthread_rwlock_wrlock(&bc->lock);
	while (bc->first_seq < bc->next_seq)
		evict_oldest_rev(bc);
	/* One sequence number skipped: a watcher caught up at next_seq is then behind first_seq
	 * too, and gets -ERANGE like one that fell out of the ring. */
	bc->first_seq = ++bc->next_seq;
	if (rev > bc->last_rev)
		bc->last_rev = rev;
	pthread_rwlock_unlock(&bc->lock);
	/* Every watcher is woken, whatever its prefix: each must see its -ERANGE now. */
	pthread_mutex_lock(&bc->watchers_lock);
	for (size_t w = 0; w < bc->n_watchers; w++)
		store_watch_signal(bc->watchers[w]);
	pthread_mutex_unlock(&bc->watchers_lock);
}

void bcast_notify(struct bcast *bc, struct batch_events *be)
{
	if (be->n > 0) {
		pthread_mutex_lock(&bc->watchers_lock);
		for (size_t w = 0; w < bc->n_watchers; w++)
			for (size_t i = 0; i < be->n; i++)
				if (store_watch_wants(bc->watchers[w], be->v[i])) {
					store_watch_signal(bc->watchers[w]);
					break;
				}
		pthread_mutex_unlock(&bc->watchers_lock);
	}
	for (size_t i = 0; i < be->n; i++)
		sevent_unref(be->v[i]);
	free(be->v);
	*be = (struct batch_events){ 0 };
}

int bcast_register(struct bcast *bc, struct store_watch *w)
{
	int r = 0;

	pthread_mutex_lock(&bc->watchers_lock);
	if (bc->n_watchers == bc->cap_watchers) {
		size_t cap = bc->cap_watchers ? bc->cap_watchers * 2 : 64;
		struct store_watch **v = realloc(bc->watchers, cap * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		bc->watchers = v;
		bc->cap_watchers = cap;
	}
	bc->watchers[bc->n_watchers++] = w;
out:
	pthread_mutex_unlock(&bc->watchers_lock);
	return r;
}

void bcast_unregister(struct bcast *bc, struct store_watch *w)
{
	pthread_mutex_lock(&bc->watchers_lock);
	for (size_t i = 0; i < bc->n_watchers; i++)
		if (bc->watchers[i] == w) {
			bc->watchers[i] = bc->watchers[--bc->n_watchers];
			break;
		}
	pthread_mutex_unlock(&bc->watchers_lock);
}
