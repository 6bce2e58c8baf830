/* Pod traffic past the bridge and the forwarding path (tc ingress): from a pod's veth to a pod
 * on this node (bpf_redirect_peer) or another node's pod (fib lookup, out of the uplink), and
 * from the uplink to a pod here. Anything else goes on the kernel's own path unchanged. */
/* uapi headers only (as dev_policy): no CO-RE, so loading reads no kernel BTF. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pod_fwd_maps.h"

#define AF_INET 2 /* <sys/socket.h> is no BPF header */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_FP_PODS_MAX);
	__type(key, __u32);
	__type(value, struct skiff_fp_pod);
} skiff_fp_pods SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SKIFF_FP_REMOTE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct skiff_fp_cidr);
	__type(value, struct skiff_fp_nexthop);
} skiff_fp_remote SEC(".maps");

/* The uplinks by ifindex: SKIFF_FP_UPLINK_* flags. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_FP_UPLINKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} skiff_fp_uplinks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKIFF_FP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} skiff_fp_stats SEC(".maps");

static __always_inline int count(__u32 what, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&skiff_fp_stats, &what);

	if (c)
		*c += 1;
	return verdict;
}

/* The IPv4 header of a plain Ethernet frame (no options: those take the kernel's path). */
static __always_inline struct iphdr *ipv4(struct __sk_buff *skb, struct ethhdr **ret_eth)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->version != 4)
		return 0;
	*ret_eth = eth;
	return ip;
}

/* As ip_decrease_ttl(): the checksum is patched for the one byte that changes. */
static __always_inline void ttl_dec(struct iphdr *ip)
{
	__u32 check = (__u32)ip->check + (__u32)bpf_htons(0x0100);

	ip->check = (__u16)(check + (check >= 0xffff));
	ip->ttl--;
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b && *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

/* To the pod's eth0, in its namespace: the frame is for that host now, whatever its MAC was. */
static __always_inline int to_pod(struct __sk_buff *skb, const struct skiff_fp_pod *pod)
{
	bpf_skb_change_type(skb, PACKET_HOST);
	return bpf_redirect_peer(pod->ifindex, 0);
}

/* Routed to a pod here (from the uplink): a forwarding hop, as the kernel would make it. */
static __always_inline int routed_to_pod(struct __sk_buff *skb, struct ethhdr *eth, struct iphdr *ip,
					 const struct skiff_fp_pod *pod)
{
	if (ip->ttl <= 1)
		return count(SKIFF_FP_PASS, TC_ACT_OK); /* the kernel answers with ICMP */
	ttl_dec(ip);
	__builtin_memcpy(eth->h_dest, pod->mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, pod->gw_mac, ETH_ALEN);
	return to_pod(skb, pod);
}

/* Out of a peer uplink: straight to the other end's ingress, addressed as its receive sees it. */
static __always_inline int to_peer(struct __sk_buff *skb, struct ethhdr *eth, struct iphdr *ip,
				   const struct skiff_fp_nexthop *nh)
{
	ttl_dec(ip);
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	bpf_skb_change_type(skb, PACKET_HOST);
	return count(SKIFF_FP_REMOTE, bpf_redirect_peer(nh->ifindex, 0));
}

static __always_inline int to_remote(struct __sk_buff *skb, struct ethhdr *eth, struct iphdr *ip,
				     struct skiff_fp_nexthop *nh)
{
	struct bpf_fib_lookup fib = {};
	__u32 *uplink;
	long rc;

	if (ip->ttl <= 1)
		return count(SKIFF_FP_PASS, TC_ACT_OK);
	if (nh->flags & SKIFF_FP_NH_PEER)
		return to_peer(skb, eth, ip, nh);
	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = skb->ingress_ifindex;
	/* tot_len 0: the kernel checks the skb (GSO included) against the egress MTU. */
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return count(SKIFF_FP_PASS, TC_ACT_OK);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh rn = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };

		ttl_dec(ip);
		return count(SKIFF_FP_REMOTE, bpf_redirect_neigh(fib.ifindex, &rn, sizeof(rn), 0));
	}
	uplink = bpf_map_lookup_elem(&skiff_fp_uplinks, &fib.ifindex);
	if (uplink && (*uplink & SKIFF_FP_UPLINK_PEER)) {
		/* Same answer for every packet of this CIDR until the agent's next route sync. */
		nh->ifindex = fib.ifindex;
		__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
		__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
		/* The flag last: a reader on another CPU that sees it sees the rest. */
		asm volatile("" ::: "memory");
		*(volatile __u32 *)&nh->flags = SKIFF_FP_NH_PEER;
		return to_peer(skb, eth, ip, nh);
	}
	ttl_dec(ip);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return count(SKIFF_FP_REMOTE, bpf_redirect(fib.ifindex, 0));
}

/* On a pod's veth (node end), ingress: what the pod sends. */
SEC("tc")
int skiff_fp_from_pod(struct __sk_buff *skb)
{
	struct skiff_fp_cidr key = { .prefixlen = 32 };
	struct skiff_fp_nexthop *nh;
	struct skiff_fp_pod *pod;
	struct ethhdr *eth;
	struct iphdr *ip = ipv4(skb, &eth);

	if (!ip)
		return count(SKIFF_FP_PASS, TC_ACT_OK);
	/* Another node's pod first: traffic across nodes pays one lookup, not two. */
	key.addr = ip->daddr;
	nh = bpf_map_lookup_elem(&skiff_fp_remote, &key);
	if (nh)
		return to_remote(skb, eth, ip, nh);
	pod = bpf_map_lookup_elem(&skiff_fp_pods, &ip->daddr);
	if (!pod)
		return count(SKIFF_FP_PASS, TC_ACT_OK);
	/* Same subnet: the pod sent it at layer 2 to the other pod's MAC, as over the bridge.
	 * Anything else (to the gateway's MAC, back to itself) takes the bridge. */
	if (pod->ifindex == skb->ifindex || !mac_eq(eth->h_dest, pod->mac))
		return count(SKIFF_FP_PASS, TC_ACT_OK);
	return count(SKIFF_FP_LOCAL, to_pod(skb, pod));
}

/* On the uplink (the link of the routes to the other nodes), ingress. */
SEC("tc")
int skiff_fp_from_uplink(struct __sk_buff *skb)
{
	struct skiff_fp_pod *pod;
	struct ethhdr *eth;
	struct iphdr *ip = ipv4(skb, &eth);

	if (!ip || !(pod = bpf_map_lookup_elem(&skiff_fp_pods, &ip->daddr)))
		return count(SKIFF_FP_PASS, TC_ACT_OK);
	return count(SKIFF_FP_IN, routed_to_pod(skb, eth, ip, pod));
}

char LICENSE[] SEC("license") = "GPL";
