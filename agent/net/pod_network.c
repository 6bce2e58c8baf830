/* The node's pod network: one lock over the netlink socket, the IPAM and the node routes, so the
 * runtime's hooks (any pod's thread) and the Node watch never interleave their requests. */
#include "net/pod_network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "controllers/nodeipam.h"
#include "net/fastpath_node.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/netlink.h"
#include "net/node_routes.h"
#include "pods/mounts.h"

struct pod_network {
	pthread_mutex_t lock;
	struct nl nl;
	char *node, *bridge, *service_cidr, *ipam_dir, *cidr_file, *cidr;
	struct net_ipam *ipam; /* NULL until the podCIDR is known */
	int bridge_index;
	bool cidr_warned; /* a changed podCIDR is logged once */
	struct net_node_routes *routes;
	int netns_fd;            /* where nl lives: the fast path's filters go there too */
	struct net_fastpath *fp; /* NULL: every packet takes the bridge */
	bool fp_off;             /* turned off, or failed to load (logged once) */
};

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static int start_locked(struct pod_network *n, const char *cidr);

/* An agent restarted: the podCIDR of the pods still running is known at once, so their
 * teardown frees their addresses even before the Node watch has answered. */
static int resume(struct pod_network *n)
{
	_cleanup_free_ char *cidr = NULL;
	int r = fs_read_file(n->cidr_file, &cidr);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	cidr[strcspn(cidr, "\n")] = '\0';
	r = start_locked(n, cidr);
	if (r < 0) {
		net_ipam_free(n->ipam);
		n->ipam = NULL;
	}
	return r;
}

struct pod_network *pod_network_new(const struct pod_network_config *c)
{
	struct pod_network *n = calloc(1, sizeof(*n));
	int r = -ENOMEM;

	if (!n)
		return NULL;
	pthread_mutex_init(&n->lock, NULL);
	n->node = dup_or_empty(c->node_name);
	n->bridge = dup_or_empty(c->bridge);
	n->service_cidr = dup_or_empty(c->service_cidr);
	if (asprintf(&n->ipam_dir, "%s/ipam", c->state_dir) < 0)
		n->ipam_dir = NULL;
	if (asprintf(&n->cidr_file, "%s/podcidr", c->state_dir) < 0)
		n->cidr_file = NULL;
	n->routes = n->node ? net_node_routes_new(n->node) : NULL;
	n->netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->netns_fd < 0)
		r = -errno;
	if (n->node && n->bridge && n->service_cidr && n->ipam_dir && n->cidr_file && n->routes && n->netns_fd >= 0)
		r = nl_open(&n->nl, -1);
	if (r >= 0)
		r = resume(n);
	if (r < 0) {
		pod_network_free(n);
		errno = -r;
		return NULL;
	}
	return n;
}

void pod_network_free(struct pod_network *n)
{
	if (!n)
		return;
	nl_close(&n->nl);
	net_fastpath_free(n->fp);
	if (n->netns_fd >= 0)
		close(n->netns_fd);
	net_ipam_free(n->ipam);
	net_node_routes_free(n->routes);
	free(n->node);
	free(n->bridge);
	free(n->service_cidr);
	free(n->ipam_dir);
	free(n->cidr_file);
	free(n->cidr);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static struct nl_route service_route(struct pod_network *n, bool *ret_ok)
{
	struct ipam_range range;

	*ret_ok = n->service_cidr[0] && ipam_range_parse(n->service_cidr, 32, &range) == 0;
	return (struct nl_route){ .dst.s_addr = *ret_ok ? htonl(range.base) : 0, .dst_len = *ret_ok ? range.prefix : 0,
				  .type = RTN_UNREACHABLE, .protocol = NL_RTPROT_SKIFF };
}

/* Forwarding is per network namespace: /proc/sys/net shows the opener's (the agent's). Written
 * in place: a sysctl file cannot be replaced by a rename. */
static int forwarding_on(void)
{
	_cleanup_close_ int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return write(fd, "1\n", 2) == 2 ? 0 : -errno;
}

/* The fast path once the bridge is there; one that cannot load leaves the bridge path (logged). */
static void fastpath_start_locked(struct pod_network *n)
{
	int r;

	if (n->fp || n->fp_off || !n->cidr)
		return;
	n->fp = net_fastpath_open(n->netns_fd);
	r = n->fp ? net_fastpath_adopt(n->fp, &n->nl, n->bridge_index) : -errno;
	if (r >= 0)
		r = net_fastpath_routes_sync(n->fp, &n->nl);
	if (r < 0) {
		log_warn_errno(r, "pod fast path (tc BPF past the bridge): %m; pods' traffic takes the bridge");
		if (n->fp)
			net_fastpath_detach_all(&n->nl, n->netns_fd);
		net_fastpath_free(n->fp);
		n->fp = NULL;
		n->fp_off = true;
		return;
	}
	log_info("pod fast path: tc BPF on the pods' veths and the uplinks");
}

static int start_locked(struct pod_network *n, const char *cidr)
{
	struct in_addr net, gw;
	struct nl_route svc;
	bool svc_ok;
	int len, r;

	n->ipam = net_ipam_open(n->ipam_dir, cidr);
	if (!n->ipam)
		return log_error_errno(-errno, "podCIDR %s: pod addresses in %s: %m", cidr, n->ipam_dir);
	net_ipam_network(n->ipam, &net, &len, &gw);
	r = net_bridge_ensure(&n->nl, n->bridge, gw, len, n->node);
	if (r < 0)
		return log_error_errno(r, "bridge %s with the first address of podCIDR %s: %m", n->bridge, cidr);
	n->bridge_index = r;
	r = forwarding_on();
	if (r < 0)
		return log_error_errno(r, "net.ipv4.ip_forward=1 in the agent's network namespace: %m");
	svc = service_route(n, &svc_ok);
	if (!svc_ok && n->service_cidr[0])
		return log_error_errno(-EINVAL, "--service-cidr %s: not an IPv4 CIDR", n->service_cidr);
	if (svc_ok && (r = nl_route_add(&n->nl, &svc)) < 0)
		return log_error_errno(r, "unreachable route for the Service CIDR %s: %m", n->service_cidr);
	r = fs_write_file(n->cidr_file, cidr, 0600);
	if (r < 0)
		return log_error_errno(r, "podCIDR in %s: %m", n->cidr_file);
	n->cidr = strdup(cidr);
	if (!n->cidr)
		return -ENOMEM;
	log_info("pod network: bridge %s on %s, Services %s unreachable unless routed", n->bridge, cidr,
		 n->service_cidr[0] ? n->service_cidr : "(none)");
	fastpath_start_locked(n);
	return 0;
}

/* The bridge's address of the old podCIDR goes; the new one's is added by start_locked. */
static void forget_cidr_locked(struct pod_network *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct in_addr net, gw;
	int len;

	net_ipam_network(n->ipam, &net, &len, &gw);
	nl_talk(&n->nl, nl_msg_addr(buf, RTM_DELADDR, n->bridge_index, gw, len));
	net_ipam_free(n->ipam);
	n->ipam = NULL;
	free(n->cidr);
	n->cidr = NULL;
}

int pod_network_set_pod_cidr(struct pod_network *n, const char *cidr)
{
	int r = 0;

	pthread_mutex_lock(&n->lock);
	if (n->cidr && strcmp(n->cidr, cidr) != 0 && net_ipam_count(n->ipam) == 0) {
		log_info("node %s: podCIDR now %s (was %s, no pod had an address from it)", n->node, cidr, n->cidr);
		forget_cidr_locked(n);
	}
	if (n->cidr && strcmp(n->cidr, cidr) != 0) {
		r = -EBUSY;
		if (!n->cidr_warned)
			log_error("node %s: podCIDR changed from %s to %s: new pods wait until the %zu pod(s) with "
				  "addresses from %s are gone", n->node, n->cidr, cidr, net_ipam_count(n->ipam), n->cidr);
		n->cidr_warned = true;
	} else if (!n->cidr) {
		n->cidr_warned = false;
		r = start_locked(n, cidr);
		if (r < 0) {
			net_ipam_free(n->ipam);
			n->ipam = NULL;
		}
	}
	pthread_mutex_unlock(&n->lock);
	return r;
}

bool pod_network_ready(struct pod_network *n)
{
	bool ready;

	pthread_mutex_lock(&n->lock);
	ready = n->cidr != NULL;
	pthread_mutex_unlock(&n->lock);
	return ready;
}

int pod_network_pod_setup(struct pod_network *n, const char *uid, int netns_fd, struct in_addr *ret_ip)
{
	char veth[NET_VETH_NAME_LEN];
	struct in_addr ip, net, gw;
	int len, r, k;

	net_veth_name(uid, veth);
	pthread_mutex_lock(&n->lock);
	r = n->ipam ? net_ipam_allocate(n->ipam, uid, &ip) : -EAGAIN;
	if (r >= 0) {
		net_ipam_network(n->ipam, &net, &len, &gw);
		r = net_veth_attach(&n->nl, n->bridge_index, veth, netns_fd, ip, len, gw);
		if (r < 0)
			net_ipam_release(n->ipam, uid);
	}
	if (r >= 0 && n->fp && (k = net_fastpath_pod_wire(n->fp, &n->nl, veth, n->bridge, netns_fd, ip)) < 0)
		log_warn_errno(k, "pod %s: fast path on %s: %m; its traffic takes the bridge", uid, veth);
	pthread_mutex_unlock(&n->lock);
	if (r >= 0)
		*ret_ip = ip;
	return r;
}

int pod_network_pod_teardown(struct pod_network *n, const char *uid)
{
	char veth[NET_VETH_NAME_LEN];
	int r, k;

	net_veth_name(uid, veth);
	pthread_mutex_lock(&n->lock);
	if (n->fp && (k = nl_link_index(&n->nl, veth)) > 0)
		net_fastpath_forget_link(n->fp, k);
	/* Deleting the node end takes eth0 in the pod with it (and its tc filter). */
	r = nl_link_del_name(&n->nl, veth);
	if (n->ipam && (k = net_ipam_release(n->ipam, uid)) < 0 && r >= 0)
		r = k;
	pthread_mutex_unlock(&n->lock);
	return r;
}

static int hook_setup(void *ud, json_object *pod, int netns_fd, char *ret_ip, size_t ip_size)
{
	const char *uid = json_get_string(pod, "metadata.uid");
	const char *ns = json_get_string(pod, "metadata.namespace") ?: "", *name = json_get_string(pod, "metadata.name") ?: "";
	struct in_addr ip;
	int r;

	if (!uid)
		return -EINVAL;
	r = pod_network_pod_setup(ud, uid, netns_fd, &ip);
	if (r == -EAGAIN)
		return log_warn_errno(r, "pod %s/%s: no network yet: waiting for this node's spec.podCIDR", ns, name);
	if (r < 0)
		return log_error_errno(r, "pod %s/%s: network (veth, address, route): %m", ns, name);
	if (!inet_ntop(AF_INET, &ip, ret_ip, (socklen_t)ip_size))
		return -ENOSPC;
	return 0;
}

static int hook_teardown(void *ud, const char *pod_uid, int netns_fd)
{
	int r = pod_network_pod_teardown(ud, pod_uid);

	(void)netns_fd;
	if (r < 0)
		log_warn_errno(r, "pod %s: removing its network: %m", pod_uid);
	return r;
}

void pod_network_hooks(struct pod_network *n, struct runtime_network_hooks *ret)
{
	*ret = (struct runtime_network_hooks){ .userdata = n, .pod_setup = hook_setup, .pod_teardown = hook_teardown };
}

struct gc {
	char *const *live;
	struct nl *nl;
	struct net_fastpath *fp;
};

/* Keeps the live pods' addresses; a dead pod's veth goes with its address (its namespace may
 * still be held by someone, keeping the pair alive). */
static bool keep_live(void *ud, const char *uid)
{
	struct gc *gc = ud;
	char veth[NET_VETH_NAME_LEN];
	int ifindex;

	for (size_t i = 0; gc->live && gc->live[i]; i++)
		if (strcmp(gc->live[i], uid) == 0)
			return true;
	net_veth_name(uid, veth);
	if (gc->fp && (ifindex = nl_link_index(gc->nl, veth)) > 0)
		net_fastpath_forget_link(gc->fp, ifindex);
	nl_link_del_name(gc->nl, veth);
	return false;
}

int pod_network_gc(struct pod_network *n, char *const *live_uids)
{
	struct gc gc = { live_uids, &n->nl, n->fp };
	int r;

	pthread_mutex_lock(&n->lock);
	r = n->ipam ? net_ipam_release_unless(n->ipam, keep_live, &gc) : 0;
	pthread_mutex_unlock(&n->lock);
	return r;
}

static int node_event(void *ud, const char *type, json_object *node)
{
	struct pod_network *n = ud;
	const char *name = json_get_string(node, "metadata.name"), *cidr = json_get_string(node, "spec.podCIDR");
	int r;

	if (name && strcmp(name, n->node) == 0) {
		if (strcmp(type, "DELETED") != 0 && cidr && *cidr)
			pod_network_set_pod_cidr(n, cidr); /* logged; a failure is retried on the next event */
		return 0;
	}
	pthread_mutex_lock(&n->lock);
	r = net_node_routes_event(n->routes, &n->nl, type, node);
	if (n->fp)
		net_fastpath_routes_sync(n->fp, &n->nl); /* logged; a failure leaves those pods on forwarding */
	pthread_mutex_unlock(&n->lock);
	return r;
}

static int node_relist(void *ud, json_object *items)
{
	struct pod_network *n = ud;
	int r;

	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		json_object *node = json_object_array_get_idx(items, i);
		const char *name = json_get_string(node, "metadata.name");

		if (name && strcmp(name, n->node) == 0)
			node_event(n, "ADDED", node);
	}
	pthread_mutex_lock(&n->lock);
	r = net_node_routes_relist(n->routes, &n->nl, items);
	if (n->fp)
		net_fastpath_routes_sync(n->fp, &n->nl);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		log_warn_errno(r, "routes to the other nodes' pods: %m");
	return r;
}

const struct api_watch_ops pod_network_node_watch_ops = { .relist = node_relist, .event = node_event };

/* The kernel's first network namespace has this fixed inode number (PROC_NET_INIT_INO). */
#define NET_INIT_INO 0xEFFFFFF9U

bool pod_network_in_pid1_netns(void)
{
	struct stat self, init;

	if (stat("/proc/thread-self/ns/net", &self) < 0)
		return false;
	if (self.st_ino == NET_INIT_INO)
		return true;
	/* PID 1's may be unreadable (another user namespace); then only the kernel's first counts. */
	return stat("/proc/1/ns/net", &init) == 0 && self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

int pod_network_remove_all(struct pod_network *n)
{
	struct nl_route svc;
	bool svc_ok;
	int r, k;

	pthread_mutex_lock(&n->lock);
	if (n->fp) {
		net_fastpath_uplinks_detach(n->fp);
		net_fastpath_remote_set(n->fp, NULL, 0);
	}
	r = net_node_routes_clear(n->routes, &n->nl);
	svc = service_route(n, &svc_ok);
	if (svc_ok && (k = nl_route_del(&n->nl, &svc)) < 0 && r >= 0)
		r = k;
	if (n->ipam && (k = net_ipam_release_unless(n->ipam, keep_live, &(struct gc){ NULL, &n->nl, n->fp })) < 0 && r >= 0)
		r = k;
	if ((k = nl_link_del_name(&n->nl, n->bridge)) < 0 && r >= 0)
		r = k;
	net_ipam_free(n->ipam);
	n->ipam = NULL;
	free(n->cidr);
	n->cidr = NULL;
	if (unlink(n->cidr_file) < 0 && errno != ENOENT && r >= 0)
		r = -errno;
	pthread_mutex_unlock(&n->lock);
	return r;
}

int pod_network_set_fastpath(struct pod_network *n, bool on)
{
	int r = 0;

	pthread_mutex_lock(&n->lock);
	n->fp_off = !on;
	if (on) {
		fastpath_start_locked(n);
		r = n->fp || !n->cidr ? 0 : -ENOTSUP;
	} else {
		/* Also an earlier agent's filters: off means none on this node. */
		r = net_fastpath_detach_all(&n->nl, n->netns_fd);
		net_fastpath_free(n->fp);
		n->fp = NULL;
	}
	pthread_mutex_unlock(&n->lock);
	return r;
}

int pod_network_fastpath_stats(struct pod_network *n, struct net_fastpath_stats *ret)
{
	int r;

	pthread_mutex_lock(&n->lock);
	r = n->fp ? net_fastpath_stats(n->fp, ret) : -ENOENT;
	pthread_mutex_unlock(&n->lock);
	return r;
}
