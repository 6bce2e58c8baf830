/* The scheduler's informers: a list of nodes (or pods) from the store into the cache, then
 * a store watch from the list's revision that keeps the cache current and tells the queue
 * what changed. A watch that falls behind compaction lists again and prunes what is gone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static void *run(void *arg)
{
	struct sched_informer *inf = arg;

	for (;;) {
		struct store_event ev = { 0 };
		int rc = store_watch_next(inf->sw, &ev, -1);
		const char *k;

		if (rc == -ECANCELED)
			break;
		if (rc == -ERANGE) {
			rc = rewatch(inf, true);
			if (rc < 0) {
				log_error_errno(rc, "scheduler: cannot watch %s again, stopping: %m", inf->prefix);
				break;
			}
			continue;
		}
		if (rc < 0) {
			log_warn_errno(rc, "scheduler: watch %s: %m", inf->prefix);
			continue;
		}
		k = ev.key ? short_key(inf, ev.key) : NULL;
		if (k && ev.type == STORE_EVENT_PUT)
			apply_put(inf, k, ev.value, ev.mod_rev);
		else if (k)
			apply_delete(inf, k);
		store_event_clear(&ev);
	}
	return NULL;
}

int sched_informer_start(struct sched_informer *inf)
{
	int rc = -pthread_create(&inf->thread, NULL, run, inf);

	inf->started = rc == 0;
	return rc;
}

void sched_informer_stop(struct sched_informer *inf)
{
	struct scheduler *s = inf->s;

	pthread_mutex_lock(&s->lock);
	if (inf->sw)
		store_watch_cancel(inf->sw);
	pthread_mutex_unlock(&s->lock);
	if (inf->started)
		pthread_join(inf->thread, NULL);
	inf->started = false;
	store_watch_free(inf->sw);
	inf->sw = NULL;
}
