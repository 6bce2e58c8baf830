/* Service routing sync: a table of Services and Endpoints by namespace/name, each with the
 * frontends last applied to the data path. Events re-derive one entry and apply the difference;
 * a re-list of either collection applies everything as one pruning batch. */
#include "proxy/sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>
#include <skiff/log.h>

#include "proxy/sync_build.h"

struct entry {
	char *key; /* namespace/name */
	json_object *svc, *eps;
	struct sync_fe_set applied;
};

struct proxy_sync {
	const struct lb_ops *ops;
	void *dp;
	char *node;
	pthread_mutex_t lock;
	struct entry *e;
	size_t n;
	bool svc_listed, eps_listed;
	struct proxy_sync_stats stats;
	/* proxy_sync_start */
	struct api_client *api;
	atomic_bool *stop;
	pthread_t threads[2];
	int started;
};

struct proxy_sync *proxy_sync_new(const struct lb_ops *ops, void *dp, const char *node)
{
	struct proxy_sync *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->dp = dp;
	s->node = strdup(node ? node : "");
	if (!s->node) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static void entry_done(struct entry *e)
{
	free(e->key);
	json_object_put(e->svc);
	json_object_put(e->eps);
	sync_fe_set_done(&e->applied);
}

void proxy_sync_free(struct proxy_sync *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_done(&s->e[i]);
	free(s->e);
	free(s->node);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static char *key_of(json_object *obj)
{
	const char *ns = json_get_string(obj, "metadata.namespace"), *name = json_get_string(obj, "metadata.name");
	char *k;

	if (!name || asprintf(&k, "%s/%s", ns ? ns : "default", name) < 0)
		return NULL;
	return k;
}

static struct entry *entry_get(struct proxy_sync *s, const char *key, bool create)
{
	struct entry *grown;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].key, key) == 0)
			return &s->e[i];
	if (!create)
		return NULL;
	grown = realloc(s->e, (s->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	s->e = grown;
	s->e[s->n] = (struct entry){ .key = strdup(key) };
	if (!s->e[s->n].key)
		return NULL;
	return &s->e[s->n++];
}

/* Drops entries with neither object nor applied frontends left. */
static void compact(struct proxy_sync *s)
{
	for (size_t i = 0; i < s->n;)
		if (!s->e[i].svc && !s->e[i].eps && s->e[i].applied.n == 0) {
			entry_done(&s->e[i]);
			s->e[i] = s->e[--s->n];
		} else
			i++;
}

/* Every entry's frontends in one batch that prunes the rest. */
static int full_resync(struct proxy_sync *s)
{
	struct sync_fe_set *want = calloc(s->n + 1, sizeof(*want));
	unsigned upserts = 0;
	int r;

	if (!want)
		return -ENOMEM;
	r = s->ops->begin(s->dp);
	for (size_t i = 0; r == 0 && i < s->n; i++) {
		r = sync_build(s->e[i].svc, s->e[i].eps, s->node, &want[i]);
		for (size_t j = 0; r == 0 && j < want[i].n; j++, upserts++)
			r = s->ops->upsert(s->dp, &want[i].fe[j]);
	}
	if (r == 0)
		r = s->ops->commit(s->dp, true);
	for (size_t i = 0; i < s->n; i++) {
		if (r == 0) {
			sync_fe_set_done(&s->e[i].applied);
			s->e[i].applied = want[i];
		} else
			sync_fe_set_done(&want[i]);
	}
	free(want);
	if (r < 0) {
		s->stats.failures++;
		return log_error_errno(r, "proxy (%s): full resync of %zu Services: %m", s->ops->name, s->n);
	}
	s->stats.full++;
	s->stats.upserts += upserts;
	compact(s);
	log_debug("proxy (%s): full resync, %u frontends", s->ops->name, upserts);
	return 0;
}

/* The difference between what e has applied and what it should hold, in one batch. */
static int apply_entry(struct proxy_sync *s, struct entry *e)
{
	struct sync_fe_set want;
	unsigned upserts = 0, removes = 0;
	bool begun = false;
	int r;

	if (!s->svc_listed || !s->eps_listed)
		return 0;
	r = sync_build(e->svc, e->eps, s->node, &want);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < e->applied.n; i++) {
		const struct lb_service *old = &e->applied.fe[i];

		if (sync_fe_find(&want, old))
			continue;
		r = begun ? 0 : (begun = true, s->ops->begin(s->dp));
		if (r == 0)
			r = s->ops->remove(s->dp, old->vip, old->port, old->proto, old->node_port);
		removes++;
	}
	for (size_t i = 0; r == 0 && i < want.n; i++) {
		const struct lb_service *old = sync_fe_find(&e->applied, &want.fe[i]);

		if (old && sync_fe_equal(old, &want.fe[i]))
			continue;
		r = begun ? 0 : (begun = true, s->ops->begin(s->dp));
		if (r == 0)
			r = s->ops->upsert(s->dp, &want.fe[i]);
		upserts++;
	}
	if (r == 0 && begun)
		r = s->ops->commit(s->dp, false);
	if (r < 0) {
		sync_fe_set_done(&want);
		s->stats.failures++;
		return log_error_errno(r, "proxy (%s): Service %s: %m (re-listing for a full resync)", s->ops->name,
				       e->key);
	}
	sync_fe_set_done(&e->applied);
	e->applied = want;
	if (begun) {
		s->stats.commits++;
		s->stats.upserts += upserts;
		s->stats.removes += removes;
		log_debug("proxy (%s): Service %s: %u upserted, %u removed", s->ops->name, e->key, upserts, removes);
	}
	return 0;
}

/* Replaces one collection (Services: svc_side) with a fresh list, then resyncs everything. */
static int relist(struct proxy_sync *s, json_object *items, bool svc_side)
{
	int r = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		json_object **slot = svc_side ? &s->e[i].svc : &s->e[i].eps;

		json_object_put(*slot);
		*slot = NULL;
	}
	for (size_t i = 0; r == 0 && items && i < json_object_array_length(items); i++) {
		json_object *obj = json_object_array_get_idx(items, i);
		char *key = key_of(obj);
		struct entry *e = key ? entry_get(s, key, true) : NULL;

		free(key);
		if (!e) {
			r = -ENOMEM;
			break;
		}
		json_object_put(svc_side ? e->svc : e->eps);
		*(svc_side ? &e->svc : &e->eps) = json_object_get(obj);
	}
	if (svc_side)
		s->svc_listed = true;
	else
		s->eps_listed = true;
	if (r == 0 && s->svc_listed && s->eps_listed)
		r = full_resync(s);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int event(struct proxy_sync *s, const char *type, json_object *obj, bool svc_side)
{
	char *key = key_of(obj);
	struct entry *e;
	int r = 0;

	if (!key)
		return 0;
	pthread_mutex_lock(&s->lock);
	e = entry_get(s, key, strcmp(type, "DELETED") != 0);
	if (e) {
		json_object **slot = svc_side ? &e->svc : &e->eps;

		json_object_put(*slot);
		*slot = strcmp(type, "DELETED") == 0 ? NULL : json_object_get(obj);
		r = apply_entry(s, e);
		compact(s);
	}
	pthread_mutex_unlock(&s->lock);
	free(key);
	return r;
}

static int svc_relist(void *ud, json_object *items)
{
	return relist(ud, items, true);
}

static int svc_event(void *ud, const char *type, json_object *obj)
{
	return event(ud, type, obj, true);
}

static int eps_relist(void *ud, json_object *items)
{
	return relist(ud, items, false);
}

static int eps_event(void *ud, const char *type, json_object *obj)
{
	return event(ud, type, obj, false);
}

const struct api_watch_ops proxy_sync_service_ops = { .relist = svc_relist, .event = svc_event };
const struct api_watch_ops proxy_sync_endpoints_ops = { .relist = eps_relist, .event = eps_event };

static void *svc_thread(void *ud)
{
	struct proxy_sync *s = ud;

	api_watch_run(s->api, "/api/v1/services", NULL, &proxy_sync_service_ops, s, s->stop, NULL);
	return NULL;
}

static void *eps_thread(void *ud)
{
	struct proxy_sync *s = ud;

	api_watch_run(s->api, "/api/v1/endpoints", NULL, &proxy_sync_endpoints_ops, s, s->stop, NULL);
	return NULL;
}

int proxy_sync_start(struct proxy_sync *s, struct api_client *api, atomic_bool *stop)
{
	void *(*fns[2])(void *) = { svc_thread, eps_thread };

	s->api = api;
	s->stop = stop;
	for (; s->started < 2; s->started++) {
		int r = -pthread_create(&s->threads[s->started], NULL, fns[s->started], s);

		if (r < 0)
			return log_error_errno(r, "proxy: starting the Service/Endpoints watch: %m");
	}
	return 0;
}

void proxy_sync_join(struct proxy_sync *s)
{
	while (s && s->started > 0)
		pthread_join(s->threads[--s->started], NULL);
}

void proxy_sync_get_stats(struct proxy_sync *s, struct proxy_sync_stats *ret)
{
	pthread_mutex_lock(&s->lock);
	*ret = s->stats;
	pthread_mutex_unlock(&s->lock);
}
