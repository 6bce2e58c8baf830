/* The nftables Service data path: one table `ip skiff` kept in step with the lb_service set,
 * each commit one atomic batch that touches only the frontends and endpoints that changed. */
#ifndef SKIFF_AGENT_PROXY_NFT_LB_H
#define SKIFF_AGENT_PROXY_NFT_LB_H

#include <stdbool.h>

#include "proxy/lb.h"

struct nft_lb;

/* external_only: only the NodePort DNAT for traffic from other hosts (prerouting) and its
 * masquerade: the companion of the BPF data path, which serves the node's own sockets.
 * Otherwise the whole data path: ClusterIPs and NodePorts for pods (prerouting) and host
 * processes (output), rejects for frontends without endpoints. Touches no kernel state until
 * the first commit, whose batch replaces whatever table ip skiff held. NULL with errno. */
struct nft_lb *nft_lb_new(bool external_only);

/* The Service range ("10.96.0.0/12"; NULL or "": none), before the first commit: packets still
 * headed there after DNAT (an unknown VIP) get a TCP reset / ICMP port unreachable at once.
 * -EINVAL on a malformed range. */
int nft_lb_set_service_cidr(struct nft_lb *lb, const char *cidr);

/* dp: a struct nft_lb. close frees it and leaves the table in place. */
extern const struct lb_ops nft_lb_ops;

/* Removes table ip skiff (switching to a mode without it); 0 also when there was none. Acts in
 * the calling thread's network namespace. */
int nft_lb_delete_table(void);

#endif
