/* The pod reconciler: the pods the watch says are bound here against the runtime, and the
 * status of each back to the API server. Fed by api_watch_run (relist/event), kept fresh by
 * reconciler_sync every heartbeat period. Thread-safe. */
#ifndef SKIFF_AGENT_NODE_RECONCILE_H
#define SKIFF_AGENT_NODE_RECONCILE_H

#include <json-c/json.h>

#include "api/client.h"
#include "api/watch.h"

/* The runtime seen through function pointers, so the reconciler is testable with a fake and
 * independent of agent/pods/ (node/runtime_pods.c adapts pod_runtime to it). */
struct reconcile_runtime {
	void *rt;
	int (*start)(void *rt, json_object *pod);
	int (*stop)(void *rt, const char *uid, int grace_seconds);
	/* A new status object (see pod_runtime_status) or -ENOENT. */
	int (*status)(void *rt, const char *uid, json_object **ret_status);
	/* Optional: the uids the runtime runs (NULL-terminated, freed with uids_free), so a re-list
	 * can stop pods that no longer exist on the server (deleted while the agent was down). */
	int (*list)(void *rt, char ***ret_uids);
	void (*uids_free)(char **uids);
};

struct reconciler;

/* rt NULL: no runtime in this agent; pods are reported Pending with wait_reason. */
struct reconciler *reconciler_new(struct api_client *api, const char *node, const char *host_ip,
				  const struct reconcile_runtime *rt, const char *wait_reason, const char *wait_message);
void reconciler_free(struct reconciler *r);

/* The watch's callbacks, ud = the reconciler. */
extern const struct api_watch_ops reconciler_watch_ops;

/* One runtime step for every live pod (pod_runtime_start is to be called on every sync), then
 * its status from the runtime, posted where it changed. */
int reconciler_sync(struct reconciler *r);
/* Pods currently tracked. */
size_t reconciler_count(struct reconciler *r);

/* The grace period a deleting pod gets: metadata.deletionGracePeriodSeconds, else the spec's
 * terminationGracePeriodSeconds, else 30. */
int reconcile_grace_seconds(json_object *pod);

#endif
