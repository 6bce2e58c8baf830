/* The GPU device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program (bpf/gpu_devices.bpf.c) attached
 * to a container's cgroup so it can open only its own GPUs, whatever nodes it makes. */
#ifndef SKIFF_AGENT_GPU_DEVICE_FILTER_H
#define SKIFF_AGENT_GPU_DEVICE_FILTER_H

#include <stddef.h>

#include "gpu/discover.h"

/* Loads a program that denies every char device of gpu_major with a GPU minor (below 254, the
 * control nodes' range) that is not in allowed[], allows every other device, and attaches it to
 * the cgroup directory (BPF_F_ALLOW_MULTI). The attachment is held by the cgroup, not by this
 * process: it outlives an agent restart and goes when the cgroup is removed. allowed may hold
 * control nodes and other majors; they are ignored. Call it before any process enters. */
int gpu_device_filter_attach(const char *cgroup_dir, unsigned gpu_major, const struct gpu_device *allowed,
			     size_t n_allowed);

#endif
