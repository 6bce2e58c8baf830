/* The scheduler's parts shared by its files: the informers (informer.c), the worker pools
 * for binds and for events (binder.c) and the scheduling loop (scheduler.c). */
#ifndef SKIFF_SCHEDULER_INTERNAL_H
#define SKIFF_SCHEDULER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "api/registry.h"
#include "scheduler/cache.h"
#include "scheduler/queue.h"
#include "scheduler/scheduler.h"

struct sched_informer_ev;

/* Two threads: the reader only drains the store watch into a local queue, so a burst of
 * writes cannot outrun the store's event ring (which would cost a full relist); the
 * applier parses each event into the cache and the queue. */
struct sched_informer {
	struct scheduler *s;
	const char *prefix; /* "/registry/nodes/" or "/registry/pods/" */
	bool pods;
	struct store_watch *sw;
	pthread_t thread, reader;
	bool started, reader_started, q_init;
	pthread_mutex_t q_lock;
	pthread_cond_t q_cond;
	struct sched_informer_ev *head, *tail;
	bool relisting;   /* the reader fell behind (or lost an event): it waits for the relist */
	bool reader_done; /* the watch was cancelled */
	bool dead;        /* the applier stopped */
};

enum sched_job_type { SCHED_JOB_BIND, SCHED_JOB_UNSCHEDULABLE, SCHED_JOB_EVENT };

struct sched_job {
	struct sched_job *next;
	enum sched_job_type type;
	char *key, *ns, *name, *uid, *rv;
	char *node;    /* BIND */
	char *message; /* UNSCHEDULABLE, EVENT */
	const char *event_type, *event_reason; /* EVENT (static strings) */
};

struct sched_binder {
	struct scheduler *s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sched_job *head, *tail;
	size_t n_jobs, max_jobs; /* max 0: unbounded */
	bool closing;
	pthread_t *threads;
	int n_threads;
};

struct scheduler {
	struct registry *reg;
	struct scheduler_options opts;
	struct sched_cache cache;
	struct sched_queue queue;
	struct sched_binder binder;
	/* Events trail the binds, as kube-scheduler's broadcaster sends them, so a burst of
	 * binds is not slowed by as many event writes; when too many wait, new ones are dropped. */
	struct sched_binder events;
	struct sched_informer nodes, pods;
	pthread_mutex_t lock; /* guards the informers' watch replacement against stop */
	bool stopping;
	pthread_t thread;
	bool started;
};

/* Lists what the informer watches into the cache and opens its watch after the list. */
int sched_informer_sync(struct sched_informer *inf);
int sched_informer_start(struct sched_informer *inf);
void sched_informer_stop(struct sched_informer *inf);

int sched_binder_start(struct sched_binder *b, struct scheduler *s, int n, size_t max_jobs);
/* Takes the job (also on error; NULL: -ENOMEM; -ENOBUFS when max_jobs wait). */
int sched_binder_push(struct sched_binder *b, struct sched_job *job);
/* Finishes the jobs queued, then joins the workers. */
void sched_binder_stop(struct sched_binder *b);
void sched_job_free(struct sched_job *job);

static inline void sched_trace(struct scheduler *s, enum sched_trace_point point, const char *key)
{
	if (s->opts.trace)
		s->opts.trace(s->opts.trace_arg, point, key);
}

#endif
