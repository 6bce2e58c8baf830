/* The device policy of every unprivileged container: it may make device nodes but open only
 * Docker's default devices and those the agent gives it (GPUs). A BPF_PROG_TYPE_CGROUP_DEVICE
 * program (bpf/dev_policy.bpf.c) on the container's cgroup, held by the cgroup. */
#ifndef SKIFF_AGENT_PODS_DEVICE_POLICY_H
#define SKIFF_AGENT_PODS_DEVICE_POLICY_H

#include <stddef.h>

#define DEVICE_ANY_MINOR 0xffffffffu

struct device_rule {
	char type; /* 'c' or 'b' */
	unsigned major, minor; /* minor DEVICE_ANY_MINOR: all */
};

/* Attaches the policy (defaults + extra) to cgroup_dir before any process enters it. -E2BIG
 * when extra does not fit the program's list. */
int device_policy_attach(const char *cgroup_dir, const struct device_rule *extra, size_t n_extra);

#endif
