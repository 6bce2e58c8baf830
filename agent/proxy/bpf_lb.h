/* The eBPF socket-level Service data path (bpf/lb.bpf.c): loads or re-adopts the pinned maps,
 * attaches the cgroup sock_addr programs, and implements struct lb_ops over the maps. */
#ifndef SKIFF_AGENT_PROXY_BPF_LB_H
#define SKIFF_AGENT_PROXY_BPF_LB_H

#include <stdbool.h>

#include "proxy/lb.h"

/* Opens the data path: maps pinned in pin_dir (created if missing) are re-adopted with their
 * entries, programs are attached to cgroup_path through bpf links pinned in pin_dir (a second
 * open replaces, never stacks). *ret_dp is for bpf_lb_ops; close() keeps pins and links. */
int bpf_lb_open(const char *pin_dir, const char *cgroup_path, void **ret_dp);

extern const struct lb_ops bpf_lb_ops;

/* Removes the links (programs off cgroup_path) and every pin under pin_dir, then pin_dir. */
int bpf_lb_detach(const char *pin_dir, const char *cgroup_path);

/* Whether this kernel can load and attach the programs to cgroup_path (proxy mode auto). */
bool bpf_lb_supported(const char *cgroup_path);

#endif
