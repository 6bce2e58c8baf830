/* The node's bridge and each pod's veth pair, through rtnetlink. */
#ifndef SKIFF_AGENT_NET_LINK_H
#define SKIFF_AGENT_NET_LINK_H

#include <netinet/in.h>

#include "net/netlink.h"

/* The pod's interface name inside its namespace. */
#define NET_POD_IFNAME "eth0"
/* "veth" + 8 hex digits + NUL. */
#define NET_VETH_NAME_LEN 13

/* The node end's name for a pod: "veth" and the first 8 hex digits of its uid. */
void net_veth_name(const char *uid, char ret[NET_VETH_NAME_LEN]);

/* Makes the bridge if missing (MAC derived from seed, so it is stable across restarts), gives it
 * gw/len and brings it up. Returns its ifindex or -errno. */
int net_bridge_ensure(struct nl *nl, const char *name, struct in_addr gw, int len, const char *seed);

/* A veth pair: host_name on the bridge and up in nl's namespace; eth0 in the namespace of
 * pod_nl / netns_fd with ip/len, up, and a default route via gw. A stale host_name from an
 * earlier attempt is replaced. */
int net_veth_attach(struct nl *nl, int bridge, const char *host_name, int netns_fd, struct in_addr ip, int len,
		    struct in_addr gw);

#endif
