/* skiff-agent's configuration: one table of defaults, a YAML file with the flags' names as
 * keys, then the flags; each later source overrides the earlier. */
#ifndef SKIFF_AGENT_NODE_CONFIG_H
#define SKIFF_AGENT_NODE_CONFIG_H

#include <stdio.h>

struct agent_config {
	char *config;        /* --config FILE (flags only) */
	char *kubeconfig;    /* --kubeconfig: server, CA and token in one file */
	char *server;        /* --server, --token, --ca-file: instead of (or over) the kubeconfig */
	char *token;
	char *ca_file;
	char *join;          /* --join URL: trade --token (a bootstrap token) for a node credential */
	char *ca_cert_hash;  /* --ca-cert-hash sha256:...: the CA --join trusts */
	char *node_name;     /* --node-name: default the hostname */
	char *root_dir;      /* --root-dir: persistent state */
	char *run_dir;       /* --run-dir: runtime state, /run/skiff/<node>/ */
	char *cgroup_parent; /* --cgroup-parent: relative to the cgroup2 mount */
	char *node_ip;       /* --node-ip: default the default route's interface address */
	char *gpu_devices;   /* --gpu-devices: "auto" or PATH,... ("" for none) */
	char *pause_binary;  /* --pause-binary: default skiff-pause next to skiff-agent */
	char *log_level;     /* --log-level */
	char *register_with_taints; /* --register-with-taints: key[=value]:Effect,... on a new Node */
	char *network;       /* --network: "bridge" (pods on a bridge, routed to other nodes) or "none" */
	char *service_cidr;  /* --service-cidr: unreachable in this node's namespace unless a Service routes it */
	char *bridge_name;   /* --bridge-name */
	char *proxy_mode;    /* --proxy-mode: auto, bpf or nftables (Service routing) */
	char *bpf_pin_dir;   /* --bpf-pin-dir: default /sys/fs/bpf/skiff/<node-name> */
	char *pod_fastpath;  /* --pod-fastpath: auto (tc BPF past the bridge where it can run) or off */
	long max_pods;       /* --max-pods */
	long pod_max_pids;   /* --pod-max-pids: pids.max per pod (0: none) */
	long heartbeat_seconds; /* --heartbeat-seconds: Lease renew period */
	char *address;       /* --address: the agent endpoint's (logs, exec) bind address */
	long port;           /* --port: its port (0: none, kubectl logs/exec cannot reach this node) */
};

/* Fills every field from the one table of defaults (node_name from gethostname). */
int agent_config_init(struct agent_config *c);
void agent_config_done(struct agent_config *c);

/* Applies a YAML mapping whose keys are the long flags' names ("node-name: n1"). Returns 0, or
 * -EINVAL with *ret_err (caller frees) naming the key. */
int agent_config_apply_yaml(struct agent_config *c, const char *buf, size_t len, char **ret_err);

/* Defaults, then --config's file, then the flags. Returns 0, 1 when --help was printed to out,
 * or -EINVAL with *ret_err (caller frees). */
int agent_config_load(struct agent_config *c, int argc, char **argv, FILE *out, char **ret_err);

void agent_config_help(FILE *out, const char *argv0);

#endif
