/* The node lifecycle controller's loop (see nodelifecycle.h). A heartbeat is a Lease
 * whose renewTime moved or a Ready condition whose lastHeartbeatTime moved; the time it
 * was seen is this process's monotonic clock, so clock skew between nodes never counts. */
#include "controllers/nodelifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "controllers/ctrl.h"
#include "controllers/events.h"
#include "controllers/informer.h"
#include "controllers/nodelifecycle_internal.h"

#define NODE_PREFIX "/registry/nodes/"
#define TICK_MS 500

struct node_state {
	char *name;
	int64_t probe_ms; /* when the last heartbeat was seen */
	char *renew;      /* the Lease's last spec.renewTime */
	char *beat;       /* the Ready condition's last lastHeartbeatTime */
	bool registered;  /* RegisteredNode recorded */
};

struct nodelifecycle_controller {
	struct registry *reg;
	struct informer *inf;
	int64_t grace_ms, eviction_timeout_s;
	double threshold;
	struct nodelc_bucket bucket;
	struct node_state *v;
	size_t n;
	struct strset changed; /* nodes whose Ready condition changed in this batch */
	bool partitioned;
};

static struct node_state *state_of(struct nodelifecycle_controller *c, const char *name, bool *ret_new)
{
	struct node_state *v;

	*ret_new = false;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->v = v;
	v[c->n] = (struct node_state){ .name = strdup(name), .probe_ms = ctrl_now_ms() };
	if (!v[c->n].name)
		return NULL;
	*ret_new = true;
	return &c->v[c->n++];
}

static void state_remove(struct nodelifecycle_controller *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0) {
			free(c->v[i].name);
			free(c->v[i].renew);
			free(c->v[i].beat);
			c->v[i] = c->v[--c->n];
			return;
		}
}

/* Stores s in *slot; true when it differs from what was there. */
static bool moved(char **slot, const char *s)
{
	if (!s || (*slot && strcmp(*slot, s) == 0))
		return false;
	free(*slot);
	*slot = strdup(s);
	return true;
}

static void lease_event(struct nodelifecycle_controller *c, const char *name, const struct store_event *ev)
{
	_cleanup_json_ json_object *lease = NULL;
	struct node_state *st;
	bool fresh;

	if (ev->type != STORE_EVENT_PUT)
		return;
	lease = json_tokener_parse(ev->value);
	st = state_of(c, name, &fresh);
	if (st && moved(&st->renew, json_get_string(lease, "spec.renewTime")))
		st->probe_ms = ctrl_now_ms();
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void node_event(struct nodelifecycle_controller *c, const char *name, const struct store_event *ev)
{
	_cleanup_json_ json_object *node = meta_from_stored(ev->value, ev->mod_rev);
	_cleanup_json_ json_object *prev = ev->prev_value ? meta_from_stored(ev->prev_value, 0) : NULL;
	const char *ready, *was;
	struct node_state *st;
	bool fresh;

	if (ev->type == STORE_EVENT_DELETE) {
		_cleanup_free_ char *lease = NULL;

		state_remove(c, name);
		/* Kubernetes hangs the Lease off the Node with an ownerReference; here it lives
		 * outside the registry, so it goes with its node directly. */
		if (asprintf(&lease, LEASE_PREFIX "%s", name) >= 0)
			store_delete(registry_store(c->reg), lease, 0, NULL);
		return;
	}
	st = state_of(c, name, &fresh);
	if (!st || !node)
		return;
	if (!st->registered) {
		st->registered = true;
		event_record(c->reg, node, NODELC_COMPONENT, EVENT_NORMAL, "RegisteredNode",
			     "Node %s event: Registered Node %s in Controller", name, name);
	}
	if (moved(&st->beat, nodelc_ready_beat(node)))
		st->probe_ms = ctrl_now_ms();
	ready = nodelc_ready_status(node);
	was = prev ? nodelc_ready_status(prev) : NULL;
	if (str_eq(ready, was))
		return;
	strset_add(&c->changed, name);
	if (ready && strcmp(ready, "True") == 0)
		event_record(c->reg, node, NODELC_COMPONENT, EVENT_NORMAL, "NodeReady", "Node %s status is now: NodeReady",
			     name);
	else if (ready && was && strcmp(was, "True") == 0)
		event_record(c->reg, node, NODELC_COMPONENT, EVENT_NORMAL, "NodeNotReady",
			     "Node %s status is now: NodeNotReady", name);
}

static void on_event(void *ctx, const struct store_event *ev)
{
	struct nodelifecycle_controller *c = ctx;
	const char *rest;

	if ((rest = informer_key_rest(ev->key, LEASE_PREFIX)))
		lease_event(c, rest, ev);
	else if ((rest = informer_key_rest(ev->key, NODE_PREFIX)))
		node_event(c, rest, ev);
}

/* The NoExecute taint a node's Ready status calls for: NULL (none) or one key. */
static const char *taint_for(const char *ready)
{
	if (!ready || strcmp(ready, "True") == 0)
		return NULL;
	return strcmp(ready, "Unknown") == 0 ? TAINT_UNREACHABLE : TAINT_NOT_READY;
}

static bool taints_match(json_object *node, const char *want)
{
	_cleanup_json_ json_object *copy = json_clone(node);

	return copy && nodelc_apply_taint(copy, want) == 1;
}

/* A node's Ready condition changed: taint it to match, and its pods stop being ready. */
static void flush(void *ctx)
{
	struct nodelifecycle_controller *c = ctx;
	struct strset changed = c->changed;

	c->changed = (struct strset){ 0 };
	for (size_t i = 0; i < changed.n; i++) {
		_cleanup_json_ json_object *node = NULL;
		struct api_status st = { 0 };
		const char *ready;

		if (registry_read(c->reg, resource_by_name("nodes"), NULL, changed.v[i], &node, NULL, &st) < 0) {
			api_status_clear(&st);
			continue;
		}
		ready = nodelc_ready_status(node);
		if (!taints_match(node, taint_for(ready)))
			nodelc_set_taint(c->reg, changed.v[i], taint_for(ready));
		if (ready && strcmp(ready, "True") != 0)
			nodelc_mark_pods_not_ready(c->reg, changed.v[i]);
	}
	strset_clear(&changed);
}

/* Ready as it is after this tick's heartbeat check. */
static const char *check_heartbeat(struct nodelifecycle_controller *c, json_object *node)
{
	const char *ready = nodelc_ready_status(node);
	struct node_state *st;
	bool fresh;

	st = state_of(c, meta_name(node), &fresh);
	if (!st || ctrl_now_ms() - st->probe_ms <= c->grace_ms || str_eq(ready, "Unknown"))
		return ready;
	if (nodelc_mark_unknown(c->reg, meta_name(node), st->beat) == 0)
		return "Unknown";
	return ready;
}

static void evict(struct nodelifecycle_controller *c, json_object *node, const char *key)
{
	int64_t now = time(NULL);

	if (!nodelc_any_due(c->reg, node, key, c->eviction_timeout_s, now))
		return;
	/* No token: the node waits for the next tick. */
	if (nodelc_bucket_take(&c->bucket, ctrl_now_ms()))
		nodelc_evict_due(c->reg, node, key, c->eviction_timeout_s, now);
}

static void tick(void *ctx)
{
	struct nodelifecycle_controller *c = ctx;
	_cleanup_json_ json_object *list = NULL;
	json_object *nodes;
	size_t dead = 0, total;
	bool partitioned;

	if (ctrl_list(c->reg, "nodes", NULL, NULL, &list, &nodes) < 0)
		return;
	total = json_object_array_length(nodes);
	for (size_t i = 0; i < total; i++) {
		json_object *node = json_object_array_get_idx(nodes, i);
		const char *ready = check_heartbeat(c, node);

		if (ready && strcmp(ready, "True") != 0)
			dead++;
		if (!taints_match(node, taint_for(ready)))
			nodelc_set_taint(c->reg, meta_name(node), taint_for(ready));
	}
	partitioned = nodelc_partitioned(total, dead, c->threshold);
	if (partitioned != c->partitioned)
		log_warn(partitioned ? "node controller: %zu of %zu nodes not ready: a partition, not node failures; "
				       "evictions stopped"
				     : "node controller: %zu of %zu nodes not ready: evictions resume",
			 dead, total);
	c->partitioned = partitioned;
	if (partitioned)
		return;
	for (size_t i = 0; i < total; i++) {
		json_object *node = json_object_array_get_idx(nodes, i);

		if (nodelc_taint_time(node, TAINT_UNREACHABLE) >= 0)
			evict(c, node, TAINT_UNREACHABLE);
		else if (nodelc_taint_time(node, TAINT_NOT_READY) >= 0)
			evict(c, node, TAINT_NOT_READY);
	}
}

/* At start (and after the watch fell behind) every node gets a full grace period. */
static void resync(void *ctx)
{
	struct nodelifecycle_controller *c = ctx;

	for (size_t i = 0; i < c->n; i++)
		c->v[i].probe_ms = ctrl_now_ms();
}

static const char *const prefixes[] = { NODE_PREFIX, LEASE_PREFIX, NULL };
static const struct informer_ops ops = {
	.name = "node lifecycle controller",
	.thread_name = "ctrl-nodelife",
	.prefixes = prefixes,
	.event = on_event,
	.flush = flush,
	.resync = resync,
	.tick = tick,
	.tick_ms = TICK_MS,
};

struct nodelifecycle_controller *nodelifecycle_controller_start(struct registry *reg,
								const struct controllers_options *opts)
{
	struct nodelifecycle_controller *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->reg = reg;
	c->grace_ms = (int64_t)opts->node_monitor_grace_period_s * 1000;
	c->eviction_timeout_s = opts->pod_eviction_timeout_s;
	c->threshold = opts->unhealthy_zone_threshold;
	nodelc_bucket_init(&c->bucket, opts->node_eviction_rate, ctrl_now_ms());
	c->inf = informer_start(reg, &ops, c);
	if (!c->inf) {
		int err = errno;

		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void nodelifecycle_controller_stop(struct nodelifecycle_controller *c)
{
	if (!c)
		return;
	informer_stop(c->inf);
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].renew);
		free(c->v[i].beat);
	}
	free(c->v);
	strset_clear(&c->changed);
	free(c);
}
