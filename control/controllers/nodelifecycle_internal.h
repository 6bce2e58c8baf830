/* The node lifecycle controller's writes, shared between its loop (nodelifecycle.c) and
 * the file that makes them (nodelifecycle_write.c). */
#ifndef SKIFF_CONTROLLERS_NODELIFECYCLE_INTERNAL_H
#define SKIFF_CONTROLLERS_NODELIFECYCLE_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/registry.h"

#define NODELC_COMPONENT "node-controller"

/* The Ready condition's status ("True", "False", "Unknown") or NULL when it has none. */
const char *nodelc_ready_status(json_object *node);
/* Every condition of the node to Unknown: its agent stopped posting. last_beat is the Ready
 * heartbeat the caller last saw: a newer one in the stored node means the agent just posted,
 * and nothing is written (1). */
int nodelc_mark_unknown(struct registry *reg, const char *node, const char *last_beat);
/* The Ready condition's lastHeartbeatTime, or NULL. */
const char *nodelc_ready_beat(json_object *node);
/* Exactly the NoExecute taint key (TAINT_UNREACHABLE, TAINT_NOT_READY or NULL for none)
 * of the two the controller manages. */
int nodelc_set_taint(struct registry *reg, const char *node, const char *key);
/* The same edit on a node object in hand: 0 when it changed, 1 when it already matched. */
int nodelc_apply_taint(json_object *node, const char *key);
/* The time the node got the NoExecute taint key (realtime seconds), or -1 without it. */
int64_t nodelc_taint_time(json_object *node, const char *key);
/* Pods on the node to Ready=False, so Endpoints drop them at once. */
void nodelc_mark_pods_not_ready(struct registry *reg, const char *node);
/* Deletes (grace 0) the node's pods whose eviction deadline passed. */
void nodelc_evict_due(struct registry *reg, json_object *node, const char *key, int64_t timeout_s, int64_t now);
/* Whether any pod on the node is due now (eviction then takes a rate token). */
bool nodelc_any_due(struct registry *reg, json_object *node, const char *key, int64_t timeout_s, int64_t now);

#endif
