/* The scheduler's cache (see cache.h): node facts and accounting, bound and assumed pods,
 * pending pods, behind one lock that the watch thread and the scheduling thread share. */
#include "scheduler/cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

void sched_cache_init(struct sched_cache *c, unsigned seed)
{
	*c = (struct sched_cache){ .seed = seed };
	pthread_mutex_init(&c->lock, NULL);
}

static void free_pod(const char *key, void *value, void *arg)
{
	(void)key, (void)arg;
	sched_pod_free(value);
}

void sched_cache_destroy(struct sched_cache *c)
{
	strmap_foreach(&c->assigned, free_pod, NULL);
	strmap_foreach(&c->pending, free_pod, NULL);
	strmap_clear(&c->assigned);
	strmap_clear(&c->pending);
	for (size_t i = 0; i < c->n_node_v; i++)
		sched_node_free(c->node_v[i]);
	free(c->node_v);
	strmap_clear(&c->nodes);
	sched_select_buf_free(&c->buf);
	pthread_mutex_destroy(&c->lock);
}

static struct sched_node *node_get(struct sched_cache *c, const char *name, bool create)
{
	struct sched_node *n = strmap_get(&c->nodes, name), **v;

	if (n || !create)
		return n;
	n = calloc(1, sizeof(*n));
	v = realloc(c->node_v, (c->n_node_v + 1) * sizeof(*v));
	if (v)
		c->node_v = v;
	if (!n || !v || !(n->name = strdup(name)) || strmap_put(&c->nodes, name, n, NULL) < 0) {
		sched_node_free(n);
		return NULL;
	}
	c->node_v[c->n_node_v++] = n;
	return n;
}

/* A node that is gone and holds no pods leaves the cache. */
static void node_maybe_drop(struct sched_cache *c, struct sched_node *n)
{
	if (n->exists || n->n_pods > 0)
		return;
	strmap_remove(&c->nodes, n->name);
	for (size_t i = 0; i < c->n_node_v; i++)
		if (c->node_v[i] == n) {
			c->node_v[i] = c->node_v[--c->n_node_v];
			break;
		}
	if (c->next_start >= c->n_node_v)
		c->next_start = 0;
	sched_node_free(n);
}

static int account(struct sched_cache *c, const struct sched_pod *p)
{
	struct sched_node *n = node_get(c, p->node_name, true);

	if (!n)
		return -ENOMEM;
	sched_node_add_pod(n, p);
	return 0;
}

static void unaccount(struct sched_cache *c, const struct sched_pod *p)
{
	struct sched_node *n = node_get(c, p->node_name, false);

	if (!n)
		return;
	sched_node_remove_pod(n, p);
	node_maybe_drop(c, n);
}

static void move_facts(struct sched_node *dst, struct sched_node *src)
{
	sched_node_clear_facts(dst);
	dst->exists = src->exists;
	dst->labels = src->labels;
	dst->unschedulable = src->unschedulable;
	dst->ready = src->ready;
	dst->taints = src->taints;
	dst->n_taints = src->n_taints;
	dst->alloc = src->alloc;
	dst->alloc_pods = src->alloc_pods;
	dst->alloc_gpus = src->alloc_gpus;
	src->labels = NULL;
	src->taints = NULL;
	src->n_taints = 0;
}

int sched_cache_node_put(struct sched_cache *c, json_object *node, bool *ret_changed)
{
	struct sched_node parsed = { 0 }, *n;
	int rc = sched_node_parse(node, &parsed);

	if (rc < 0)
		goto out;
	pthread_mutex_lock(&c->lock);
	n = node_get(c, parsed.name, true);
	if (n) {
		*ret_changed = sched_node_facts_differ(n, &parsed);
		move_facts(n, &parsed);
	}
	pthread_mutex_unlock(&c->lock);
	rc = n ? 0 : -ENOMEM;
out:
	sched_node_clear_facts(&parsed);
	free(parsed.name);
	return rc;
}

void sched_cache_node_delete(struct sched_cache *c, const char *name)
{
	struct sched_node *n;

	pthread_mutex_lock(&c->lock);
	n = node_get(c, name, false);
	if (n) {
		sched_node_clear_facts(n);
		node_maybe_drop(c, n);
	}
	pthread_mutex_unlock(&c->lock);
}

/* A pod bound to a node (or finished there). */
static int put_bound(struct sched_cache *c, struct sched_pod *p, enum sched_pod_change *ret)
{
	struct sched_pod *old = strmap_remove(&c->assigned, p->key), *pend = strmap_remove(&c->pending, p->key);
	int rc = 0;

	sched_pod_free(pend);
	if (old)
		unaccount(c, old);
	sched_pod_free(old);
	if (p->terminal) {
		*ret = old ? SCHED_POD_FREED : pend ? SCHED_POD_PENDING_GONE : SCHED_POD_IGNORED;
		sched_pod_free(p);
		return 0;
	}
	rc = account(c, p);
	if (rc == 0)
		rc = strmap_put(&c->assigned, p->key, p, NULL);
	if (rc < 0) {
		unaccount(c, p);
		sched_pod_free(p);
		return rc;
	}
	*ret = pend ? SCHED_POD_PENDING_GONE : SCHED_POD_BOUND;
	return 0;
}

static int put_unbound(struct sched_cache *c, struct sched_pod *p, enum sched_pod_change *ret)
{
	struct sched_pod *bound = strmap_get(&c->assigned, p->key), *old = NULL;
	int rc;

	/* An event older than the binding of a pod placed here: the assumption stands. */
	if (bound && bound->assumed) {
		sched_pod_free(p);
		*ret = SCHED_POD_IGNORED;
		return 0;
	}
	if (bound) {
		strmap_remove(&c->assigned, p->key);
		unaccount(c, bound);
		sched_pod_free(bound);
	}
	if (!p->ours || p->deleting || p->terminal) {
		old = strmap_remove(&c->pending, p->key);
		*ret = old ? SCHED_POD_PENDING_GONE : SCHED_POD_IGNORED;
		sched_pod_free(old);
		sched_pod_free(p);
		return 0;
	}
	rc = strmap_put(&c->pending, p->key, p, (void **)&old);
	if (rc < 0) {
		sched_pod_free(p);
		return rc;
	}
	*ret = !old ? SCHED_POD_PENDING_NEW : sched_pod_relevant_change(old, p) ? SCHED_POD_PENDING_UPDATE
										  : SCHED_POD_PENDING_SAME;
	sched_pod_free(old);
	return 0;
}

int sched_cache_pod_put(struct sched_cache *c, struct sched_pod *p, enum sched_pod_change *ret)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = p->node_name ? put_bound(c, p, ret) : put_unbound(c, p, ret);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

enum sched_pod_change sched_cache_pod_delete(struct sched_cache *c, const char *key)
{
	struct sched_pod *bound, *pend;

	pthread_mutex_lock(&c->lock);
	bound = strmap_remove(&c->assigned, key);
	pend = strmap_remove(&c->pending, key);
	if (bound)
		unaccount(c, bound);
	pthread_mutex_unlock(&c->lock);
	sched_pod_free(bound);
	sched_pod_free(pend);
	return bound ? SCHED_POD_FREED : pend ? SCHED_POD_PENDING_GONE : SCHED_POD_IGNORED;
}

bool sched_cache_pending(struct sched_cache *c, const char *key)
{
	bool r;

	pthread_mutex_lock(&c->lock);
	r = strmap_get(&c->pending, key) != NULL;
	pthread_mutex_unlock(&c->lock);
	return r;
}

void sched_decision_clear(struct sched_decision *d)
{
	free(d->uid);
	free(d->rv);
	free(d->node);
	free(d->message);
	*d = (struct sched_decision){ 0 };
}

static int assume(struct sched_cache *c, struct sched_pod *p, struct sched_node *n)
{
	p->node_name = strdup(n->name);
	if (!p->node_name || strmap_put(&c->assigned, p->key, p, NULL) < 0) {
		free(p->node_name);
		p->node_name = NULL;
		return -ENOMEM;
	}
	strmap_remove(&c->pending, p->key);
	p->assumed = true;
	sched_node_add_pod(n, p);
	return 0;
}

int sched_cache_schedule(struct sched_cache *c, const char *key, struct sched_decision *ret)
{
	struct sched_decision d = { 0 };
	struct sched_pod *p;
	size_t idx = 0;
	int rc;

	pthread_mutex_lock(&c->lock);
	p = strmap_get(&c->pending, key);
	if (!p) {
		rc = -ENOENT;
		goto out;
	}
	d.uid = strdup(p->uid);
	d.rv = strdup(p->rv);
	rc = d.uid && d.rv ? sched_select(c->node_v, c->n_node_v, &c->next_start, p, &c->seed, &c->buf, &idx, &d.message)
			   : -ENOMEM;
	if (rc == 0) {
		d.node = strdup(c->node_v[idx]->name);
		rc = d.node ? assume(c, p, c->node_v[idx]) : -ENOMEM;
	}
out:
	pthread_mutex_unlock(&c->lock);
	if (rc == 0 || rc == -ENOSPC)
		*ret = d;
	else
		sched_decision_clear(&d);
	return rc;
}

void sched_cache_forget(struct sched_cache *c, const char *key)
{
	struct sched_pod *p;

	pthread_mutex_lock(&c->lock);
	p = strmap_get(&c->assigned, key);
	if (p && p->assumed) {
		strmap_remove(&c->assigned, key);
		unaccount(c, p);
		free(p->node_name);
		p->node_name = NULL;
		p->assumed = false;
		if (strmap_put(&c->pending, key, p, NULL) < 0)
			sched_pod_free(p);
	}
	pthread_mutex_unlock(&c->lock);
}
