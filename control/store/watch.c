/* Store watches: a watcher replays older revisions from the SQLite log (or etcd's history), then joins the
 * broadcaster's ring at the first revision it has not seen, and waits on an eventfd. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "store/etcd.h"
#include "store/store_internal.h"

/* Revisions read from the log per replay step; events taken from the ring per lock. */
#define REPLAY_REVS 256
#define RING_SCAN 256

struct store_watch {
	struct store *s;
	char *prefix;
	size_t plen;
	int efd;
	atomic_bool signalled, cancelled;
	bool registered;
	bool in_ring;	  /* false: still replaying from the log */
	int64_t floor;	  /* events of revisions <= floor were delivered or are queued */
	uint64_t pos;	  /* in the ring: next sequence number to look at */
	struct sevent_vec buf; /* queued events, already filtered */
	size_t ibuf;           /* the next one to hand out */
	int err; /* sticky: -ERANGE once fallen behind, or the error that ended the watch */
};

bool store_watch_wants(struct store_watch *w, const struct sevent *e)
{
	return !atomic_load_explicit(&w->signalled, memory_order_relaxed) &&
	       store_key_has_prefix(e->ev.key, w->prefix, w->plen);
}

void store_watch_signal(struct store_watch *w)
{
	uint64_t one = 1;

	/* Only the first signal since the watcher last drained costs a syscall. */
	if (!atomic_exchange(&w->signalled, true))
		(void)!write(w->efd, &one, sizeof(one));
}

int store_watch_fd(struct store_watch *w)
{
	return w->efd;
}

void store_watch_cancel(struct store_watch *w)
{
	uint64_t one = 1;

	atomic_store(&w->cancelled, true);
	(void)!write(w->efd, &one, sizeof(one));
}

static void buf_drop(struct store_watch *w)
{
	for (size_t i = w->ibuf; i < w->buf.n; i++)
		sevent_unref(w->buf.v[i]);
	w->buf.n = w->ibuf = 0;
}

/* With bc->lock held: moves to the ring if it holds every revision after floor. */
static void try_join(struct store_watch *w)
{
	struct bcast *bc = &w->s->bc;
	uint64_t lo = bc->first_seq, hi = bc->next_seq;
	int64_t min_rev = lo < hi ? bc->slots[lo % STORE_RING_SLOTS]->ev.mod_rev : bc->last_rev + 1;

	if (min_rev > w->floor + 1)
		return;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (bc->slots[mid % STORE_RING_SLOTS]->ev.mod_rev <= w->floor)
			lo = mid + 1;
		else
			hi = mid;
	}
	w->pos = lo;
	w->in_ring = true;
}

static int fetch_ring(struct store_watch *w)
{
	struct bcast *bc = &w->s->bc;
	int r = 0;

	pthread_rwlock_rdlock(&bc->lock);
	if (w->pos < bc->first_seq) {
		r = -ERANGE; /* fell out of the ring: the client must re-list */
		goto out;
	}
	for (size_t k = 0; k < RING_SCAN && w->pos < bc->next_seq; k++, w->pos++) {
		struct sevent *e = bc->slots[w->pos % STORE_RING_SLOTS];
		if (e->ev.mod_rev <= w->floor || !store_key_has_prefix(e->ev.key, w->prefix, w->plen))
			continue;
		r = sevent_vec_push(&w->buf, e);
		if (r < 0)
			goto out;
		atomic_fetch_add_explicit(&e->ref, 1, memory_order_relaxed);
	}
out:
	pthread_rwlock_unlock(&bc->lock);
	return r;
}

static int replay_rows(struct store_watch *w, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int type = sqlite3_column_int(st, 2);
		const char *value = (const char *)sqlite3_column_text(st, 3);
		const char *prev = (const char *)sqlite3_column_text(st, 4);
		struct sevent *e;

		/* The log keeps the old value in prev_value; a DELETE event carries it as value. */
		e = sevent_new(type == STORE_EVENT_DELETE ? STORE_EVENT_DELETE : STORE_EVENT_PUT,
			       (const char *)sqlite3_column_text(st, 1), type == STORE_EVENT_DELETE ? prev : value,
			       type == STORE_EVENT_DELETE ? NULL : prev, sqlite3_column_int64(st, 5),
			       sqlite3_column_int64(st, 0));
		if (!e || sevent_vec_push(&w->buf, e) < 0) {
			sevent_unref(e);
			return -ENOMEM;
		}
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Reads the next revisions after floor from the log, in one snapshot with the compaction floor. */
static int fetch_log(struct store_watch *w, struct reader *rd)
{
	_cleanup_free_ char *hi = NULL;
	sqlite3_stmt *st = rd->replay;
	int64_t cur = 0, compacted = 0, upto;
	int r;

	r = store_sql_exec_stmt(rd->begin);
	if (r < 0)
		return r;
	if (sqlite3_step(rd->meta) == SQLITE_ROW) {
		cur = sqlite3_column_int64(rd->meta, 0);
		compacted = sqlite3_column_int64(rd->meta, 1);
	} else {
		r = -EIO;
	}
	sqlite3_reset(rd->meta);
	if (r == 0 && w->floor < compacted)
		r = -ERANGE;
	if (r < 0)
		goto out;
	upto = w->floor + REPLAY_REVS < cur ? w->floor + REPLAY_REVS : cur;
	r = store_bind_prefix(st, 1, 2, w->prefix, &hi);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 3, "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, w->floor);
	sqlite3_bind_int64(st, 6, upto);
	r = replay_rows(w, st);
	sqlite3_reset(st);
	if (r == 0 && upto > w->floor)
		w->floor = upto; /* revisions are dense: all of (floor, upto] is committed */
out:
	store_sql_exec_stmt(rd->commit);
	return r;
}

/* The etcd backend's replay: the next events after floor from etcd's history. */
static int fetch_etcd(struct store_watch *w)
{
	struct sevent **evs;
	size_t n;
	int r;

	r = etcd_replay(w->s, w->prefix, w->floor, &w->cancelled, &evs, &n, &w->floor);
	for (size_t i = 0; i < n; i++)
		if (r < 0 || (r = sevent_vec_push(&w->buf, evs[i])) < 0)
			sevent_unref(evs[i]);
	free(evs);
	return r;
}

/* Fills the queue with the next events, if any; in replay, advances until it has some
 * or has joined the ring. */
static int fetch(struct store_watch *w)
{
	struct reader *rd = NULL;
	int r = 0;

	w->buf.n = w->ibuf = 0;
	while (!w->in_ring && w->buf.n == 0) {
		if (w->s->etcd) {
			r = fetch_etcd(w);
		} else {
			if (!rd && (r = store_reader_get(w->s, &rd)) < 0)
				return r;
			r = fetch_log(w, rd);
		}
		if (r < 0)
			break;
		pthread_rwlock_rdlock(&w->s->bc.lock);
		try_join(w);
		pthread_rwlock_unlock(&w->s->bc.lock);
	}
	if (rd)
		store_reader_put(w->s, rd);
	if (r == 0 && w->in_ring && w->buf.n == 0)
		r = fetch_ring(w);
	return r;
}

static int deliver(struct store_watch *w, struct store_event *ret)
{
	const struct store_event *ev = &w->buf.v[w->ibuf]->ev;
	struct store_event out = {
		.type = ev->type,
		.key = strdup(ev->key),
		.value = ev->value ? strdup(ev->value) : NULL,
		.prev_value = ev->prev_value ? strdup(ev->prev_value) : NULL,
		.create_rev = ev->create_rev,
		.mod_rev = ev->mod_rev,
	};

	if (!out.key || (ev->value && !out.value) || (ev->prev_value && !out.prev_value)) {
		store_event_clear(&out);
		return -ENOMEM;
	}
	sevent_unref(w->buf.v[w->ibuf++]);
	*ret = out;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps on the eventfd until signalled or the deadline (-1: none); -ETIMEDOUT when it passed. */
static int wait_signal(struct store_watch *w, int64_t deadline)
{
	struct pollfd p = { .fd = w->efd, .events = POLLIN };
	int timeout = -1;

	if (deadline >= 0) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		timeout = (int)left;
	}
	if (poll(&p, 1, timeout) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* The next queued event, waiting for one up to timeout_ms; it stays in the queue. */
static int next_event(struct store_watch *w, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint64_t drained;
	int r;

	for (;;) {
		if (atomic_load(&w->cancelled))
			return -ECANCELED;
		if (w->err < 0)
			return w->err;
		if (w->ibuf < w->buf.n)
			return 0;
		r = fetch(w);
		if (r == 0 && w->buf.n == 0) {
			/* Caught up: re-arm the signal, then look once more so that an event
			 * published in between is not missed. */
			atomic_store(&w->signalled, false);
			(void)!read(w->efd, &drained, sizeof(drained));
			r = fetch(w);
		}
		if (r < 0) {
			/* Final: the position may already be past dropped events. */
			buf_drop(w);
			w->err = r;
			return r;
		}
		if (w->buf.n > 0)
			continue;
		if (timeout_ms == 0)
			return -ETIMEDOUT;
		r = wait_signal(w, deadline);
		if (r < 0)
			return r;
	}
}

int store_watch_next(struct store_watch *w, struct store_event *ret, int timeout_ms)
{
	int r = next_event(w, timeout_ms);

	return r < 0 ? r : deliver(w, ret);
}

int store_watch_next_shared(struct store_watch *w, struct store_shared_event **ret, int timeout_ms)
{
	int r = next_event(w, timeout_ms);

	if (r < 0)
		return r;
	/* The queue's reference passes to the caller. */
	*ret = (struct store_shared_event *)w->buf.v[w->ibuf++];
	return 0;
}

int store_watch_new(struct store *s, const char *prefix, int64_t from_rev, struct store_watch **ret)
{
	struct store_watch *w;
	int r;

	if (from_rev < 0)
		return -EINVAL;
	if (from_rev > 0 && from_rev < store_compacted_revision(s))
		return -ERANGE;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->efd = -1;
	w->s = s;
	w->prefix = strdup(prefix ? prefix : "");
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!w->prefix || w->efd < 0) {
		r = w->prefix ? -errno : -ENOMEM;
		goto fail;
	}
	w->plen = strlen(w->prefix);
	/* Registered before positioning: nothing published after the position is unsignalled. */
	r = bcast_register(&s->bc, w);
	if (r < 0)
		goto fail;
	w->registered = true;
	pthread_rwlock_rdlock(&s->bc.lock);
	w->floor = from_rev == 0 ? s->bc.last_rev : from_rev;
	try_join(w);
	pthread_rwlock_unlock(&s->bc.lock);
	store_watch_signal(w); /* the first call looks without waiting */
	*ret = w;
	return 0;
fail:
	store_watch_free(w);
	return r;
}

void store_watch_free(struct store_watch *w)
{
	if (!w)
		return;
	if (w->registered)
		bcast_unregister(&w->s->bc, w);
	buf_drop(w);
	free(w->buf.v);
	if (w->efd >= 0)
		close(w->efd);
	free(w->prefix);
	free(w);
}
