/* The scheduler's cache: nodes with the accounting of the pods bound (or assumed) on them,
 * and the pending pods this scheduler owns, kept current from the store's watch so a
 * decision reads no store. All calls take the cache's lock. */
#ifndef SKIFF_SCHEDULER_CACHE_H
#define SKIFF_SCHEDULER_CACHE_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>

#include "scheduler/model.h"
#include "scheduler/select.h"
#include "scheduler/strmap.h"

struct sched_cache {
	pthread_mutex_t lock;
	struct strmap nodes;         /* name -> struct sched_node (placeholders too) */
	struct sched_node **node_v;  /* the same nodes, for iteration */
	size_t n_node_v;
	struct strmap assigned;      /* "ns/name" -> struct sched_pod with node_name */
	struct strmap pending;       /* "ns/name" -> struct sched_pod this scheduler places */
	size_t next_start;
	unsigned seed;
	struct sched_select_buf buf;
};

/* What a pod event changed, for the queue. */
enum sched_pod_change {
	SCHED_POD_IGNORED,       /* nothing this scheduler acts on */
	SCHED_POD_PENDING_NEW,   /* a pending pod to schedule */
	SCHED_POD_PENDING_UPDATE, /* a pending pod whose spec or labels changed */
	SCHED_POD_PENDING_SAME,  /* a pending pod's status or metadata changed only */
	SCHED_POD_PENDING_GONE,  /* a pending pod deleted or taken by someone else */
	SCHED_POD_BOUND,         /* a bound pod added or updated */
	SCHED_POD_FREED,         /* a bound pod's resources freed (deleted or finished) */
};

void sched_cache_init(struct sched_cache *c, unsigned seed);
void sched_cache_destroy(struct sched_cache *c);

/* A node added or updated; *ret_changed tells whether filters or scores could change. */
int sched_cache_node_put(struct sched_cache *c, json_object *node, bool *ret_changed);
void sched_cache_node_delete(struct sched_cache *c, const char *name);
/* A pod added or updated (p is consumed, also on error). */
int sched_cache_pod_put(struct sched_cache *c, struct sched_pod *p, enum sched_pod_change *ret);
enum sched_pod_change sched_cache_pod_delete(struct sched_cache *c, const char *key);
/* Whether key is a pending pod this scheduler owns. */
bool sched_cache_pending(struct sched_cache *c, const char *key);

/* One decision: the pod's identity at the time, and where it goes or why it cannot. */
struct sched_decision {
	char *uid, *rv;
	char *node;    /* placed */
	char *message; /* fits nowhere */
};
void sched_decision_clear(struct sched_decision *d);

/* The decision for one pending pod. 0: the pod is assumed on ret->node (its requests
 * count there until sched_cache_forget); -ENOSPC: ret->message says why it fits nowhere;
 * -ENOENT: the pod is no longer pending; -ENOMEM. ret is filled on 0 and -ENOSPC. */
int sched_cache_schedule(struct sched_cache *c, const char *key, struct sched_decision *ret);
/* The binding failed: the assumed pod is pending again (if it still is assumed). */
void sched_cache_forget(struct sched_cache *c, const char *key);

#endif
