/* Routes to the other nodes' pods: each node's spec.podCIDR via its InternalIP (host-gw), kept in
 * step with the Node list from a watch. */
#ifndef SKIFF_AGENT_NET_NODE_ROUTES_H
#define SKIFF_AGENT_NET_NODE_ROUTES_H

#include <json-c/json.h>

#include "net/netlink.h"

struct net_node_routes;

/* self: this node's name (its own podCIDR is on the bridge, never routed). NULL with errno. */
struct net_node_routes *net_node_routes_new(const char *self);
void net_node_routes_free(struct net_node_routes *nr);

/* items: every Node. Afterwards the kernel holds exactly their routes among the agent's
 * (protocol NL_RTPROT_SKIFF, unicast); a route the kernel refuses (no link to that InternalIP)
 * is logged and skipped. */
int net_node_routes_relist(struct net_node_routes *nr, struct nl *nl, json_object *items);
/* ADDED / MODIFIED: adds or moves that node's route; DELETED: removes it. */
int net_node_routes_event(struct net_node_routes *nr, struct nl *nl, const char *type, json_object *node);
/* Removes every node route the agent has in the kernel. */
int net_node_routes_clear(struct net_node_routes *nr, struct nl *nl);
/* Nodes routed now. */
size_t net_node_routes_count(const struct net_node_routes *nr);

/* A Node's route: 0, or -ENOENT when it has no podCIDR or InternalIP yet (or -EINVAL: bad). */
int net_node_route_of(json_object *node, struct nl_route *ret);

#endif
