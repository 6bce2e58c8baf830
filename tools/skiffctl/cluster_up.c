/* skiffctl cluster up: state dir, subnet, namespaces and links (fabric bridge, a veth per node,
 * the control namespace and the one host-facing /30 veth), images, control, agents, Ready. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "cluster.h"
#include "pods/cgroup.h"
#include "pods/mounts.h"

#define FABRIC_BRIDGE "br0"
#define CONTROL_START_S 30

#define _cleanup_nl_ _cleanup_(nl_close)

/* Another cluster's state.json naming subnet k. */
static bool subnet_taken(unsigned k)
{
	DIR *d = opendir(CLUSTER_STATE_ROOT);
	struct dirent *de;
	bool taken = false;

	while (d && !taken && (de = readdir(d))) {
		struct cluster other = { 0 };

		/* "." and ".." are no clusters: cluster_done would free what was never set up. */
		if (de->d_name[0] == '.')
			continue;
		if (cluster_init(&other, de->d_name) < 0) {
			cluster_done(&other);
			continue;
		}
		taken = cluster_state_load(&other) == 0 && other.subnet == k;
		cluster_done(&other);
	}
	if (d)
		closedir(d);
	return taken;
}

/* The first k whose fabric /24 and host /30 no host route touches and no other cluster uses. */
static int pick_subnet(struct cluster *c)
{
	_cleanup_nl_ struct nl host = { 0 };
	int r = nl_open(&host, -1);

	if (r < 0)
		return r;
	for (unsigned k = 1; k < 255; k++) {
		int a = route_overlaps(&host, CLUSTER_FABRIC_NET(k), 24);
		int b = route_overlaps(&host, CLUSTER_HOSTLINK_NET(k), 30);

		if (a < 0 || b < 0)
			return a < 0 ? a : b;
		if (!a && !b && !subnet_taken(k)) {
			c->subnet = k;
			return 0;
		}
	}
	return -EADDRINUSE;
}

/* Picks the subnet and records it under a lock, so two ups at once never pick the same one. */
static int claim_subnet(struct cluster *c)
{
	_cleanup_close_ int lock = open(CLUSTER_STATE_ROOT "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int r;

	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return log_error_errno(-errno, "lock " CLUSTER_STATE_ROOT "/.lock: %m");
	r = pick_subnet(c);
	if (r == -EADDRINUSE)
		return log_error_errno(r, "cluster %s: no free 172.30.k.0/24 subnet", c->name);
	if (r < 0)
		return log_error_errno(r, "cluster %s: host routes: %m", c->name);
	return cluster_state_save(c);
}

/* A veth from ns (named here) to the fabric (named peer there), on the bridge, addressed here. */
static int link_to_fabric(int ns_fd, int fabric_fd, const char *peer, uint32_t addr)
{
	_cleanup_nl_ struct nl nl = { 0 }, fab = { 0 };
	int r = nl_open(&nl, ns_fd);

	if (r >= 0)
		r = nl_open(&fab, fabric_fd);
	if (r >= 0)
		r = link_veth_add(&nl, "eth0", peer, fabric_fd);
	if (r >= 0)
		r = link_addr_add(&nl, "eth0", addr, 24);
	if (r >= 0)
		r = link_up(&nl, "eth0", NULL);
	if (r >= 0)
		r = link_up(&nl, "lo", NULL);
	if (r >= 0)
		r = link_up(&fab, peer, FABRIC_BRIDGE);
	return r;
}

static int make_fabric(const struct cluster *c, int fabric_fd)
{
	_cleanup_nl_ struct nl nl = { 0 };
	int r = nl_open(&nl, fabric_fd);

	if (r >= 0)
		r = link_bridge_add(&nl, FABRIC_BRIDGE, c->subnet);
	if (r >= 0)
		r = link_up(&nl, FABRIC_BRIDGE, NULL);
	if (r >= 0)
		r = link_up(&nl, "lo", NULL);
	if (r < 0)
		log_error_errno(r, "cluster %s: fabric bridge: %m", c->name);
	return r;
}

/* The only change to the host's network: the veth skc-<name> with 172.31.k.1/30. */
static int make_host_link(const struct cluster *c, int control_fd)
{
	_cleanup_close_ int host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_nl_ struct nl ctl = { 0 }, host = { 0 };
	char name[16];
	int r = host_fd < 0 ? -errno : nl_open(&ctl, control_fd);

	if (r >= 0)
		r = nl_open(&host, -1);
	cluster_host_veth(c, name);
	if (r >= 0)
		r = link_veth_add(&ctl, "eth1", name, host_fd);
	if (r >= 0)
		r = link_addr_add(&ctl, "eth1", CLUSTER_HOSTLINK_NET(c->subnet) | CLUSTER_CONTROL_HOST, 30);
	if (r >= 0)
		r = link_up(&ctl, "eth1", NULL);
	if (r >= 0)
		r = link_addr_add(&host, name, CLUSTER_HOSTLINK_NET(c->subnet) | 1, 30);
	if (r >= 0)
		r = link_up(&host, name, NULL);
	if (r < 0)
		log_error_errno(r, "cluster %s: host link %s: %m", c->name, name);
	return r;
}

static int make_ns(const char *name, int *ret_fd)
{
	int r = netns_create(name);

	if (r < 0)
		return log_error_errno(r, "netns %s: %m%s", name, r == -EEXIST ? " (a cluster of that name exists?)" : "");
	r = netns_open(name);
	if (r < 0)
		return log_error_errno(r, "netns %s: %m", name);
	*ret_fd = r;
	return 0;
}

static int make_node_net(const struct cluster *c, unsigned i, int fabric_fd)
{
	_cleanup_free_ char *ns = cluster_node_netns(c, i);
	_cleanup_close_ int fd = -1;
	char peer[16];
	int r;

	if (!ns)
		return -ENOMEM;
	r = make_ns(ns, &fd);
	if (r < 0)
		return r;
	snprintf(peer, sizeof(peer), "n%u", i);
	r = link_to_fabric(fd, fabric_fd, peer, CLUSTER_FABRIC_NET(c->subnet) | CLUSTER_NODE_HOST(i));
	if (r < 0)
		return log_error_errno(r, "netns %s: link to the fabric: %m", ns);
	/* Pod traffic to other nodes' podCIDRs is routed by the node. */
	r = netns_sysctl(fd, "/proc/sys/net/ipv4/ip_forward", "1");
	if (r < 0)
		return log_error_errno(r, "netns %s: ip_forward: %m", ns);
	return 0;
}

static int make_network(const struct cluster *c)
{
	_cleanup_free_ char *fabric = cluster_netns_name(c, "fabric"), *control = cluster_netns_name(c, "control");
	_cleanup_close_ int fabric_fd = -1, control_fd = -1;
	int r;

	if (!fabric || !control)
		return -ENOMEM;
	r = make_ns(fabric, &fabric_fd);
	if (r >= 0)
		r = make_fabric(c, fabric_fd);
	if (r >= 0)
		r = make_ns(control, &control_fd);
	if (r >= 0) {
		r = link_to_fabric(control_fd, fabric_fd, "ctl", CLUSTER_FABRIC_NET(c->subnet) | CLUSTER_CONTROL_HOST);
		if (r < 0)
			log_error_errno(r, "netns %s: link to the fabric: %m", control);
	}
	if (r >= 0)
		r = make_host_link(c, control_fd);
	for (unsigned i = 1; r >= 0 && i <= c->nodes; i++)
		r = make_node_net(c, i, fabric_fd);
	return r;
}

/* <mount>/skiff/<name>: the agents' parents go below it, so down removes one tree. A <mount>/skiff
 * made here is marked (outside any one cluster's state) so the last down removes it too. */
static int make_cgroup(struct cluster *c)
{
	_cleanup_free_ char *root = NULL, *dir = cluster_cgroup_dir(c);

	if (!c->cgroup_mount)
		return log_error_errno(-ENOENT, "cluster %s: no cgroup2 mount in /proc/self/mountinfo", c->name);
	if (!dir || asprintf(&root, "%s/" CGROUP_DEFAULT_PARENT, c->cgroup_mount) < 0)
		return -ENOMEM;
	if (mkdir(root, 0755) == 0) {
		_cleanup_close_ int fd = open(CLUSTER_CGROUP_ROOT_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return log_error_errno(-errno, "%s: %m", CLUSTER_CGROUP_ROOT_MARK);
	} else if (errno != EEXIST) {
		return log_error_errno(-errno, "cgroup %s: %m", root);
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cgroup %s: %m", dir);
	return 0;
}

/* Pins need a bpf filesystem. Where the host has none at /sys/fs/bpf (and mounting one there
 * would change the host's mounts), the cluster mounts its own below the state dir. */
static int make_pin_root(struct cluster *c)
{
	struct statfs sfs;
	char *dir;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC) {
		if (asprintf(&dir, CLUSTER_BPF_ROOT "/%s", c->name) < 0)
			return -ENOMEM;
		c->pin_root = dir;
		return 0;
	}
	dir = cluster_path(c, "bpf");
	if (!dir)
		return -ENOMEM;
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    mount("bpf", dir, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
		int r = -errno;

		free(dir);
		return log_error_errno(r, "cluster %s: a bpf filesystem for the pins at %s/bpf: %m", c->name,
				       c->state_dir);
	}
	c->pin_root = dir;
	return 0;
}

static int make_dirs(const struct cluster *c)
{
	int r = fs_mkdir_p(c->state_dir, 0700);

	for (unsigned i = 1; r >= 0 && i <= c->nodes; i++) {
		_cleanup_free_ char *root = cluster_path(c, "node-%u/root", i), *run = cluster_path(c, "node-%u/run", i);

		r = root && run ? fs_mkdir_p(root, 0700) : -ENOMEM;
		if (r >= 0)
			r = fs_mkdir_p(run, 0700);
	}
	if (r >= 0) {
		_cleanup_free_ char *log = c->log_dir ? strdup(c->log_dir) : cluster_path(c, "log");

		r = log ? fs_mkdir_p(log, 0755) : -ENOMEM;
	}
	return r < 0 ? log_error_errno(r, "cluster %s: dirs under %s: %m", c->name, c->state_dir) : 0;
}

static int start_daemons(struct cluster *c, int timeout_s)
{
	int r = cluster_start_control(c);

	if (r >= 0)
		r = cluster_state_save(c);
	if (r >= 0)
		r = cluster_wait_control(c, CONTROL_START_S);
	for (unsigned i = 1; r >= 0 && i <= c->nodes; i++) {
		r = cluster_start_agent(c, i);
		if (r >= 0)
			r = cluster_state_save(c);
	}
	if (r >= 0)
		r = cluster_wait_ready(c, timeout_s);
	return r;
}

int cluster_up(struct cluster *c, const struct cluster_image *images, size_t n_images, int timeout_s)
{
	int r;

	if (access(c->state_dir, F_OK) == 0)
		return log_error_errno(-EEXIST, "cluster %s exists (%s); skiffctl cluster down --name %s first", c->name,
				       c->state_dir, c->name);
	/* The state goes down first, so a crash at any later step leaves what down needs. */
	r = make_dirs(c);
	if (r >= 0)
		r = claim_subnet(c);
	if (r >= 0)
		r = make_cgroup(c);
	if (r >= 0)
		r = make_pin_root(c);
	if (r >= 0)
		r = cluster_state_save(c);
	if (r >= 0)
		r = make_network(c);
	for (unsigned i = 1; r >= 0 && i <= c->nodes; i++)
		r = cluster_import_images(c, i, images, n_images);
	if (r >= 0)
		r = start_daemons(c, timeout_s);
	return r;
}
