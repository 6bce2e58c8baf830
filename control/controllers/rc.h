/* The ReplicationController controller: keeps spec.replicas pods of each RC's template
 * running (creating, adopting, releasing, deleting), and its status counts. */
#ifndef SKIFF_CONTROLLERS_RC_H
#define SKIFF_CONTROLLERS_RC_H

#include <json-c/json.h>
#include <stddef.h>

#include "api/registry.h"

struct rc_controller;

struct rc_controller *rc_controller_start(struct registry *reg);
void rc_controller_stop(struct rc_controller *c);

/* Sorts pods so the ones to delete first come first, in Kubernetes' order: unscheduled
 * before scheduled, Pending before Unknown before Running, not ready before ready, more
 * restarts first, newest first. */
void rc_sort_for_deletion(json_object **pods, size_t n);

struct rc_counts {
	int64_t replicas, fully_labeled, ready, available;
};
/* Counts over the RC's active pods; now is realtime seconds (availability needs the pod
 * ready for spec.minReadySeconds). */
void rc_count(json_object *rc, json_object **active, size_t n, int64_t now, struct rc_counts *ret);

#endif
