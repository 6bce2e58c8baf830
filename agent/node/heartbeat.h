/* Node registration and heartbeats: the Node (create or update), the kube-node-lease Lease
 * renewed every period, and the Node status re-posted when it changed or the server lost Ready. */
#ifndef SKIFF_AGENT_NODE_HEARTBEAT_H
#define SKIFF_AGENT_NODE_HEARTBEAT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "api/client.h"
#include "node/facts.h"

#define NODE_LEASE_DURATION_SECONDS 40

struct heartbeat {
	struct api_client *api;    /* borrowed */
	const char *cgroup_parent; /* borrowed */
	const char *pause_path;    /* borrowed */
	json_object *taints;       /* borrowed: spec.taints of a Node we create (NULL: none) */
	const char *runtime_error; /* borrowed: set when the pod runtime could not start (NotReady) */
	const char *cgroup_mount;  /* NULL: found from /proc/self/mountinfo */
	long endpoint_port;        /* status.daemonEndpoints.kubeletEndpoint.Port (0: none) */
	struct node_facts facts;   /* owned: filled by the caller, freed by heartbeat_done */
	json_object *posted;       /* the status last accepted by the server */
	char *node_uid;
	bool missing_logged;
	bool ready;                /* what we last said */
	unsigned lease_renewals;
	unsigned status_posts;
};

/* Creates the Node, or updates labels and status of an existing one. 0 or -errno (logged). */
int heartbeat_register(struct heartbeat *hb);
/* One period: renew the Lease, re-register when the Node is gone, post the status when it
 * changed or the server's Ready is not ours. 0 or -errno (logged). */
int heartbeat_tick(struct heartbeat *hb);
void heartbeat_done(struct heartbeat *hb);

/* The Lease body for node at now (MicroTime). */
json_object *heartbeat_lease_build(const char *node, const char *node_uid, const char *now);

#endif
