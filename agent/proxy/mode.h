/* The proxy mode: which Service data path this node runs (eBPF socket hooks, or nftables when
 * the kernel cannot), opened with the other mode's state cleared. */
#ifndef SKIFF_AGENT_PROXY_MODE_H
#define SKIFF_AGENT_PROXY_MODE_H

#include "proxy/lb.h"

enum proxy_mode {
	PROXY_MODE_AUTO,
	PROXY_MODE_BPF,
	PROXY_MODE_NFTABLES,
};

/* "auto", "bpf", "nftables"; -EINVAL otherwise. */
int proxy_mode_parse(const char *s, enum proxy_mode *ret);
const char *proxy_mode_name(enum proxy_mode m);

/* An open data path. BPF mode pairs the socket hooks (every frontend, for this node's own
 * sockets) with nftables for NodePort traffic arriving from other hosts (prerouting DNAT),
 * behind one lb_ops. */
struct proxy_dp {
	enum proxy_mode mode; /* the active one: never AUTO */
	const struct lb_ops *ops;
	void *dp;
};

/* want AUTO: bpf when pin_dir is on a bpffs and bpf_lb_supported(cgroup_path), else nftables.
 * nftables mode detaches and unpins what a BPF run left under pin_dir; BPF mode's first commit
 * rebuilds table ip skiff with only its NodePort part. service_cidr (or NULL): packets for
 * unknown VIPs are refused at once (nft_lb_set_service_cidr). Acts in the calling thread's
 * network namespace. */
int proxy_dp_open(enum proxy_mode want, const char *pin_dir, const char *cgroup_path, const char *service_cidr,
		  struct proxy_dp *ret);
void proxy_dp_close(struct proxy_dp *p);

#endif
