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

struct scheduler_options {
	int bind_workers;           /* default 32: binds in flight at once (more share each commit) */
	int initial_backoff_ms;     /* default 1000 (kube-scheduler's podInitialBackoff) */
	int max_backoff_ms;         /* default 10000 (podMaxBackoff) */
	unsigned seed;              /* tie-break randomness; 0 = seeded from the clock */
};
void scheduler_options_init(struct scheduler_options *o);

/* Lists nodes and pods, then starts the threads. opts NULL: defaults. NULL with errno set. */
struct scheduler *scheduler_start(struct registry *reg, const struct scheduler_options *opts);
/* Stops and joins every thread (binds in flight finish first); accepts NULL. */
void scheduler_stop(struct scheduler *s);

#endif
