/* Service routing sync: Services and Endpoints watches feed one data path (struct lb_ops).
 * Incremental: each event re-derives one Service's frontends and upserts/removes only those
 * that changed against what was last applied; a (re)list of either collection is a full
 * resync (begin, upsert all, commit with prune). */
#ifndef SKIFF_AGENT_PROXY_SYNC_H
#define SKIFF_AGENT_PROXY_SYNC_H

#include <json-c/json.h>
#include <stdatomic.h>

#include "api/client.h"
#include "api/watch.h"
#include "proxy/lb.h"

struct proxy_sync;

struct proxy_sync_stats {
	unsigned full;     /* full resyncs committed */
	unsigned commits;  /* incremental batches committed */
	unsigned upserts;  /* frontends upserted (both kinds) */
	unsigned removes;  /* frontends removed */
	unsigned failures; /* batches the data path refused (each followed by a re-list) */
};

/* ops/dp: the data path (stays the caller's); node: this node's name. NULL with errno. */
struct proxy_sync *proxy_sync_new(const struct lb_ops *ops, void *dp, const char *node);
void proxy_sync_free(struct proxy_sync *s);

/* Watch callbacks, ud = the struct proxy_sync. Nothing is applied until both collections were
 * listed once, so a Service is never published without its endpoints. */
extern const struct api_watch_ops proxy_sync_service_ops;
extern const struct api_watch_ops proxy_sync_endpoints_ops;

/* Runs the /api/v1/services and /api/v1/endpoints watches on two threads until *stop. */
int proxy_sync_start(struct proxy_sync *s, struct api_client *api, atomic_bool *stop);
void proxy_sync_join(struct proxy_sync *s);

void proxy_sync_get_stats(struct proxy_sync *s, struct proxy_sync_stats *ret);

#endif
