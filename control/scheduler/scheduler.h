/* The scheduler of skiff-control: threads inside the process that watch pods without a
 * node and the nodes in the store, place each pod on a node that fits (filters, scores,
 * random tie-break) and bind it through the registry's binding path, from a small worker
 * pool so that concurrent binds share the store's group commits. A pod that fits nowhere
 * gets PodScheduled=False (Unschedulable) and a FailedScheduling event, and is retried
 * when nodes or pods change, with backoff. */
#ifndef SKIFF_SCHEDULER_SCHEDULER_H
#define SKIFF_SCHEDULER_SCHEDULER_H

#include "api/registry.h"

struct scheduler;

/* Points in a pod's way through the scheduler, for a benchmark's latency figures. */
enum sched_trace_point {
	SCHED_TRACE_QUEUED, /* first seen pending and added to the queue */
	SCHED_TRACE_POPPED, /* taken off the queue for a decision */
	SCHED_TRACE_BOUND,  /* its binding committed to the store */
};

struct scheduler_options {
	int bind_workers;           /* default 32: binds in flight at once (more share each commit) */
	int initial_backoff_ms;     /* default 1000 (kube-scheduler's podInitialBackoff) */
	int max_backoff_ms;         /* default 10000 (podMaxBackoff) */
	unsigned seed;              /* tie-break randomness; 0 = seeded from the clock */
	/* NULL, or called from the scheduler's threads at each trace point with the pod's
	 * "ns/name" (must be quick and thread-safe). */
	void (*trace)(void *arg, enum sched_trace_point point, const char *key);
	void *trace_arg;
};
void scheduler_options_init(struct scheduler_options *o);

/* Lists nodes and pods, then starts the threads. opts NULL: defaults. NULL with errno set. */
struct scheduler *scheduler_start(struct registry *reg, const struct scheduler_options *opts);
/* Stops and joins every thread (binds in flight finish first); accepts NULL. */
void scheduler_stop(struct scheduler *s);

#endif
