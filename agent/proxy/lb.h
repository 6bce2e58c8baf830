/* The Service load-balancing model shared by the proxy's sync (agent/proxy/sync*.c) and its two
 * data paths: eBPF socket hooks (agent/proxy/bpf_lb.c over bpf/lb.bpf.c) and nftables
 * (agent/proxy/nft_lb.c). Sync turns Services + Endpoints into lb_service values and hands them to
 * one data path through struct lb_ops; the data path owns the kernel state. */
#ifndef SKIFF_AGENT_PROXY_LB_H
#define SKIFF_AGENT_PROXY_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Addresses in network byte order, ports in host byte order, proto IPPROTO_TCP / IPPROTO_UDP. */
struct lb_backend {
	uint32_t addr;
	uint16_t port;
};

/* One frontend: a (VIP, port, protocol) of a Service, or a NodePort (vip 0 = every node
 * address, port = the nodePort). */
struct lb_service {
	uint32_t vip;
	uint16_t port;
	uint8_t proto;
	bool node_port;            /* a NodePort frontend (vip 0) */
	uint32_t affinity_timeout; /* sessionAffinity ClientIP: seconds; 0: none */
	/* Ready backends, already filtered for internalTrafficPolicy: Local by sync. 0 backends:
	 * the frontend exists and connect() is refused (ECONNREFUSED), as kube-proxy's reject. */
	size_t n_backends;
	const struct lb_backend *backends;
	/* "namespace/name:portname" for inspection (skiffctl lb list, nft comments); may be NULL. */
	const char *name;
};

/* One data path. Every call is idempotent. upsert replaces a frontend's backend set so that no
 * connect() ever sees a half-written one (BPF: backends first, slot 0 last); remove drops it
 * (BPF: slot 0 first). begin/commit bracket a batch (nftables: one atomic transaction; BPF: a
 * full resync marks entries and commit with prune=true removes the ones not upserted since
 * begin). */
struct lb_ops {
	const char *name; /* "bpf" or "nftables" */
	int (*begin)(void *dp);
	int (*upsert)(void *dp, const struct lb_service *svc);
	int (*remove)(void *dp, uint32_t vip, uint16_t port, uint8_t proto, bool node_port);
	int (*commit)(void *dp, bool prune);
	void (*close)(void *dp); /* forgets user-space state; pinned/kernel state stays (re-adoption) */
};

#endif
