/* The fast path's programs, maps and tc filters (libbpf skeleton of bpf/pod_fwd.bpf.c); the
 * filters are classic clsact ones (bpf_tc_attach), which also outlive the agent as pods do. */
#include "net/fastpath.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "pod_fwd.skel.h"
#include "pod_fwd_maps.h"

struct net_fastpath {
	struct skiff_pod_fwd *skel;
	int netns_fd;
	int *uplinks;
	size_t n_uplinks;
	struct nl_route *remote;
	size_t n_remote;
};

/* The calling thread into netns_fd (-1: stay); *saved is where to come back to. */
static int ns_enter(int netns_fd, int *saved)
{
	*saved = -1;
	if (netns_fd < 0)
		return 0;
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		int r = -errno;

		close(*saved);
		*saved = -1;
		return r;
	}
	return 0;
}

static void ns_leave(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWNET) < 0)
		log_error_errno(-errno, "fast path: back to the thread's network namespace: %m");
	close(saved);
}

static __u32 fp_prog_id(const struct bpf_program *p)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) == 0 ? info.id : 0;
}

/* has_clsact: the link has the qdisc already (creating it again makes the kernel complain). */
static int tc_attach(int netns_fd, int ifindex, int prog_fd, bool has_clsact)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	/* REPLACE: an earlier agent's filter (with its own, stale maps) gives way to ours. */
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NET_FASTPATH_HANDLE, .priority = NET_FASTPATH_PRIO,
			    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int saved, r = ns_enter(netns_fd, &saved);

	if (r < 0)
		return r;
	r = has_clsact ? 0 : bpf_tc_hook_create(&hook);
	if (r == -EEXIST)
		r = 0;
	if (r >= 0)
		r = bpf_tc_attach(&hook, &opts);
	ns_leave(saved);
	return r;
}

int net_fastpath_detach(int netns_fd, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NET_FASTPATH_HANDLE, .priority = NET_FASTPATH_PRIO);
	int saved, r = ns_enter(netns_fd, &saved);

	if (r < 0)
		return r;
	r = bpf_tc_detach(&hook, &opts);
	ns_leave(saved);
	/* No clsact qdisc, no such filter, or the link is gone: nothing of ours is there. */
	return r == -ENOENT || r == -EINVAL || r == -ENODEV ? 0 : r;
}

struct net_fastpath *net_fastpath_open(int netns_fd)
{
	struct net_fastpath *fp = calloc(1, sizeof(*fp));

	if (!fp)
		return NULL;
	fp->netns_fd = netns_fd >= 0 ? fcntl(netns_fd, F_DUPFD_CLOEXEC, 3) : -1;
	fp->skel = skiff_pod_fwd__open_and_load();
	if (!fp->skel || (netns_fd >= 0 && fp->netns_fd < 0)) {
		int e = errno ? errno : EINVAL;

		net_fastpath_free(fp);
		errno = e;
		return NULL;
	}
	return fp;
}

void net_fastpath_free(struct net_fastpath *fp)
{
	if (!fp)
		return;
	skiff_pod_fwd__destroy(fp->skel);
	if (fp->netns_fd >= 0)
		close(fp->netns_fd);
	free(fp->uplinks);
	free(fp->remote);
	free(fp);
}

/* The pods map of program prog_id: an fd, or -errno. */
static int prog_pods_map(__u32 prog_id)
{
	_cleanup_close_ int prog = bpf_prog_get_fd_by_id(prog_id);
	__u32 ids[8], len = sizeof(struct bpf_prog_info);
	struct bpf_prog_info info = { .nr_map_ids = 8, .map_ids = (__u64)(unsigned long)ids };

	if (prog < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(prog, &info, &len) < 0)
		return -errno;
	for (__u32 i = 0; i < info.nr_map_ids && i < 8; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0 && strcmp(mi.name, "skiff_fp_pods") == 0 &&
		    mi.value_size == sizeof(struct skiff_fp_pod))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -ENOENT;
}

static bool in(const int *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

int net_fastpath_recover(struct net_fastpath *fp, uint32_t prog, const int *ports, size_t n_ports)
{
	int to = bpf_map__fd(fp->skel->maps.skiff_fp_pods), r = 0;
	__u32 cur = 0;
	_cleanup_close_ int from = -1;
	struct skiff_fp_pod pod;
	bool first = true;

	if (!prog || prog == fp_prog_id(fp->skel->progs.skiff_fp_from_pod))
		return 0;
	from = prog_pods_map(prog);
	if (from < 0)
		return from == -ENOENT ? 0 : from;
	while (bpf_map_get_next_key(from, first ? NULL : &cur, &cur) == 0) {
		first = false;
		/* A pod that died meanwhile took its veth along: its entry stays behind. */
		if (bpf_map_lookup_elem(from, &cur, &pod) == 0 && in(ports, n_ports, (int)pod.ifindex) &&
		    bpf_map_update_elem(to, &cur, &pod, BPF_ANY) < 0)
			r = -errno;
	}
	return r;
}

int net_fastpath_pod_attach(struct net_fastpath *fp, int ifindex, bool has_clsact)
{
	return tc_attach(fp->netns_fd, ifindex, bpf_program__fd(fp->skel->progs.skiff_fp_from_pod), has_clsact);
}

int net_fastpath_pod_add(struct net_fastpath *fp, int ifindex, struct in_addr ip, const uint8_t mac[6],
			 const uint8_t gw_mac[6])
{
	struct skiff_fp_pod pod = { .ifindex = (__u32)ifindex };
	int r = net_fastpath_pod_attach(fp, ifindex, false);

	if (r < 0)
		return r;
	memcpy(pod.mac, mac, 6);
	memcpy(pod.gw_mac, gw_mac, 6);
	r = bpf_map_update_elem(bpf_map__fd(fp->skel->maps.skiff_fp_pods), &ip.s_addr, &pod, BPF_ANY);
	return r < 0 ? -errno : 0;
}

int net_fastpath_forget_link(struct net_fastpath *fp, int ifindex)
{
	int fd = bpf_map__fd(fp->skel->maps.skiff_fp_pods), r = 0;
	__u32 cur = 0, doomed[SKIFF_FP_PODS_MAX];
	struct skiff_fp_pod pod;
	bool first = true;
	size_t n = 0;

	/* Collected first: deleting during the walk would restart it. */
	while (bpf_map_get_next_key(fd, first ? NULL : &cur, &cur) == 0) {
		first = false;
		if (n < SKIFF_FP_PODS_MAX && bpf_map_lookup_elem(fd, &cur, &pod) == 0 && (int)pod.ifindex == ifindex)
			doomed[n++] = cur;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &doomed[i]) < 0 && errno != ENOENT)
			r = -errno;
	return r;
}

int net_fastpath_uplink(struct net_fastpath *fp, int ifindex, bool peer, bool has_clsact)
{
	int fd = bpf_map__fd(fp->skel->maps.skiff_fp_uplinks), *v, r;
	__u32 key = (__u32)ifindex, flags = peer ? SKIFF_FP_UPLINK_PEER : 0;

	for (size_t i = 0; i < fp->n_uplinks; i++)
		if (fp->uplinks[i] == ifindex)
			return 0;
	v = realloc(fp->uplinks, (fp->n_uplinks + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	fp->uplinks = v;
	if (bpf_map_update_elem(fd, &key, &flags, BPF_ANY) < 0)
		return -errno;
	r = tc_attach(fp->netns_fd, ifindex, bpf_program__fd(fp->skel->progs.skiff_fp_from_uplink), has_clsact);
	if (r >= 0)
		fp->uplinks[fp->n_uplinks++] = ifindex;
	else
		bpf_map_delete_elem(fd, &key);
	return r;
}

void net_fastpath_uplinks_detach(struct net_fastpath *fp)
{
	int fd = bpf_map__fd(fp->skel->maps.skiff_fp_uplinks);

	for (size_t i = 0; i < fp->n_uplinks; i++) {
		__u32 key = (__u32)fp->uplinks[i];

		bpf_map_delete_elem(fd, &key);
		net_fastpath_detach(fp->netns_fd, fp->uplinks[i]);
	}
	fp->n_uplinks = 0;
}

static struct skiff_fp_cidr cidr_key(const struct nl_route *rt)
{
	return (struct skiff_fp_cidr){ .prefixlen = (__u32)rt->dst_len, .addr = rt->dst.s_addr };
}

static bool holds(const struct nl_route *v, size_t n, const struct nl_route *rt)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].dst.s_addr == rt->dst.s_addr && v[i].dst_len == rt->dst_len)
			return true;
	return false;
}

int net_fastpath_remote_set(struct net_fastpath *fp, const struct nl_route *v, size_t n)
{
	int fd = bpf_map__fd(fp->skel->maps.skiff_fp_remote), r = 0;
	struct nl_route *copy = calloc(n ? n : 1, sizeof(*copy));
	struct skiff_fp_nexthop unknown = { 0 };
	struct skiff_fp_cidr key;

	if (!copy)
		return -ENOMEM;
	/* The new ones first, then the gone ones: a CIDR kept is never missing in between. Each
	 * next hop unknown again: the program looks its route up anew. */
	for (size_t i = 0; i < n; i++) {
		key = cidr_key(&v[i]);
		if (bpf_map_update_elem(fd, &key, &unknown, BPF_ANY) < 0)
			r = -errno;
	}
	for (size_t i = 0; i < fp->n_remote; i++) {
		key = cidr_key(&fp->remote[i]);
		if (!holds(v, n, &fp->remote[i]) && bpf_map_delete_elem(fd, &key) < 0 && errno != ENOENT)
			r = -errno;
	}
	if (n)
		memcpy(copy, v, n * sizeof(*v));
	free(fp->remote);
	fp->remote = copy;
	fp->n_remote = n;
	return r;
}

static size_t pods_count(struct net_fastpath *fp)
{
	int fd = bpf_map__fd(fp->skel->maps.skiff_fp_pods);
	bool first = true;
	size_t n = 0;
	__u32 cur = 0;

	while (bpf_map_get_next_key(fd, first ? NULL : &cur, &cur) == 0) {
		first = false;
		n++;
	}
	return n;
}

static size_t nexthops_known(struct net_fastpath *fp)
{
	int fd = bpf_map__fd(fp->skel->maps.skiff_fp_remote);
	struct skiff_fp_cidr cur = { 0 };
	struct skiff_fp_nexthop nh;
	bool first = true;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, first ? NULL : &cur, &cur) == 0) {
		first = false;
		if (bpf_map_lookup_elem(fd, &cur, &nh) == 0 && (nh.flags & SKIFF_FP_NH_PEER))
			n++;
	}
	return n;
}

int net_fastpath_stats(struct net_fastpath *fp, struct net_fastpath_stats *ret)
{
	int fd = bpf_map__fd(fp->skel->maps.skiff_fp_stats), cpus = libbpf_num_possible_cpus();
	uint64_t sum[SKIFF_FP_STAT_MAX] = { 0 };
	_cleanup_free_ uint64_t *per = NULL;

	if (cpus <= 0)
		return cpus < 0 ? cpus : -EINVAL;
	per = calloc((size_t)cpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	for (__u32 k = 0; k < SKIFF_FP_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, per) < 0)
			return -errno;
		for (int c = 0; c < cpus; c++)
			sum[k] += per[c];
	}
	*ret = (struct net_fastpath_stats){ .local = sum[SKIFF_FP_LOCAL], .remote = sum[SKIFF_FP_REMOTE],
					    .in = sum[SKIFF_FP_IN], .pass = sum[SKIFF_FP_PASS],
					    .pods = pods_count(fp), .uplinks = fp->n_uplinks,
					    .nexthops = nexthops_known(fp) };
	return 0;
}
