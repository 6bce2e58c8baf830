/* The loop every controller runs on: one thread on a store watch of /registry/, events
 * filtered by key prefix and handed over in batches, a full resync at start, after the
 * watch fell behind compaction and every resync period, and an optional tick. */
#ifndef SKIFF_CONTROLLERS_INFORMER_H
#define SKIFF_CONTROLLERS_INFORMER_H

#include "api/registry.h"

struct informer_ops {
	const char *name;              /* for logs: "replication controller" */
	const char *thread_name;       /* at most 15 characters, for top -H and gdb: "ctrl-rc" */
	const char *const *prefixes;   /* NULL-terminated key prefixes the controller cares about */
	/* One event, in revision order. */
	void (*event)(void *ctx, const struct store_event *ev);
	/* After a batch of events: where level-triggered work happens. May be NULL. */
	void (*flush)(void *ctx);
	/* Rebuild everything from a fresh list. May be NULL. */
	void (*resync)(void *ctx);
	void (*tick)(void *ctx); /* every tick_ms; may be NULL */
	int tick_ms;
	int resync_ms; /* 0: only at start and after the watch fell behind */
};

struct informer;

/* Watches, then starts the thread, which resyncs before the first event. NULL with errno set. */
struct informer *informer_start(struct registry *reg, const struct informer_ops *ops, void *ctx);
/* Stops and joins the thread; accepts NULL. */
void informer_stop(struct informer *inf);

/* The key's part after prefix ("ns/name" or "name") when key starts with prefix, else NULL. */
const char *informer_key_rest(const char *key, const char *prefix);

#endif
