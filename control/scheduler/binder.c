/* The worker pools: the bind pool takes decisions off the scheduling thread and writes
 * them (binding, or the Unschedulable condition); binds from several workers reach the
 * store together and share group commits. The event pool writes the Scheduled and
 * FailedScheduling events behind them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/log.h>

#include "scheduler/scheduler_internal.h"
#include "scheduler/writes.h"

/* Binds written in one txn at most. */
#define BIND_BATCH_MAX 128

void sched_job_free(struct sched_job *job)
{
	if (!job)
		return;
	free(job->key);
	free(job->ns);
	free(job->name);
	free(job->uid);
	free(job->rv);
	free(job->node);
	free(job->message);
	free(job);
}

/* Best effort, as Kubernetes' events are: a full queue drops it. */
static void event_later(struct scheduler *s, const struct sched_job *about, const char *type, const char *reason,
			char *message)
{
	struct sched_job *e = calloc(1, sizeof(*e));

	if (!e || !message) {
		free(e);
		free(message);
		return;
	}
	e->type = SCHED_JOB_EVENT;
	e->event_type = type;
	e->event_reason = reason;
	e->message = message;
	e->ns = strdup(about->ns);
	e->name = strdup(about->name);
	e->uid = strdup(about->uid ? about->uid : "");
	if (!e->ns || !e->name || !e->uid) {
		sched_job_free(e);
		return;
	}
	if (sched_binder_push(&s->events, e) == -ENOBUFS)
		log_debug("scheduler: too many events waiting, dropped %s for pod %s/%s", reason, about->ns, about->name);
}

/* What a bind's write returned: the pod leaves the queue, or backs off to be tried again. */
static void bind_done(struct scheduler *s, struct sched_job *j, int rc)
{
	char *msg = NULL;

	if (rc == 0) {
		sched_trace(s, SCHED_TRACE_BOUND, j->key);
		sched_queue_done(&s->queue, j->key);
		if (asprintf(&msg, "Successfully assigned %s/%s to %s", j->ns, j->name, j->node) < 0)
			msg = NULL;
		event_later(s, j, "Normal", "Scheduled", msg);
		return;
	}
	sched_cache_forget(&s->cache, j->key);
	/* Gone, bound by someone else or being deleted: the watch brings the truth. */
	if (rc == -ENOENT || rc == -EEXIST) {
		sched_queue_done(&s->queue, j->key);
		return;
	}
	log_warn_errno(rc, "scheduler: binding pod %s to %s failed, retrying: %m", j->key, j->node);
	sched_queue_backoff(&s->queue, j->key);
}

/* Binds queued together go to the store as one txn: one commit instead of one each. */
static void do_binds(struct scheduler *s, struct sched_job *first)
{
	struct registry_binding b[BIND_BATCH_MAX];
	struct sched_job *j;
	size_t n = 0;

	if (!first->next) {
		bind_done(s, first, sched_write_binding(s->reg, first->ns, first->name, first->uid, first->node));
		return;
	}
	for (j = first; j && n < BIND_BATCH_MAX; j = j->next)
		b[n++] = (struct registry_binding){ .ns = j->ns, .name = j->name, .node = j->node };
	sched_write_bindings(s->reg, b, n);
	n = 0;
	for (j = first; j && n < BIND_BATCH_MAX; j = j->next)
		bind_done(s, j, b[n++].rc);
}

static void do_unschedulable(struct scheduler *s, struct sched_job *j)
{
	int rc = sched_write_unschedulable(s->reg, j->ns, j->name, j->rv, j->message);

	if (rc < 0) {
		/* Changed meanwhile (perhaps bound): a later failure writes its message again. */
		sched_queue_clear_message(&s->queue, j->key);
		return;
	}
	event_later(s, j, "Warning", "FailedScheduling", strdup(j->message));
}

static void do_event(struct scheduler *s, struct sched_job *j)
{
	sched_write_event(s->reg, j->ns, j->name, j->uid, j->event_type, j->event_reason, j->message);
}

/* The next job, or for binds every bind queued behind it (up to BIND_BATCH_MAX), as a
 * list through ->next. */
static struct sched_job *next_jobs(struct sched_binder *b)
{
	struct sched_job *j, *last;
	size_t n = 1;

	pthread_mutex_lock(&b->lock);
	while (!b->head && !b->closing)
		pthread_cond_wait(&b->cond, &b->lock);
	j = last = b->head;
	if (j) {
		while (j->type == SCHED_JOB_BIND && last->next && last->next->type == SCHED_JOB_BIND &&
		       n < BIND_BATCH_MAX) {
			last = last->next;
			n++;
		}
		b->n_jobs -= n;
		b->head = last->next;
		if (!b->head)
			b->tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&b->lock);
	return j;
}

static void free_jobs(struct sched_job *j)
{
	while (j) {
		struct sched_job *next = j->next;

		sched_job_free(j);
		j = next;
	}
}

static void *worker(void *arg)
{
	struct sched_binder *b = arg;
	struct sched_job *j;

	while ((j = next_jobs(b))) {
		if (j->type == SCHED_JOB_BIND)
			do_binds(b->s, j);
		else if (j->type == SCHED_JOB_UNSCHEDULABLE)
			do_unschedulable(b->s, j);
		else
			do_event(b->s, j);
		free_jobs(j);
	}
	return NULL;
}

int sched_binder_start(struct sched_binder *b, struct scheduler *s, int n, size_t max_jobs)
{
	b->s = s;
	b->max_jobs = max_jobs;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->threads = calloc(n, sizeof(*b->threads));
	if (!b->threads)
		return -ENOMEM;
	for (; b->n_threads < n; b->n_threads++) {
		int rc = -pthread_create(&b->threads[b->n_threads], NULL, worker, b);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int sched_binder_push(struct sched_binder *b, struct sched_job *job)
{
	if (!job)
		return -ENOMEM;
	pthread_mutex_lock(&b->lock);
	if (b->closing || (b->max_jobs && b->n_jobs >= b->max_jobs)) {
		int rc = b->closing ? -ECANCELED : -ENOBUFS;

		pthread_mutex_unlock(&b->lock);
		sched_job_free(job);
		return rc;
	}
	b->n_jobs++;
	job->next = NULL;
	if (b->tail)
		b->tail->next = job;
	else
		b->head = job;
	b->tail = job;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void sched_binder_stop(struct sched_binder *b)
{
	if (!b->threads)
		return;
	pthread_mutex_lock(&b->lock);
	b->closing = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < b->n_threads; i++)
		pthread_join(b->threads[i], NULL);
	free(b->threads);
	b->threads = NULL;
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}
