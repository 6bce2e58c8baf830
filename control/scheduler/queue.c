/* The scheduling queue (see queue.h). Entries live in one map; an entry is on the active
 * list, on the parked list (backing off or unschedulable) or in flight. */
#include "scheduler/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNSCHEDULABLE_FLUSH_MS (5 * 60 * 1000)

enum qstate { Q_ACTIVE, Q_BACKOFF, Q_UNSCHEDULABLE, Q_IN_FLIGHT };

struct sched_qentry {
	struct sched_qentry *prev, *next;
	enum qstate state;
	int attempts;
	int64_t backoff_until; /* monotonic ms */
	int64_t parked_at;
	uint64_t popped_gen; /* the queue's move generation when it was popped */
	bool requeue;   /* the pod changed while in flight */
	bool forgotten; /* gone while in flight: freed by done() */
	char *message;  /* the last unschedulable message written */
	char key[];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sched_queue_init(struct sched_queue *q, int64_t initial_backoff_ms, int64_t max_backoff_ms)
{
	pthread_condattr_t attr;

	*q = (struct sched_queue){ .initial_backoff_ms = initial_backoff_ms,
				   .max_backoff_ms = max_backoff_ms,
				   .unschedulable_flush_ms = UNSCHEDULABLE_FLUSH_MS };
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &attr);
	pthread_condattr_destroy(&attr);
}

static void free_entry(const char *key, void *value, void *arg)
{
	struct sched_qentry *e = value;

	(void)key, (void)arg;
	free(e->message);
	free(e);
}

void sched_queue_destroy(struct sched_queue *q)
{
	strmap_foreach(&q->entries, free_entry, NULL);
	strmap_clear(&q->entries);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
}

int64_t sched_queue_backoff_ms(const struct sched_queue *q, int attempts)
{
	int64_t d = q->initial_backoff_ms;

	for (int i = 1; i < attempts && d < q->max_backoff_ms; i++)
		d *= 2;
	return d < q->max_backoff_ms ? d : q->max_backoff_ms;
}

static void unlink_entry(struct sched_queue *q, struct sched_qentry *e)
{
	if (e->state == Q_ACTIVE) {
		if (e->prev)
			e->prev->next = e->next;
		else
			q->active_head = e->next;
		if (e->next)
			e->next->prev = e->prev;
		else
			q->active_tail = e->prev;
	} else if (e->state == Q_BACKOFF || e->state == Q_UNSCHEDULABLE) {
		if (e->prev)
			e->prev->next = e->next;
		else
			q->parked = e->next;
		if (e->next)
			e->next->prev = e->prev;
	}
	e->prev = e->next = NULL;
}

static void push_active(struct sched_queue *q, struct sched_qentry *e)
{
	e->state = Q_ACTIVE;
	e->next = NULL;
	e->prev = q->active_tail;
	if (q->active_tail)
		q->active_tail->next = e;
	else
		q->active_head = e;
	q->active_tail = e;
	pthread_cond_signal(&q->cond);
}

static void park(struct sched_queue *q, struct sched_qentry *e, enum qstate state)
{
	e->state = state;
	e->parked_at = now_ms();
	e->prev = NULL;
	e->next = q->parked;
	if (q->parked)
		q->parked->prev = e;
	q->parked = e;
	/* A sleeping pop() must recompute its deadline. */
	pthread_cond_signal(&q->cond);
}

/* To active when its backoff is over, else to backoff. */
static void requeue(struct sched_queue *q, struct sched_qentry *e)
{
	unlink_entry(q, e);
	if (e->backoff_until <= now_ms())
		push_active(q, e);
	else
		park(q, e, Q_BACKOFF);
}

int sched_queue_add(struct sched_queue *q, const char *key)
{
	struct sched_qentry *e;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	e = strmap_get(&q->entries, key);
	if (!e) {
		size_t len = strlen(key);

		e = calloc(1, sizeof(*e) + len + 1);
		if (!e || strmap_put(&q->entries, key, e, NULL) < 0) {
			free(e);
			rc = -ENOMEM;
			goto out;
		}
		memcpy(e->key, key, len + 1);
		push_active(q, e);
	} else if (e->state == Q_IN_FLIGHT) {
		e->requeue = true;
		e->forgotten = false;
	} else if (e->state == Q_UNSCHEDULABLE) {
		requeue(q, e);
	}
out:
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* Moves due parked entries to active; returns the next deadline (INT64_MAX: none). */
static int64_t promote_due(struct sched_queue *q, int64_t now)
{
	int64_t next = INT64_MAX;

	for (struct sched_qentry *e = q->parked, *n; e; e = n) {
		int64_t due = e->state == Q_BACKOFF ? e->backoff_until : e->parked_at + q->unschedulable_flush_ms;

		n = e->next;
		if (due <= now) {
			unlink_entry(q, e);
			push_active(q, e);
		} else if (due < next) {
			next = due;
		}
	}
	return next;
}

static void deadline_ts(int64_t ms, struct timespec *ts)
{
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (ms % 1000) * 1000000;
}

int sched_queue_pop(struct sched_queue *q, int timeout_ms, char **ret_key)
{
	int64_t give_up = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
	struct sched_qentry *e;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		int64_t now = now_ms(), next = promote_due(q, now);
		struct timespec ts;

		if (q->closed) {
			rc = -ECANCELED;
			goto out;
		}
		if (q->active_head)
			break;
		if (now >= give_up) {
			rc = -ETIMEDOUT;
			goto out;
		}
		if (next > give_up)
			next = give_up;
		if (next == INT64_MAX) {
			pthread_cond_wait(&q->cond, &q->lock);
		} else {
			deadline_ts(next, &ts);
			pthread_cond_timedwait(&q->cond, &q->lock, &ts);
		}
	}
	e = q->active_head;
	*ret_key = strdup(e->key);
	if (!*ret_key) {
		rc = -ENOMEM;
		goto out;
	}
	unlink_entry(q, e);
	e->state = Q_IN_FLIGHT;
	e->requeue = false;
	e->popped_gen = q->move_gen;
out:
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static void drop(struct sched_queue *q, struct sched_qentry *e)
{
	unlink_entry(q, e);
	strmap_remove(&q->entries, e->key);
	free_entry(NULL, e, NULL);
}

void sched_queue_done(struct sched_queue *q, const char *key)
{
	struct sched_qentry *e;

	pthread_mutex_lock(&q->lock);
	e = strmap_get(&q->entries, key);
	if (e)
		drop(q, e);
	pthread_mutex_unlock(&q->lock);
}

static void failed(struct sched_queue *q, const char *key, bool unschedulable)
{
	struct sched_qentry *e;

	pthread_mutex_lock(&q->lock);
	e = strmap_get(&q->entries, key);
	if (!e || e->state != Q_IN_FLIGHT)
		goto out;
	if (e->forgotten) {
		drop(q, e);
		goto out;
	}
	e->attempts++;
	e->backoff_until = now_ms() + sched_queue_backoff_ms(q, e->attempts);
	/* Something changed during the attempt: the pod may fit now, so only back off. */
	if (!unschedulable || e->popped_gen != q->move_gen || e->requeue)
		park(q, e, Q_BACKOFF);
	else
		park(q, e, Q_UNSCHEDULABLE);
out:
	pthread_mutex_unlock(&q->lock);
}

void sched_queue_unschedulable(struct sched_queue *q, const char *key)
{
	failed(q, key, true);
}

void sched_queue_backoff(struct sched_queue *q, const char *key)
{
	failed(q, key, false);
}

void sched_queue_move_all(struct sched_queue *q)
{
	pthread_mutex_lock(&q->lock);
	for (struct sched_qentry *e = q->parked, *n; e; e = n) {
		n = e->next;
		if (e->state == Q_UNSCHEDULABLE)
			requeue(q, e);
	}
	/* Entries in flight learn of it when their attempt ends. */
	q->move_gen++;
	pthread_mutex_unlock(&q->lock);
}

void sched_queue_forget(struct sched_queue *q, const char *key)
{
	struct sched_qentry *e;

	pthread_mutex_lock(&q->lock);
	e = strmap_get(&q->entries, key);
	if (e && e->state == Q_IN_FLIGHT)
		e->forgotten = true;
	else if (e)
		drop(q, e);
	pthread_mutex_unlock(&q->lock);
}

bool sched_queue_note_message(struct sched_queue *q, const char *key, const char *message)
{
	struct sched_qentry *e;
	bool changed = true;

	pthread_mutex_lock(&q->lock);
	e = strmap_get(&q->entries, key);
	if (e) {
		changed = !e->message || strcmp(e->message, message) != 0;
		if (changed) {
			free(e->message);
			e->message = strdup(message);
		}
	}
	pthread_mutex_unlock(&q->lock);
	return changed;
}

void sched_queue_clear_message(struct sched_queue *q, const char *key)
{
	struct sched_qentry *e;

	pthread_mutex_lock(&q->lock);
	e = strmap_get(&q->entries, key);
	if (e) {
		free(e->message);
		e->message = NULL;
	}
	pthread_mutex_unlock(&q->lock);
}

size_t sched_queue_len(struct sched_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->entries.n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void sched_queue_close(struct sched_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}
