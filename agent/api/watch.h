/* A list+watch loop over one collection: newline-delimited JSON events, reconnect from the last
 * resourceVersion when a stream ends, re-list after errors or 410 Gone. */
#ifndef SKIFF_AGENT_API_WATCH_H
#define SKIFF_AGENT_API_WATCH_H

#include <json-c/json.h>
#include <stdatomic.h>

#include "api/client.h"

struct api_watch_ops {
	/* A fresh list: items (borrowed) is the whole truth, replacing all earlier events. */
	int (*relist)(void *ud, json_object *items);
	/* One ADDED / MODIFIED / DELETED event; obj is borrowed. */
	int (*event)(void *ud, const char *type, json_object *obj);
};

struct api_watch_stats {
	unsigned lists;   /* lists made (the first and every re-list) */
	unsigned streams; /* watch streams opened */
	unsigned events;  /* events handed to ops->event */
};

/* path: collection path ("/api/v1/pods"); query: extra selector ("fieldSelector=spec.nodeName%3Dn1")
 * or NULL. Runs until *stop is true (checked at least once a second), then returns 0. A callback's
 * negative return is treated like a broken stream: re-list. stats is optional. */
int api_watch_run(struct api_client *c, const char *path, const char *query, const struct api_watch_ops *ops,
		  void *ud, atomic_bool *stop, struct api_watch_stats *stats);

/* One stream line to its parts: 0 with *ret_type, *ret_obj (borrowed from *ret_event, which the
 * caller puts), or -EINVAL. For ERROR events *ret_obj is the Status. */
int api_watch_parse_line(const char *line, size_t len, json_object **ret_event, const char **ret_type,
			 json_object **ret_obj);

#endif
