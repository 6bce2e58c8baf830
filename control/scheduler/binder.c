/* The bind pool: a few workers that take decisions off the scheduling thread and write
 * them (binding + Scheduled event, or the Unschedulable condition + FailedScheduling
 * event). Binds from several workers reach the store together and share group commits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "scheduler/scheduler_internal.h"
#include "scheduler/writes.h"

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

static void do_bind(struct scheduler *s, struct sched_job *j)
{
	_cleanup_free_ char *msg = NULL;
	int rc = sched_write_binding(s->reg, j->ns, j->name, j->uid, j->node);

	if (rc == 0) {
		sched_queue_done(&s->queue, j->key);
		if (asprintf(&msg, "Successfully assigned %s/%s to %s", j->ns, j->name, j->node) < 0)
			msg = NULL;
		if (msg)
			sched_write_event(s->reg, j->ns, j->name, j->uid, "Normal", "Scheduled", msg);
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

static void do_unschedulable(struct scheduler *s, struct sched_job *j)
{
	int rc = sched_write_unschedulable(s->reg, j->ns, j->name, j->rv, j->message);

	if (rc < 0) {
		/* Changed meanwhile (perhaps bound): a later failure writes its message again. */
		sched_queue_clear_message(&s->queue, j->key);
		return;
	}
	sched_write_event(s->reg, j->ns, j->name, j->uid, "Warning", "FailedScheduling", j->message);
}

static struct sched_job *next_job(struct sched_binder *b)
{
	struct sched_job *j;

	pthread_mutex_lock(&b->lock);
	while (!b->head && !b->closing)
		pthread_cond_wait(&b->cond, &b->lock);
	j = b->head;
	if (j) {
		b->head = j->next;
		if (!b->head)
			b->tail = NULL;
	}
	pthread_mutex_unlock(&b->lock);
	return j;
}

static void *worker(void *arg)
{
	struct scheduler *s = arg;
	struct sched_job *j;

	while ((j = next_job(&s->binder))) {
		if (j->type == SCHED_JOB_BIND)
			do_bind(s, j);
		else
			do_unschedulable(s, j);
		sched_job_free(j);
	}
	return NULL;
}

int sched_binder_start(struct sched_binder *b, struct scheduler *s, int n)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->threads = calloc(n, sizeof(*b->threads));
	if (!b->threads)
		return -ENOMEM;
	for (; b->n_threads < n; b->n_threads++) {
		int rc = -pthread_create(&b->threads[b->n_threads], NULL, worker, s);

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
	if (b->closing) {
		pthread_mutex_unlock(&b->lock);
		sched_job_free(job);
		return -ECANCELED;
	}
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
