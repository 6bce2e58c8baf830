/* Pod networking on this node, in the agent's own network namespace: bridge with the first
 * address of the node's podCIDR, a veth per pod (eth0 inside, address from the IPAM, default
 * route via the bridge), host-gw routes to the other nodes' podCIDRs, forwarding on, and an
 * unreachable route for the Service CIDR. The runtime's network hooks and a Node watch drive it. */
#ifndef SKIFF_AGENT_NET_POD_NETWORK_H
#define SKIFF_AGENT_NET_POD_NETWORK_H

#include <netinet/in.h>
#include <stdbool.h>

#include "api/watch.h"
#include "net/fastpath.h"
#include "pods/runtime.h"

struct pod_network_config {
	const char *node_name;    /* this node: its podCIDR goes on the bridge, the others get routes */
	const char *bridge;       /* "skiff0" */
	const char *service_cidr; /* "10.96.0.0/12"; NULL or "": no unreachable route */
	const char *state_dir;    /* <state_dir>/podcidr and IPAM files <state_dir>/ipam/<ip> (run dir: per boot) */
};

struct pod_network;

/* Opens rtnetlink in the calling thread's network namespace (every later call works there,
 * from any thread). Changes nothing in the kernel until the podCIDR is known, unless an earlier
 * agent saved one in state_dir: then it is ready at once (as pod_network_set_pod_cidr). NULL
 * with errno. */
struct pod_network *pod_network_new(const struct pod_network_config *c);
/* Forgets it; what it made in the kernel stays for the next agent (pods keep running). */
void pod_network_free(struct pod_network *n);

/* The node's podCIDR ("10.244.1.0/24"), once known: loads the IPAM, makes the bridge, turns
 * forwarding on and adds the Service CIDR's unreachable route. Idempotent. A different CIDR
 * later (the Node was made again) replaces the first once no pod has an address from it; until
 * then it is refused (-EBUSY, logged once). */
int pod_network_set_pod_cidr(struct pod_network *n, const char *cidr);
bool pod_network_ready(struct pod_network *n);

/* Wires pod uid's namespace (netns_fd): its address in ret_ip. -EAGAIN before the podCIDR. */
int pod_network_pod_setup(struct pod_network *n, const char *uid, int netns_fd, struct in_addr *ret_ip);
/* Removes the pod's veth and frees its address; 0 also when it had none. */
int pod_network_pod_teardown(struct pod_network *n, const char *uid);
/* The runtime's hooks (userdata n). */
void pod_network_hooks(struct pod_network *n, struct runtime_network_hooks *ret);

/* After an agent restart: frees the addresses (and veths) of pods not in live_uids
 * (NULL-terminated), those that died while no agent was watching. Returns how many. */
int pod_network_gc(struct pod_network *n, char *const *live_uids);

/* For api_watch_run("/api/v1/nodes", ...) with userdata n: this node's podCIDR starts the
 * network; every other node's podCIDR is routed via its InternalIP (relist: full resync). */
extern const struct api_watch_ops pod_network_node_watch_ops;

/* Is this thread in the machine's own network namespace: the kernel's first one, or PID 1's
 * (a container's)? Bridge networking is meant for a namespace of the agent's own (a node of
 * skiffctl cluster up): the agent refuses to change the machine's interfaces, routes, sysctls. */
bool pod_network_in_pid1_netns(void);

/* The tc fast path (net/fastpath.h): on by default once the bridge is up (a kernel that cannot
 * load it leaves the bridge path, logged). Off removes its filters from every link here, an
 * earlier agent's too: for --pod-fastpath=off and for Services by packet NAT (nftables), whose
 * replies must cross this node's conntrack. On again: pods set up from then on. */
int pod_network_set_fastpath(struct pod_network *n, bool on);
/* What its programs did: -ENOENT when it is not running. */
int pod_network_fastpath_stats(struct pod_network *n, struct net_fastpath_stats *ret);

/* Removes everything the network made: node routes, the Service route, every pod's veth and
 * address, the bridge. For tests and node teardown; pods lose their network. */
int pod_network_remove_all(struct pod_network *n);

#endif
