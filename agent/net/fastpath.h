/* The tc fast path for pod traffic (bpf/pod_fwd.bpf.c, "BPF host routing"): programs on each
 * pod veth's node end and on the uplink hand packets straight to the pod or out of the uplink,
 * past the bridge and the forwarding path; what they do not know takes the kernel's path. */
#ifndef SKIFF_AGENT_NET_FASTPATH_H
#define SKIFF_AGENT_NET_FASTPATH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/netlink.h"

/* The tc filter's handle and priority on a link's ingress (clsact): one per link. */
#define NET_FASTPATH_HANDLE 0x5f1f
#define NET_FASTPATH_PRIO 1

struct net_fastpath;

struct net_fastpath_stats {
	uint64_t local;  /* pod -> pod on this node */
	uint64_t remote; /* pod -> another node's pod */
	uint64_t in;     /* uplink -> pod here */
	uint64_t pass;   /* left to the bridge / forwarding */
	size_t pods;     /* pods in its map now */
	size_t uplinks;  /* links with its uplink program */
	size_t nexthops; /* other nodes' podCIDRs whose next hop (a peer uplink) the program keeps */
};

/* Loads the programs (maps of this process: unpinned). Filters go on links of the network
 * namespace netns_fd whatever thread calls. NULL with errno. */
struct net_fastpath *net_fastpath_open(int netns_fd);
/* Forgets it: attached filters stay, with their maps, until their link goes or a detach. */
void net_fastpath_free(struct net_fastpath *fp);

/* Pod ip on this node behind a new veth ifindex (node end): its program, then its map entry. */
int net_fastpath_pod_add(struct net_fastpath *fp, int ifindex, struct in_addr ip, const uint8_t mac[6],
			 const uint8_t gw_mac[6]);
/* Only the pod program on ifindex (no entry: packets to that pod take the bridge). has_clsact:
 * the link has a clsact qdisc already. */
int net_fastpath_pod_attach(struct net_fastpath *fp, int ifindex, bool has_clsact);
/* An agent restarted: the pods (behind one of ports) in the map of program prog, an earlier
 * agent's, are copied into ours (before our program replaces it). 0 also when prog is ours. */
int net_fastpath_recover(struct net_fastpath *fp, uint32_t prog, const int *ports, size_t n_ports);
/* Drops the map entries of pods behind ifindex (before it is deleted). */
int net_fastpath_forget_link(struct net_fastpath *fp, int ifindex);
/* The uplink program on ifindex, once; peer: it is a veth whose other end is in another
 * namespace (packets out of it go straight to that end). */
int net_fastpath_uplink(struct net_fastpath *fp, int ifindex, bool peer, bool has_clsact);
/* Detaches the uplink programs this fast path attached. */
void net_fastpath_uplinks_detach(struct net_fastpath *fp);
/* The other nodes' podCIDRs are exactly these (dst, dst_len of each). */
int net_fastpath_remote_set(struct net_fastpath *fp, const struct nl_route *v, size_t n);
int net_fastpath_stats(struct net_fastpath *fp, struct net_fastpath_stats *ret);

/* Removes a fast path filter (anyone's, this process's or an earlier agent's) from ifindex's
 * ingress in namespace netns_fd; 0 also when there was none. */
int net_fastpath_detach(int netns_fd, int ifindex);

#endif
