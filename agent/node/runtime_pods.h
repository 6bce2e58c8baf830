/* The agent's pod runtime assembled from the other rooms: cgroup manager (agent/pods/cgroup.h),
 * GPU discovery and allocation (agent/gpu/), pod_runtime (agent/pods/runtime.h), seen by the
 * reconciler through struct reconcile_runtime. */
#ifndef SKIFF_AGENT_NODE_RUNTIME_PODS_H
#define SKIFF_AGENT_NODE_RUNTIME_PODS_H

#include "node/config.h"
#include "node/reconcile.h"

struct agent_runtime;

/* Makes the cgroup parent, finds the GPUs, opens the runtime under <root-dir> and
 * <run-dir>/<node>, and adopts the pods still running from an earlier agent. NULL with errno
 * set (logged). */
struct agent_runtime *agent_runtime_new(const struct agent_config *c, const char *pause_path, const char *host_ip);
void agent_runtime_free(struct agent_runtime *ar);
struct event_recorder;
/* Where the runtime's events (Pulled, Started, Unhealthy, ...) go from now on; rec must
 * outlive ar (free it after agent_runtime_free). NULL: dropped, as before it is set. */
void agent_runtime_set_events(struct agent_runtime *ar, struct event_recorder *rec);
struct pod_network;
/* The pod network (for its Node watch: pod_network_node_watch_ops), NULL with --network none. */
struct pod_network *agent_runtime_network(struct agent_runtime *ar);
/* The pod runtime itself, for the logs/exec endpoint (agent/server/); NULL when ar is. */
struct pod_runtime *agent_runtime_pods(struct agent_runtime *ar);
/* The reconciler's view of it (userdata ar). */
void agent_runtime_ops(struct agent_runtime *ar, struct reconcile_runtime *ret);

#endif
