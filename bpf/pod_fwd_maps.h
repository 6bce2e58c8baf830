/* Maps shared by bpf/pod_fwd.bpf.c and the agent (agent/net/fastpath.c): the node's pods by
 * address, the other nodes' podCIDRs, and what the programs did. */
#ifndef SKIFF_BPF_POD_FWD_MAPS_H
#define SKIFF_BPF_POD_FWD_MAPS_H

#define SKIFF_FP_PODS_MAX 1024
#define SKIFF_FP_REMOTE_MAX 4096

/* A pod on this node, keyed by its IPv4 address (network order). */
struct skiff_fp_pod {
	__u32 ifindex;     /* its veth's node end */
	__u8 mac[6];       /* its eth0 */
	__u8 gw_mac[6];    /* the bridge: the source of frames routed to it */
};

/* An LPM key: another node's podCIDR. */
struct skiff_fp_cidr {
	__u32 prefixlen;
	__u32 addr; /* network order */
};

/* Its value: the next hop, when it is a peer uplink (below). The agent writes it zeroed (on
 * every route sync, so a changed route is looked up again); the program fills it from its
 * first fib lookup and skips that lookup from then on. The MACs only label the frame there:
 * the other end receives it as the host's whatever they say. Other uplinks are looked up per
 * packet (a neighbour's MAC may change under a cache). */
struct skiff_fp_nexthop {
	__u32 ifindex;
	__u32 flags;     /* SKIFF_FP_NH_*: set last, once the rest is in */
	__u8 smac[6];
	__u8 dmac[6];
};
#define SKIFF_FP_NH_PEER 1u

#define SKIFF_FP_UPLINKS_MAX 64
/* An uplink that is one end of a veth pair whose other end is in another namespace (nodes in
 * namespaces, as skiffctl cluster up makes them): packets out of it go straight to that end's
 * ingress (bpf_redirect_peer), as its transmit would hand them over, without the queue. */
#define SKIFF_FP_UPLINK_PEER 1u

enum skiff_fp_stat {
	SKIFF_FP_LOCAL,  /* pod -> pod on this node, handed to the peer */
	SKIFF_FP_REMOTE, /* pod -> another node's pod, out of the uplink */
	SKIFF_FP_IN,     /* uplink -> pod on this node, handed to the peer */
	SKIFF_FP_PASS,   /* left to the kernel's own path (bridge, forwarding) */
	SKIFF_FP_STAT_MAX,
};

#endif
