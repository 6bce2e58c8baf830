/* What the scheduler writes through the registry (the API's own code paths): bindings,
 * the PodScheduled=False condition, and Scheduled / FailedScheduling events. */
#ifndef SKIFF_SCHEDULER_WRITES_H
#define SKIFF_SCHEDULER_WRITES_H

#include "api/registry.h"
#include "api/registry_bind.h"

#define SCHED_COMPONENT "default-scheduler"

/* POST pods/NAME/binding to node. 0, or the registry's error (-ENOENT: the pod is gone,
 * -EEXIST: it is bound already or being deleted) with a line logged at debug level. */
int sched_write_binding(struct registry *reg, const char *ns, const char *name, const char *uid, const char *node);
/* Many bindings in one store txn (registry_bind_many): each entry's rc as
 * sched_write_binding would return it. */
void sched_write_bindings(struct registry *reg, struct registry_binding *b, size_t n);
/* PodScheduled=False, reason Unschedulable, with message, as a strategic-merge status patch
 * on the pod as it was decided on (resourceVersion rv): a pod bound meanwhile is left
 * alone (-ECANCELED). */
int sched_write_unschedulable(struct registry *reg, const char *ns, const char *name, const char *rv,
			      const char *message);
/* A core/v1 Event about the pod from default-scheduler (type "Normal" or "Warning"). */
int sched_write_event(struct registry *reg, const char *ns, const char *name, const char *uid, const char *type,
		      const char *reason, const char *message);

#endif
