/* The map ABI of the socket-level Service load balancer (bpf/lb.bpf.c), shared with user space
 * (agent/proxy/bpf_lb*.c, skiffctl lb list). Addresses are in network byte order, ports in host
 * byte order (bpftool dumps then read as the port numbers), protocols are IPPROTO_TCP/UDP. */
#ifndef SKIFF_BPF_LB_MAPS_H
#define SKIFF_BPF_LB_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Pinned names in the pin dir (kernel object names are at most 15 characters). */
#define SKIFF_LB4_SVC_MAP "skiff_lb4_svc"
#define SKIFF_LB4_BACKEND_MAP "skiff_lb4_be"
#define SKIFF_LB4_REVNAT_MAP "skiff_lb4_rnat"
#define SKIFF_LB4_REVSK_MAP "skiff_lb4_revsk"
#define SKIFF_LB4_AFFINITY_MAP "skiff_lb4_affin"
#define SKIFF_LB4_NODE_MAP "skiff_lb4_node"

#define SKIFF_LB4_SVC_MAX 524288     /* frontend slots: (1 + backends) per frontend */
#define SKIFF_LB4_BACKEND_MAX 262144 /* backend ids are 1..MAX-1, owned by one frontend each */
#define SKIFF_LB4_REVNAT_MAX 131072  /* frontends; rev-NAT ids are 1..MAX-1 */
#define SKIFF_LB4_REVSK_MAX 262144   /* sockets with a translated peer (LRU) */
#define SKIFF_LB4_AFFINITY_MAX 65536 /* ClientIP affinity entries (LRU) */
#define SKIFF_LB4_NODE_MAX 256       /* this node's own addresses (NodePort) */
#define SKIFF_LB4_NAME_LEN 64

/* skiff_lb4_service.flags */
#define SKIFF_LB4_F_NODE_PORT 0x1 /* a NodePort frontend: address 0 matches any local address */

/* A frontend slot: (VIP, port, proto) with slot 0 the service entry, slots 1..count its
 * backends. NodePort frontends have address 0. */
struct skiff_lb4_key {
	__u32 address;
	__u16 dport;
	__u16 backend_slot;
	__u8 proto;
	__u8 pad[3];
};

/* Slot 0 fills count, rev_nat_id, flags, affinity_timeout; slots 1..count fill backend_id.
 * User space writes slot 0 last on upsert and first on removal. */
struct skiff_lb4_service {
	__u32 backend_id;
	__u32 count;
	__u32 rev_nat_id;
	__u32 affinity_timeout; /* seconds, 0: no ClientIP affinity */
	__u8 flags;
	__u8 pad[3];
};

/* Backend id -> where connections go; rev_nat_id names the frontend that owns the id, so a
 * stale affinity entry never leads into another Service. */
struct skiff_lb4_backend {
	__u32 address;
	__u16 port;
	__u8 proto;
	__u8 pad;
	__u32 rev_nat_id;
};

/* Rev-NAT id -> the frontend, for getpeername()/recvmsg() and for inspection. */
struct skiff_lb4_reverse_nat {
	__u32 address;
	__u16 port;
	__u8 proto;
	__u8 flags;
	char name[SKIFF_LB4_NAME_LEN]; /* "namespace/name:port" or "" */
};

/* One translated socket: its cookie and the backend it was sent to... */
struct skiff_lb4_revsk_key {
	__u64 cookie;
	__u32 address;
	__u16 port;
	__u16 pad;
};

/* ...and the address the application asked for (the VIP, or a node address for NodePort). */
struct skiff_lb4_revsk {
	__u32 address;
	__u16 port;
	__u16 pad;
	__u32 rev_nat_id;
};

/* ClientIP affinity: at connect() the source address is not chosen yet, so the client is its
 * network namespace (one per pod; the host's for host-network processes), as in Cilium. */
struct skiff_lb4_affinity_key {
	__u64 client_netns;
	__u32 rev_nat_id;
	__u32 pad;
};

struct skiff_lb4_affinity {
	__u64 last_used_ns; /* bpf_ktime_get_ns() */
	__u32 backend_id;
	__u32 pad;
};

#endif
