/* The status the agent posts for a pod, built from the runtime's view, and the comparison
 * with the server's copy that decides whether to post it. */
#ifndef SKIFF_AGENT_NODE_PODSTATUS_H
#define SKIFF_AGENT_NODE_PODSTATUS_H

#include <json-c/json.h>
#include <stdbool.h>

struct pod_status_input {
	json_object *pod;        /* the pod as the server has it */
	json_object *runtime;    /* pod_runtime_status()'s object, or NULL (not started / no runtime) */
	const char *host_ip;
	const char *wait_reason; /* containers' waiting reason when runtime is NULL */
	const char *wait_message;
	const char *now;         /* "2026-11-28T10:00:00Z" */
};

/* A new status object: phase, conditions (PodScheduled, Initialized, ContainersReady, Ready),
 * hostIP(s), podIP(s) (runtime's; the host's for hostNetwork pods), startTime, containerStatuses. */
json_object *pod_status_build(const struct pod_status_input *in);

/* True when a key of want differs from have (keys only have carries are ignored, as are the
 * conditions' lastTransitionTime and lastProbeTime). */
bool pod_status_differs(json_object *want, json_object *have);

/* Keeps each condition's lastTransitionTime from old where its status did not change. */
void pod_status_carry_transitions(json_object *status, json_object *old);

#endif
