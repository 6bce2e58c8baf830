/* The fast path wired into the node's pod network: pods' MACs and veths, the uplinks and the
 * other nodes' podCIDRs read back from the kernel (the routes the Node watch made). */
#ifndef SKIFF_AGENT_NET_FASTPATH_NODE_H
#define SKIFF_AGENT_NET_FASTPATH_NODE_H

#include "net/fastpath.h"

/* A link's MAC address by name, in nl's namespace. */
int net_link_mac(struct nl *nl, const char *name, uint8_t ret[6]);

/* The pod behind veth (node end, on bridge) with eth0 in netns_fd and address ip. */
int net_fastpath_pod_wire(struct net_fastpath *fp, struct nl *nl, const char *veth, const char *bridge,
			  int netns_fd, struct in_addr ip);
/* After the Node watch changed routes: the other nodes' podCIDRs and their links (uplinks). */
int net_fastpath_routes_sync(struct net_fastpath *fp, struct nl *nl);
/* An agent restarted: every port of the bridge gets this fast path's pod program (an earlier
 * agent's, with maps no one updates any more, gives way); the pods its map held behind those
 * ports are taken over. */
int net_fastpath_adopt(struct net_fastpath *fp, struct nl *nl, int bridge_index);
/* Removes the fast path's filters from every link in nl's namespace (netns_fd the same one). */
int net_fastpath_detach_all(struct nl *nl, int netns_fd);

#endif
