/* The scheduling queue, after kube-scheduler's: an active FIFO, pods backing off after a
 * failed attempt (1 s doubling to 10 s), and unschedulable pods parked until a cluster
 * event (node or pod change) may let them fit, or 5 minutes pass. pop() sleeps on a
 * condition variable until one is due: no polling. Pods are named by "ns/name". */
#ifndef SKIFF_SCHEDULER_QUEUE_H
#define SKIFF_SCHEDULER_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "scheduler/strmap.h"

struct sched_qentry;

struct sched_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct strmap entries;
	struct sched_qentry *active_head, *active_tail;
	struct sched_qentry *parked; /* backing off or unschedulable */
	int64_t initial_backoff_ms, max_backoff_ms, unschedulable_flush_ms;
	uint64_t move_gen; /* bumped by every move_all */
	bool closed;
};

void sched_queue_init(struct sched_queue *q, int64_t initial_backoff_ms, int64_t max_backoff_ms);
void sched_queue_destroy(struct sched_queue *q);

/* A new pending pod, or a pending pod whose spec changed: schedule it (after its backoff). */
int sched_queue_add(struct sched_queue *q, const char *key);
/* Waits (timeout_ms -1: forever) for a pod that is due; 0 and *ret_key (caller frees),
 * -ETIMEDOUT, or -ECANCELED once closed. The pod is in flight until done/failed. */
int sched_queue_pop(struct sched_queue *q, int timeout_ms, char **ret_key);
/* The pod was placed (or is gone): it leaves the queue. */
void sched_queue_done(struct sched_queue *q, const char *key);
/* The pod fit nowhere: parked until a cluster event, then retried after its backoff. */
void sched_queue_unschedulable(struct sched_queue *q, const char *key);
/* An error (binding failed): retried after its backoff. */
void sched_queue_backoff(struct sched_queue *q, const char *key);
/* A node or pod changed in a way that may let parked pods fit. */
void sched_queue_move_all(struct sched_queue *q);
/* The pod is no longer pending (deleted, bound elsewhere). */
void sched_queue_forget(struct sched_queue *q, const char *key);
/* Remembers the pod's latest unschedulable message; true when it differs from the last
 * one (so the condition and event are written only when the reason changes). */
bool sched_queue_note_message(struct sched_queue *q, const char *key, const char *message);
/* Forgets the remembered message (its write failed). */
void sched_queue_clear_message(struct sched_queue *q, const char *key);
/* How many pods are queued, parked or in flight. */
size_t sched_queue_len(struct sched_queue *q);
/* The backoff after n failed attempts: initial * 2^(n-1), at most max. */
int64_t sched_queue_backoff_ms(const struct sched_queue *q, int attempts);
/* Wakes every pop() with -ECANCELED. */
void sched_queue_close(struct sched_queue *q);

#endif
