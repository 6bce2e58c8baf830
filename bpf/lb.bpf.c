/* Socket-level Service load balancing (IPv4): connect()/sendmsg() to a Service frontend is
 * rewritten to one of its backends; getpeername()/recvmsg() show the frontend again. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb_maps.h"

#define ENOENT 2
#define ECONNREFUSED 111
#define NSEC_PER_SEC 1000000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_LB4_SVC_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct skiff_lb4_key);
	__type(value, struct skiff_lb4_service);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skiff_lb4_svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_LB4_BACKEND_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct skiff_lb4_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skiff_lb4_be SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_LB4_REVNAT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct skiff_lb4_reverse_nat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skiff_lb4_rnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SKIFF_LB4_REVSK_MAX);
	__type(key, struct skiff_lb4_revsk_key);
	__type(value, struct skiff_lb4_revsk);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skiff_lb4_revsk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SKIFF_LB4_AFFINITY_MAX);
	__type(key, struct skiff_lb4_affinity_key);
	__type(value, struct skiff_lb4_affinity);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skiff_lb4_affin SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_LB4_NODE_MAX);
	__type(key, __u32);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skiff_lb4_node SEC(".maps");

/* A NodePort answers on loopback and on the node's own addresses (user space fills
 * skiff_lb4_node), never on addresses that route elsewhere. */
static __always_inline bool lb4_local(__u32 addr)
{
	if ((bpf_ntohl(addr) >> 24) == 127)
		return true;
	return bpf_map_lookup_elem(&skiff_lb4_node, &addr) != NULL;
}

/* Slot 0 of the frontend: the VIP's, else a NodePort's when the destination is local. */
static __always_inline struct skiff_lb4_service *lb4_lookup_service(struct skiff_lb4_key *key)
{
	struct skiff_lb4_service *svc;
	__u32 addr = key->address;

	svc = bpf_map_lookup_elem(&skiff_lb4_svc, key);
	if (svc || !lb4_local(addr))
		return svc;
	key->address = 0;
	svc = bpf_map_lookup_elem(&skiff_lb4_svc, key);
	if (svc && (svc->flags & SKIFF_LB4_F_NODE_PORT))
		return svc;
	key->address = addr;
	return NULL;
}

/* The client's remembered backend when still fresh and still this frontend's. */
static __always_inline struct skiff_lb4_backend *lb4_affinity_get(const struct skiff_lb4_affinity_key *akey,
								  __u32 timeout, __u64 now, __u32 *ret_id)
{
	struct skiff_lb4_affinity *a = bpf_map_lookup_elem(&skiff_lb4_affin, akey);
	struct skiff_lb4_backend *be;
	__u32 id;

	if (!a || now - a->last_used_ns > timeout * NSEC_PER_SEC)
		return NULL;
	id = a->backend_id;
	be = bpf_map_lookup_elem(&skiff_lb4_be, &id);
	if (!be || be->rev_nat_id != akey->rev_nat_id)
		return NULL;
	*ret_id = id;
	return be;
}

/* One backend of the frontend: random among slots 1..count, or the affinity one. */
static __always_inline struct skiff_lb4_backend *lb4_pick(void *ctx, struct skiff_lb4_key *key,
							  const struct skiff_lb4_service *svc)
{
	struct skiff_lb4_affinity_key akey = { .rev_nat_id = svc->rev_nat_id };
	__u32 count = svc->count, timeout = svc->affinity_timeout, id = 0;
	struct skiff_lb4_backend *be = NULL;
	struct skiff_lb4_service *slot;
	__u64 now = 0;

	if (timeout) {
		akey.client_netns = bpf_get_netns_cookie(ctx);
		now = bpf_ktime_get_ns();
		be = lb4_affinity_get(&akey, timeout, now, &id);
	}
	if (!be) {
		key->backend_slot = bpf_get_prandom_u32() % count + 1;
		slot = bpf_map_lookup_elem(&skiff_lb4_svc, key);
		if (!slot)
			return NULL;
		id = slot->backend_id;
		be = bpf_map_lookup_elem(&skiff_lb4_be, &id);
		if (!be)
			return NULL;
	}
	if (timeout) {
		struct skiff_lb4_affinity a = { .last_used_ns = now, .backend_id = id };

		bpf_map_update_elem(&skiff_lb4_affin, &akey, &a, BPF_ANY);
	}
	return be;
}

/* The frontend and one of its backends, for key (slot 0); NULL with *ret_err 0 when the
 * destination is no Service, -ECONNREFUSED when it has no backends, -ENOENT when a slot went
 * away under us (an update shrank the Service after we read its count). */
static __always_inline struct skiff_lb4_backend *lb4_select(void *ctx, struct skiff_lb4_key *key,
							    struct skiff_lb4_revsk *rval, int *ret_err)
{
	struct skiff_lb4_service *svc;

	key->backend_slot = 0;
	svc = lb4_lookup_service(key);
	*ret_err = 0;
	if (!svc)
		return NULL;
	if (svc->count == 0) {
		*ret_err = -ECONNREFUSED;
		return NULL;
	}
	rval->rev_nat_id = svc->rev_nat_id;
	*ret_err = -ENOENT;
	return lb4_pick(ctx, key, svc);
}

/* The core of connect4/sendmsg4: 0 (rewritten, or not a Service), -ECONNREFUSED (a Service
 * without backends), -ENOENT (its slots changed twice under us: the address is left alone). */
static __always_inline int lb4_xlate(struct bpf_sock_addr *ctx)
{
	struct skiff_lb4_key key = {
		.address = ctx->user_ip4,
		.dport = bpf_ntohs(ctx->user_port),
		.proto = ctx->protocol,
	};
	struct skiff_lb4_revsk rval = { .address = ctx->user_ip4, .port = key.dport };
	struct skiff_lb4_revsk_key rkey = {};
	struct skiff_lb4_backend *be;
	int r;

	if (key.proto != IPPROTO_TCP && key.proto != IPPROTO_UDP)
		return 0;
	be = lb4_select(ctx, &key, &rval, &r);
	if (!be && r == -ENOENT)
		be = lb4_select(ctx, &key, &rval, &r); /* slot 0 is newer now: once more */
	if (!be)
		return r;
	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.address = be->address;
	rkey.port = be->port;
	ctx->user_ip4 = be->address;
	ctx->user_port = bpf_htons(be->port);
	bpf_map_update_elem(&skiff_lb4_revsk, &rkey, &rval, BPF_ANY);
	return 0;
}

/* The core of getpeername4/recvmsg4: a backend peer of a translated socket becomes the
 * address the application asked for, while its frontend still exists. */
static __always_inline void lb4_reverse(struct bpf_sock_addr *ctx)
{
	struct skiff_lb4_revsk_key rkey = {
		.cookie = bpf_get_socket_cookie(ctx),
		.address = ctx->user_ip4,
		.port = bpf_ntohs(ctx->user_port),
	};
	struct skiff_lb4_reverse_nat *rnat;
	struct skiff_lb4_revsk *rval;
	__u32 id;

	rval = bpf_map_lookup_elem(&skiff_lb4_revsk, &rkey);
	if (!rval)
		return;
	id = rval->rev_nat_id;
	rnat = bpf_map_lookup_elem(&skiff_lb4_rnat, &id);
	if (!rnat || rnat->port != rval->port)
		return;
	ctx->user_ip4 = rval->address;
	ctx->user_port = bpf_htons(rval->port);
}

/* A refused connect() fails with ECONNREFUSED, as kube-proxy's reject rule would (kernel
 * 6.1+; the verdict alone gives EPERM). */
static __always_inline int lb4_verdict(int r)
{
	if (r == -ECONNREFUSED) {
		bpf_set_retval(r);
		return 0;
	}
	return 1;
}

SEC("cgroup/connect4")
int skiff_lb4_connect(struct bpf_sock_addr *ctx)
{
	return lb4_verdict(lb4_xlate(ctx));
}

SEC("cgroup/sendmsg4")
int skiff_lb4_sendmsg(struct bpf_sock_addr *ctx)
{
	return lb4_verdict(lb4_xlate(ctx));
}

SEC("cgroup/recvmsg4")
int skiff_lb4_recvmsg(struct bpf_sock_addr *ctx)
{
	lb4_reverse(ctx);
	return 1;
}

SEC("cgroup/getpeername4")
int skiff_lb4_getpeer(struct bpf_sock_addr *ctx)
{
	lb4_reverse(ctx);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
