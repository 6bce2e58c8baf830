/* skiffctl cluster: a multi-node cluster on one machine, one network namespace per node joined
 * by a fabric bridge. The pieces (netns, netlink, state, processes, up, down) share this header. */
#ifndef SKIFF_SKIFFCTL_CLUSTER_H
#define SKIFF_SKIFFCTL_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/netlink.h"

#define CLUSTER_STATE_ROOT "/run/skiff/cluster"
#define CLUSTER_BPF_ROOT "/sys/fs/bpf/skiff"
/* Exists while <cgroup2>/skiff is there because a cluster up made it: the last down removes it. */
#define CLUSTER_CGROUP_ROOT_MARK CLUSTER_STATE_ROOT "/.made-cgroup-root"
#define CLUSTER_NAME_MAX 11 /* "skc-<name>", the host's veth, fits IFNAMSIZ */
#define CLUSTER_MAX_NODES 32
#define CLUSTER_MAX_IMAGES 16
#define CLUSTER_API_PORT 6443
/* The fabric is 172.30.<subnet>.0/24 (control .2, node i .10+i); the host reaches the control
 * namespace over 172.31.<subnet>.0/30 (host .1, control .2). Both exist only in our namespaces
 * and on the one host-facing veth. */
#define CLUSTER_FABRIC_NET(k) ((172u << 24) | (30u << 16) | ((uint32_t)(k) << 8))
#define CLUSTER_HOSTLINK_NET(k) ((172u << 24) | (31u << 16) | ((uint32_t)(k) << 8))
#define CLUSTER_CONTROL_HOST 2u
#define CLUSTER_NODE_HOST(i) (10u + (unsigned)(i))

struct cluster_proc {
	pid_t pid;
	unsigned long long start_time; /* /proc/<pid>/stat field 22: tells a reused pid apart */
};

struct cluster {
	char name[CLUSTER_NAME_MAX + 1];
	unsigned nodes;
	unsigned subnet;          /* k in the addresses above; 0 = not chosen yet */
	char *state_dir;          /* CLUSTER_STATE_ROOT/<name> */
	char *bin_dir;            /* skiff-control, skiff-agent, skiff-pause */
	char *proxy_mode;         /* --proxy-mode for the agents, NULL: their default */
	bool join_nodes;          /* agents join with a bootstrap token (node identity), not as admin */
	char *log_dir;            /* the daemons' logs: <state_dir>/log unless --log-dir (kept by down) */
	char *pin_root;           /* node i pins in <pin_root>/node-<i>: CLUSTER_BPF_ROOT/<name>, or a
	                           * bpffs of our own at <state_dir>/bpf when /sys/fs/bpf is none */
	char *cgroup_mount;       /* the cgroup2 mount, NULL when none */
	struct cluster_proc control;
	struct cluster_proc agents[CLUSTER_MAX_NODES];
};

/* Ownership: cluster_done frees the strings; the struct itself is the caller's. */
int cluster_init(struct cluster *c, const char *name);
void cluster_done(struct cluster *c);
/* -EINVAL unless name is 1..CLUSTER_NAME_MAX of [a-z0-9-], starting with a letter. */
int cluster_name_check(const char *name);

/* --- names and paths (cluster_state.c); all returned strings: caller frees --- */
char *cluster_netns_name(const struct cluster *c, const char *role);  /* <name>-<role> */
char *cluster_node_netns(const struct cluster *c, unsigned i);        /* <name>-node-<i> */
char *cluster_path(const struct cluster *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cluster_host_veth(const struct cluster *c, char buf[16]);        /* skc-<name> */
char *cluster_cgroup_dir(const struct cluster *c);                    /* <mount>/skiff/<name> */
char *cluster_log_path(const struct cluster *c, const char *what);    /* <log_dir>/<what>.log */
/* Writes / reads <state_dir>/state.json. read: -ENOENT when there is none. */
int cluster_state_save(const struct cluster *c);
int cluster_state_load(struct cluster *c);
void cluster_ip(uint32_t net, unsigned host, char buf[16]);

/* --- named network namespaces, as `ip netns` makes them (cluster_netns.c) --- */
int netns_create(const char *name);          /* -EEXIST when it is there */
int netns_open(const char *name);            /* an fd (O_CLOEXEC), or -errno */
int netns_remove(const char *name);          /* 0 also when it was not there */
/* Runs fn(arg) with this thread in the namespace, then back. Returns fn's result. */
int netns_run(int ns_fd, int (*fn)(void *), void *arg);
/* Writes value to a /proc/sys path as seen from the namespace (net.* sysctls are per netns). */
int netns_sysctl(int ns_fd, const char *path, const char *value);

/* --- links on agent/net/netlink.h (cluster_nl.c); each 0 or -errno from the kernel --- */
/* veth name in nl's namespace, its peer (named peer) in peer_ns_fd's (-1: the same). */
int link_veth_add(struct nl *nl, const char *name, const char *peer, int peer_ns_fd);
int link_bridge_add(struct nl *nl, const char *name, unsigned seed);
/* Enslaves to master (NULL: none) and brings the link up. */
int link_up(struct nl *nl, const char *name, const char *master);
int link_addr_add(struct nl *nl, const char *name, uint32_t addr, unsigned prefix);
/* 1 when a main-table route (the default route aside) overlaps net/prefix, else 0. */
int route_overlaps(struct nl *nl, uint32_t net, unsigned prefix);

/* --- processes (cluster_proc.c) --- */
/* Starts argv detached (new session, stdio to log_path) in ns_fd's network namespace. */
int proc_spawn(int ns_fd, char *const argv[], const char *log_path, struct cluster_proc *ret);
bool proc_alive(const struct cluster_proc *p);
/* SIGTERM, up to timeout_ms for it to exit, then SIGKILL (and wait for that). */
int proc_stop(struct cluster_proc *p, int timeout_ms);
/* SIGKILLs every process whose network namespace is the named one; returns how many. */
int proc_kill_netns(const char *netns_name);
int proc_read_start_time(pid_t pid, unsigned long long *ret);
/* Runs argv to completion; its stdout in *ret_out (caller frees). -ECHILD on a non-zero exit. */
int proc_capture(char *const argv[], char **ret_out);

/* --- the steps (cluster_up.c, cluster_node.c, cluster_down.c, cluster_image.c, cluster_ready.c) --- */
struct cluster_image {
	const char *name;
	const char *path;
};
int cluster_up(struct cluster *c, const struct cluster_image *images, size_t n_images, int timeout_s);
int cluster_down(struct cluster *c);
int cluster_start_control(struct cluster *c);
int cluster_start_agent(struct cluster *c, unsigned i);
int cluster_restart_agent(struct cluster *c, unsigned i);
/* The busybox image (from /bin/busybox, with its applets linked) and the extra images, into
 * node i's root dir. */
int cluster_import_images(const struct cluster *c, unsigned i, const struct cluster_image *images, size_t n);
int cluster_wait_control(const struct cluster *c, int timeout_s);
int cluster_wait_ready(const struct cluster *c, int timeout_s);
char *cluster_kubeconfig(const struct cluster *c); /* caller frees */

#endif
