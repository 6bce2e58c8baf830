/* Watch fan-out: a store event as every watch stream needs it — its objects parsed once,
 * selectors checked on those, each encoding made once — kept on the shared store event
 * so that 1,000 streams of one change cost one parse and one encode, not 1,000. */
#ifndef SKIFF_API_WATCH_EVENT_H
#define SKIFF_API_WATCH_EVENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "api/registry.h"
#include "api/selector.h"
#include "store/store.h"

struct watch_event;

/* The cache of ev, made on first use; lives as long as ev. NULL on ENOMEM. */
struct watch_event *watch_event_of(struct store_shared_event *ev);
/* What a watcher with these selectors (NULL: everything) sees: "ADDED", "MODIFIED" or
 * "DELETED" (the last matching state), or NULL when the change does not concern it.
 * -EIO when a stored value does not parse. */
int watch_event_classify(struct watch_event *we, const struct label_selector *labels,
			 const struct field_selector *fields, const char **ret_type);
/* {"type":type,"object":...} (a one-row Table when table) as compact JSON, the same bytes for
 * every caller asking the same; handed to append (under the cache's lock). */
int watch_event_encode(struct watch_event *we, const struct resource *r, const char *type, bool table,
		       bool with_columns, time_t now, int (*append)(void *ctx, const char *s, size_t n),
		       void *ctx);
/* A private copy of the object an event of this type carries. NULL on ENOMEM. */
json_object *watch_event_object(struct watch_event *we, const char *type);
/* How many encodings were made (not served from the cache): a test hook. */
unsigned watch_event_encodings(struct watch_event *we);

/* The registry's watch (registry.h) as events to send: the initial state as objects,
 * then changes as shared store events. */
struct registry_watch_event {
	const char *type;
	json_object *obj;                  /* initial state (owned), or NULL */
	struct store_shared_event *shared; /* a change (referenced), or NULL */
	struct watch_event *cache;         /* shared's cache */
	int64_t rev;                       /* the object's resourceVersion */
};
int registry_watch_next_event(struct registry_watch *w, struct registry_watch_event *ret, int timeout_ms);
void registry_watch_event_clear(struct registry_watch_event *e);

#endif
