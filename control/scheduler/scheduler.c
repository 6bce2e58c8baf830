/* The scheduler's lifecycle and its scheduling loop (see scheduler.h): one thread pops
 * due pods off the queue, decides on the cache, and hands the writes to the bind pool. */
#include "scheduler/scheduler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "scheduler/scheduler_internal.h"

/* Events wait here behind a burst of binds; kube-scheduler's broadcaster holds 1,000. */
#define EVENT_WORKERS 4
#define EVENT_QUEUE_MAX 10000

void scheduler_options_init(struct scheduler_options *o)
{
	*o = (struct scheduler_options){
		.bind_workers = 32,
		.initial_backoff_ms = 1000,
		.max_backoff_ms = 10000,
		.seed = 0,
	};
}

/* A job for the bind pool, taking over the decision's strings. */
static struct sched_job *job_new(enum sched_job_type type, const char *key, struct sched_decision *d)
{
	struct sched_job *j = calloc(1, sizeof(*j));
	const char *slash = strchr(key, '/');

	if (!j || !slash) {
		free(j);
		return NULL;
	}
	j->type = type;
	j->key = strdup(key);
	j->ns = strndup(key, slash - key);
	j->name = strdup(slash + 1);
	if (!j->key || !j->ns || !j->name) {
		sched_job_free(j);
		return NULL;
	}
	j->uid = TAKE_PTR(d->uid);
	j->rv = TAKE_PTR(d->rv);
	j->node = TAKE_PTR(d->node);
	j->message = TAKE_PTR(d->message);
	return j;
}

static void unschedulable(struct scheduler *s, const char *key, struct sched_decision *d)
{
	bool changed = sched_queue_note_message(&s->queue, key, d->message);

	sched_queue_unschedulable(&s->queue, key);
	if (!changed)
		return;
	log_info("scheduler: pod %s: %s", key, d->message);
	if (sched_binder_push(&s->binder, job_new(SCHED_JOB_UNSCHEDULABLE, key, d)) < 0)
		sched_queue_clear_message(&s->queue, key);
}

static void schedule_one(struct scheduler *s, const char *key)
{
	struct sched_decision d = { 0 };
	int rc;

	sched_trace(s, SCHED_TRACE_POPPED, key);
	rc = sched_cache_schedule(&s->cache, key, &d);

	if (rc == -ENOENT) {
		sched_queue_done(&s->queue, key);
	} else if (rc == -ENOSPC) {
		unschedulable(s, key, &d);
	} else if (rc < 0) {
		sched_queue_backoff(&s->queue, key);
	} else if (sched_binder_push(&s->binder, job_new(SCHED_JOB_BIND, key, &d)) < 0) {
		sched_cache_forget(&s->cache, key);
		sched_queue_backoff(&s->queue, key);
	}
	sched_decision_clear(&d);
}

static void *run(void *arg)
{
	struct scheduler *s = arg;

	for (;;) {
		_cleanup_free_ char *key = NULL;
		int rc = sched_queue_pop(&s->queue, -1, &key);

		if (rc == -ECANCELED)
			break;
		if (rc == 0)
			schedule_one(s, key);
	}
	return NULL;
}

static unsigned clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned)(ts.tv_nsec ^ ts.tv_sec);
}

static struct scheduler *scheduler_new(struct registry *reg, const struct scheduler_options *opts)
{
	struct scheduler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->reg = reg;
	if (opts)
		s->opts = *opts;
	else
		scheduler_options_init(&s->opts);
	if (s->opts.bind_workers < 1)
		s->opts.bind_workers = 1;
	sched_cache_init(&s->cache, s->opts.seed ? s->opts.seed : clock_seed());
	sched_queue_init(&s->queue, s->opts.initial_backoff_ms, s->opts.max_backoff_ms);
	pthread_mutex_init(&s->lock, NULL);
	s->nodes = (struct sched_informer){ .s = s, .prefix = "/registry/nodes/", .pods = false };
	s->pods = (struct sched_informer){ .s = s, .prefix = "/registry/pods/", .pods = true };
	return s;
}

struct scheduler *scheduler_start(struct registry *reg, const struct scheduler_options *opts)
{
	struct scheduler *s = scheduler_new(reg, opts);
	int rc;

	if (!s)
		return NULL;
	/* Nodes first, so the pods listed next are placed against a known cluster. */
	rc = sched_informer_sync(&s->nodes);
	if (rc == 0)
		rc = sched_informer_sync(&s->pods);
	if (rc == 0)
		rc = sched_binder_start(&s->events, s, EVENT_WORKERS, EVENT_QUEUE_MAX);
	if (rc == 0)
		rc = sched_binder_start(&s->binder, s, s->opts.bind_workers, 0);
	if (rc == 0)
		rc = sched_informer_start(&s->nodes);
	if (rc == 0)
		rc = sched_informer_start(&s->pods);
	if (rc == 0) {
		rc = -pthread_create(&s->thread, NULL, run, s);
		s->started = rc == 0;
	}
	if (rc < 0) {
		scheduler_stop(s);
		errno = -rc;
		return NULL;
	}
	log_info("scheduler: started with %d bind workers", s->opts.bind_workers);
	return s;
}

void scheduler_stop(struct scheduler *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	sched_informer_stop(&s->nodes);
	sched_informer_stop(&s->pods);
	sched_queue_close(&s->queue);
	if (s->started)
		pthread_join(s->thread, NULL);
	/* Binds in flight finish and queue their events, then the events are written. */
	sched_binder_stop(&s->binder);
	sched_binder_stop(&s->events);
	sched_queue_destroy(&s->queue);
	sched_cache_destroy(&s->cache);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
