/* The scheduler's informers: a list of nodes (or pods) from the store into the cache, then
 * a store watch from the list's revision that keeps the cache current and tells the queue
 * what changed; a reader thread drains the watch into a queue for the applying thread. A
 * watch that falls behind the ring or compaction lists again and prunes what is gone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "scheduler/scheduler_internal.h"

static void pod_changed(struct scheduler *s, const char *key, enum sched_pod_change change)
{
	switch (change) {
	case SCHED_POD_PENDING_NEW:
		sched_trace(s, SCHED_TRACE_QUEUED, key);
		/* fall through */
	case SCHED_POD_PENDING_UPDATE:
		if (sched_queue_add(&s->queue, key) < 0)
			log_warn("scheduler: pod %s: out of memory queueing it", key);
		break;
	case SCHED_POD_PENDING_GONE:
		sched_queue_forget(&s->queue, key);
		break;
	case SCHED_POD_FREED:
		sched_queue_move_all(&s->queue);
		break;
	case SCHED_POD_IGNORED:
	case SCHED_POD_PENDING_SAME:
	case SCHED_POD_BOUND:
		break;
	}
}

static void apply_put(struct sched_informer *inf, const char *key, const char *value, int64_t rev)
{
	_cleanup_json_ json_object *obj = meta_from_stored(value, rev);
	struct scheduler *s = inf->s;
	enum sched_pod_change change = SCHED_POD_IGNORED;
	struct sched_pod *p;
	bool changed = false;

	if (!obj)
		return;
	if (!inf->pods) {
		if (sched_cache_node_put(&s->cache, obj, &changed) == 0 && changed)
			sched_queue_move_all(&s->queue);
		return;
	}
	p = sched_pod_parse(obj);
	if (!p || sched_cache_pod_put(&s->cache, p, &change) < 0) {
		log_warn("scheduler: pod %s: cannot cache it (%s)", key, strerror(errno));
		return;
	}
	pod_changed(s, key, change);
}

static void apply_delete(struct sched_informer *inf, const char *key)
{
	if (inf->pods)
		pod_changed(inf->s, key, sched_cache_pod_delete(&inf->s->cache, key));
	else
		sched_cache_node_delete(&inf->s->cache, key);
}

/* "/registry/pods/ns/name" -> "ns/name"; "/registry/nodes/n" -> "n". */
static const char *short_key(const struct sched_informer *inf, const char *key)
{
	size_t len = strlen(inf->prefix);

	return strncmp(key, inf->prefix, len) == 0 ? key + len : NULL;
}

struct prune_ctx {
	struct sched_informer *inf;
	struct strmap *seen;
	char **gone;
	size_t n_gone;
};

static void collect_gone(const char *key, void *value, void *arg)
{
	struct prune_ctx *p = arg;
	char **v;

	(void)value;
	if (strmap_get(p->seen, key))
		return;
	v = realloc(p->gone, (p->n_gone + 1) * sizeof(*v));
	if (!v)
		return;
	p->gone = v;
	v[p->n_gone] = strdup(key);
	if (v[p->n_gone])
		p->n_gone++;
}

/* After a relist: removes from the cache what the list no longer has. */
static void prune(struct sched_informer *inf, struct strmap *seen)
{
	struct sched_cache *c = &inf->s->cache;
	struct prune_ctx p = { .inf = inf, .seen = seen };

	pthread_mutex_lock(&c->lock);
	if (inf->pods) {
		strmap_foreach(&c->assigned, collect_gone, &p);
		strmap_foreach(&c->pending, collect_gone, &p);
	} else {
		strmap_foreach(&c->nodes, collect_gone, &p);
	}
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < p.n_gone; i++) {
		apply_delete(inf, p.gone[i]);
		free(p.gone[i]);
	}
	free(p.gone);
}

static int relist(struct sched_informer *inf, bool prune_after, int64_t *ret_rev)
{
	struct store_list_result res = { 0 };
	struct strmap seen = { 0 };
	int rc;

	rc = store_list(registry_store(inf->s->reg), inf->prefix, NULL, 0, 0, &res);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < res.n; i++) {
		const char *k = short_key(inf, res.items[i].key);

		if (!k)
			continue;
		apply_put(inf, k, res.items[i].value, res.items[i].mod_rev);
		if (prune_after)
			strmap_put(&seen, k, &seen, NULL);
	}
	if (prune_after)
		prune(inf, &seen);
	strmap_clear(&seen);
	*ret_rev = res.revision;
	store_list_result_clear(&res);
	return 0;
}

static int rewatch(struct sched_informer *inf, bool prune_after)
{
	struct scheduler *s = inf->s;
	struct store_watch *sw = NULL;
	int64_t rev = 0;
	int rc;

	rc = relist(inf, prune_after, &rev);
	if (rc == 0)
		rc = store_watch_new(registry_store(s->reg), inf->prefix, rev, &sw);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	store_watch_free(inf->sw);
	inf->sw = sw;
	if (s->stopping)
		store_watch_cancel(sw);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int sched_informer_sync(struct sched_informer *inf)
{
	return rewatch(inf, false);
}

struct sched_informer_ev {
	struct sched_informer_ev *next;
	struct store_event ev;
};

static void apply_event(struct sched_informer *inf, struct store_event *ev)
{
	const char *k = ev->key ? short_key(inf, ev->key) : NULL;

	if (k && ev->type == STORE_EVENT_PUT)
		apply_put(inf, k, ev->value, ev->mod_rev);
	else if (k)
		apply_delete(inf, k);
}

/* The reader's side of a relist: hands it to the applier and waits until the new watch is
 * in place (false: the applier stopped). */
static bool await_relist(struct sched_informer *inf)
{
	bool alive;

	pthread_mutex_lock(&inf->q_lock);
	inf->relisting = true;
	pthread_cond_broadcast(&inf->q_cond);
	while (inf->relisting && !inf->dead)
		pthread_cond_wait(&inf->q_cond, &inf->q_lock);
	alive = !inf->dead;
	pthread_mutex_unlock(&inf->q_lock);
	return alive;
}

static void push_event(struct sched_informer *inf, struct sched_informer_ev *e)
{
	pthread_mutex_lock(&inf->q_lock);
	if (inf->tail)
		inf->tail->next = e;
	else
		inf->head = e;
	inf->tail = e;
	pthread_cond_broadcast(&inf->q_cond);
	pthread_mutex_unlock(&inf->q_lock);
}

static void *reader_main(void *arg)
{
	struct sched_informer *inf = arg;

	for (;;) {
		struct sched_informer_ev *e = calloc(1, sizeof(*e));
		int rc = e ? store_watch_next(inf->sw, &e->ev, -1) : -ENOMEM;

		if (rc == 0) {
			push_event(inf, e);
			continue;
		}
		free(e);
		if (rc == -ECANCELED)
			break;
		if (rc == -ERANGE || rc == -ENOMEM) {
			/* An event is lost (fell out of the ring, or no memory to hold it). */
			log_info("scheduler: watch %s: %s, listing again", inf->prefix, strerror(-rc));
			if (!await_relist(inf))
				break;
			continue;
		}
		log_warn_errno(rc, "scheduler: watch %s: %m", inf->prefix);
	}
	pthread_mutex_lock(&inf->q_lock);
	inf->reader_done = true;
	pthread_cond_broadcast(&inf->q_cond);
	pthread_mutex_unlock(&inf->q_lock);
	return NULL;
}

/* The next event to apply, or NULL with *ret_relist telling whether to relist (else stop). */
static struct sched_informer_ev *next_event(struct sched_informer *inf, bool *ret_relist)
{
	struct sched_informer_ev *e;

	pthread_mutex_lock(&inf->q_lock);
	while (!inf->head && !inf->relisting && !inf->reader_done)
		pthread_cond_wait(&inf->q_cond, &inf->q_lock);
	e = inf->head;
	if (e) {
		inf->head = e->next;
		if (!inf->head)
			inf->tail = NULL;
	}
	*ret_relist = inf->relisting;
	pthread_mutex_unlock(&inf->q_lock);
	return e;
}

static void relist_done(struct sched_informer *inf, int rc)
{
	pthread_mutex_lock(&inf->q_lock);
	inf->relisting = false;
	if (rc < 0)
		inf->dead = true;
	pthread_cond_broadcast(&inf->q_cond);
	pthread_mutex_unlock(&inf->q_lock);
}

/* A relist that fails (etcd out of reach for a while, as when its watch broke past a
 * compaction) is retried until it works or the scheduler stops: never blind for good. */
static int rewatch_retrying(struct sched_informer *inf)
{
	struct timespec pause = { 0, 500 * 1000000L };
	bool stopping;
	int rc;

	while ((rc = rewatch(inf, true)) < 0) {
		pthread_mutex_lock(&inf->s->lock);
		stopping = inf->s->stopping;
		pthread_mutex_unlock(&inf->s->lock);
		if (stopping)
			return rc;
		log_warn_errno(rc, "scheduler: listing %s again: %m; retrying", inf->prefix);
		nanosleep(&pause, NULL);
	}
	return 0;
}

static void *run(void *arg)
{
	struct sched_informer *inf = arg;

	for (;;) {
		bool relist = false;
		struct sched_informer_ev *e = next_event(inf, &relist);
		int rc;

		if (e) {
			apply_event(inf, &e->ev);
			store_event_clear(&e->ev);
			free(e);
			continue;
		}
		if (!relist)
			break;
		rc = rewatch_retrying(inf);
		relist_done(inf, rc);
		if (rc < 0) {
			log_error_errno(rc, "scheduler: cannot watch %s again, stopping: %m", inf->prefix);
			break;
		}
	}
	return NULL;
}

int sched_informer_start(struct sched_informer *inf)
{
	int rc;

	pthread_mutex_init(&inf->q_lock, NULL);
	pthread_cond_init(&inf->q_cond, NULL);
	inf->q_init = true;
	rc = -pthread_create(&inf->thread, NULL, run, inf);
	inf->started = rc == 0;
	if (rc == 0) {
		rc = -pthread_create(&inf->reader, NULL, reader_main, inf);
		inf->reader_started = rc == 0;
	}
	return rc;
}

void sched_informer_stop(struct sched_informer *inf)
{
	struct scheduler *s = inf->s;

	pthread_mutex_lock(&s->lock);
	if (inf->sw)
		store_watch_cancel(inf->sw);
	pthread_mutex_unlock(&s->lock);
	if (inf->q_init && !inf->reader_started) {
		/* No reader to tell the applier the watch ended. */
		pthread_mutex_lock(&inf->q_lock);
		inf->reader_done = true;
		pthread_cond_broadcast(&inf->q_cond);
		pthread_mutex_unlock(&inf->q_lock);
	}
	if (inf->reader_started)
		pthread_join(inf->reader, NULL);
	if (inf->started)
		pthread_join(inf->thread, NULL);
	inf->started = inf->reader_started = false;
	store_watch_free(inf->sw);
	inf->sw = NULL;
	while (inf->head) {
		struct sched_informer_ev *e = inf->head;

		inf->head = e->next;
		store_event_clear(&e->ev);
		free(e);
	}
	inf->tail = NULL;
	if (inf->q_init) {
		pthread_cond_destroy(&inf->q_cond);
		pthread_mutex_destroy(&inf->q_lock);
		inf->q_init = false;
	}
}
