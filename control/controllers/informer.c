/* The controllers' watch loop (see informer.h). One store watch per controller keeps each
 * controller's view in revision order without sharing locks between them. */
#include "controllers/informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/log.h>

#include "controllers/ctrl.h"

#define WATCH_PREFIX "/registry/"
/* Events taken in one batch before flush(): bounds latency under a burst of writes. */
#define BATCH_MAX 256

struct informer {
	struct registry *reg;
	const struct informer_ops *ops;
	void *ctx;
	struct store_watch *sw;
	pthread_t thread;
	pthread_mutex_t lock; /* guards sw's replacement against stop()'s cancel */
	bool stopping;
	int64_t next_tick, next_resync;
};

const char *informer_key_rest(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);

	return key && strncmp(key, prefix, n) == 0 ? key + n : NULL;
}

static bool wanted(const struct informer *inf, const char *key)
{
	for (const char *const *p = inf->ops->prefixes; p && *p; p++)
		if (informer_key_rest(key, *p))
			return true;
	return false;
}

static void resync(struct informer *inf)
{
	if (inf->ops->resync)
		inf->ops->resync(inf->ctx);
	if (inf->ops->resync_ms > 0)
		inf->next_resync = ctrl_now_ms() + inf->ops->resync_ms;
}

static int timeout_ms(const struct informer *inf)
{
	int64_t now = ctrl_now_ms(), next = -1;

	if (inf->ops->tick && inf->ops->tick_ms > 0)
		next = inf->next_tick;
	if (inf->ops->resync_ms > 0 && (next < 0 || inf->next_resync < next))
		next = inf->next_resync;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static void timers(struct informer *inf)
{
	int64_t now = ctrl_now_ms();

	if (inf->ops->tick && inf->ops->tick_ms > 0 && now >= inf->next_tick) {
		inf->ops->tick(inf->ctx);
		inf->next_tick = ctrl_now_ms() + inf->ops->tick_ms;
	}
	if (inf->ops->resync_ms > 0 && now >= inf->next_resync)
		resync(inf);
}

/* The watch fell behind compaction: start a new one from now (the caller resyncs). */
static int rewatch(struct informer *inf)
{
	struct store_watch *sw = NULL;
	int rc;

	rc = store_watch_new(registry_store(inf->reg), WATCH_PREFIX, 0, &sw);
	if (rc < 0)
		return log_error_errno(rc, "%s: cannot watch the store again, stopping: %m", inf->ops->name);
	pthread_mutex_lock(&inf->lock);
	store_watch_free(inf->sw);
	inf->sw = sw;
	if (inf->stopping)
		store_watch_cancel(sw);
	pthread_mutex_unlock(&inf->lock);
	return 0;
}

/* Handles ev and every event already pending, then flushes. */
static int batch(struct informer *inf, struct store_event *ev)
{
	int rc = 0;

	/* Never take an event past the batch's end: it would be cleared unseen. */
	for (int n = 1; rc == 0; n++) {
		if (wanted(inf, ev->key))
			inf->ops->event(inf->ctx, ev);
		store_event_clear(ev);
		if (n == BATCH_MAX)
			break;
		rc = store_watch_next(inf->sw, ev, 0);
	}
	if (inf->ops->flush)
		inf->ops->flush(inf->ctx);
	return rc == -ETIMEDOUT ? 0 : rc;
}

static void *run(void *arg)
{
	struct informer *inf = arg;

	if (inf->ops->thread_name)
		pthread_setname_np(pthread_self(), inf->ops->thread_name);
	inf->next_tick = ctrl_now_ms() + inf->ops->tick_ms;
	resync(inf);
	for (;;) {
		struct store_event ev = { 0 };
		int rc = store_watch_next(inf->sw, &ev, timeout_ms(inf));

		if (rc == 0)
			rc = batch(inf, &ev);
		store_event_clear(&ev);
		if (rc == -ECANCELED)
			break;
		if (rc == -ERANGE) {
			log_warn("%s: watch fell behind compaction, listing again", inf->ops->name);
			if (rewatch(inf) < 0)
				break;
			resync(inf);
		} else if (rc < 0 && rc != -ETIMEDOUT) {
			log_warn_errno(rc, "%s: watch: %m", inf->ops->name);
		}
		timers(inf);
	}
	return NULL;
}

struct informer *informer_start(struct registry *reg, const struct informer_ops *ops, void *ctx)
{
	struct informer *inf = calloc(1, sizeof(*inf));
	int rc;

	if (!inf)
		return NULL;
	inf->reg = reg;
	inf->ops = ops;
	inf->ctx = ctx;
	pthread_mutex_init(&inf->lock, NULL);
	/* Watch first, then list: what changes between the two is seen twice, never missed. */
	rc = store_watch_new(registry_store(reg), WATCH_PREFIX, 0, &inf->sw);
	if (rc == 0)
		rc = -pthread_create(&inf->thread, NULL, run, inf);
	if (rc < 0) {
		store_watch_free(inf->sw);
		pthread_mutex_destroy(&inf->lock);
		free(inf);
		errno = -rc;
		return NULL;
	}
	return inf;
}

void informer_stop(struct informer *inf)
{
	if (!inf)
		return;
	pthread_mutex_lock(&inf->lock);
	inf->stopping = true;
	store_watch_cancel(inf->sw);
	pthread_mutex_unlock(&inf->lock);
	pthread_join(inf->thread, NULL);
	store_watch_free(inf->sw);
	pthread_mutex_destroy(&inf->lock);
	free(inf);
}
