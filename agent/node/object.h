/* The Node object this agent posts: capacity math, addresses, nodeInfo, conditions, and the
 * comparison that decides whether a new status is worth a write. */
#ifndef SKIFF_AGENT_NODE_OBJECT_H
#define SKIFF_AGENT_NODE_OBJECT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/facts.h"
#include "node/health.h"

#define NODE_KUBELET_VERSION "v1.32.0-skiff"
#define NODE_RUNTIME_VERSION "skiff://0.1.0"

/* Memory kept back from pods: a tenth of the total, at least 100 MiB and at most 1 GiB, never
 * more than half of a small machine. */
uint64_t node_memory_reserve(uint64_t total);

/* "2026-11-28T10:00:00Z", or with micro set the MicroTime "2026-11-28T10:00:00.000000Z". */
void node_time_format(char *buf, size_t size, bool micro);

/* status: capacity, allocatable, addresses, nodeInfo, conditions (timestamps = now). */
json_object *node_status_build(const struct node_facts *f, const struct node_health *h, const char *now);
/* A whole Node for the first create: metadata (name, labels), spec.taints (parsed from
 * taints, may be NULL) and status. */
json_object *node_object_build(const struct node_facts *f, const struct node_health *h, const char *now);

/* "key[=value]:Effect,..." as the kubelet's --register-with-taints to a taints array; -EINVAL
 * on a malformed entry or an effect other than NoSchedule, PreferNoSchedule, NoExecute. */
int node_taints_parse(const char *spec, json_object **ret);

/* True when the statuses differ in anything but the conditions' heartbeat/transition times. */
bool node_status_differs(json_object *a, json_object *b);
/* Keeps each condition's lastTransitionTime from old where its status did not change. */
void node_status_carry_transitions(json_object *status, json_object *old);
/* The status of the condition of that type in a status (or NULL). Borrowed. */
const char *node_condition_status(json_object *status, const char *type);

#endif
