/* The agent's event recorder: core/v1 Events about its pods (source skiff-agent on this host),
 * queued by the runtime without blocking and posted by a thread of its own; a repeat of the
 * same event (object, field, reason, message) counts up the one Event instead of adding one. */
#ifndef SKIFF_AGENT_NODE_EVENTS_H
#define SKIFF_AGENT_NODE_EVENTS_H

#include "api/client.h"
#include "pods/runtime.h"

#define EVENT_COMPONENT "skiff-agent"

struct event_recorder;

/* Starts the posting thread. NULL with errno set. */
struct event_recorder *event_recorder_new(struct api_client *api, const char *node);
/* Posts what is still queued (up to about a second), stops the thread, frees. NULL-safe. */
void event_recorder_free(struct event_recorder *rec);

/* Queues one event (copied); never blocks on the network. Safe from any thread. */
void event_recorder_emit(struct event_recorder *rec, const struct runtime_event *ev);
/* The runtime's events hook, feeding rec. */
void event_recorder_hooks(struct event_recorder *rec, struct runtime_event_hooks *ret);

/* Waits up to timeout_ms until everything queued so far has been sent: 0, or -ETIMEDOUT. */
int event_recorder_flush(struct event_recorder *rec, int timeout_ms);

#endif
