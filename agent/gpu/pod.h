/* GPUs for a whole pod: what each container asks for (nvidia.com/gpu), all-or-nothing allocation,
 * and the cgroup step that fences each container to its own GPUs. */
#ifndef SKIFF_AGENT_GPU_POD_H
#define SKIFF_AGENT_GPU_POD_H

#include <json-c/json.h>
#include <stddef.h>

#include "gpu/alloc.h"
#include "pods/device_policy.h"

/* The container's nvidia.com/gpu: its limit (Kubernetes makes requests equal limits for
 * extended resources), else its request; 0 when it has neither. -EINVAL on a bad quantity. */
int gpu_container_request(json_object *container, size_t *ret);
/* Gives every container of spec.containers its GPUs, or none at all (-ENOSPC) when they do not
 * fit. Idempotent (a restart keeps what each holds). Init containers get no GPUs. */
int gpu_allocate_pod(struct gpu_allocator *a, json_object *pod);
/* A cgroup_container_prepare_fn (agent/pods/cgroup.h), userdata the allocator: on a node with
 * GPUs, attaches the device filter that lets the container open only the GPUs it holds (none
 * when it asked for none). Nothing to do on a node without GPUs. */
int gpu_container_prepare(void *allocator, const char *cgroup_dir, json_object *pod, json_object *container);
/* The device nodes a container that requests GPUs may open under the default device policy
 * (agent/pods/device_policy.h): every GPU of the node and the driver's control nodes (the GPU
 * filter then narrows the GPUs to its own). None for a container without GPUs. */
int gpu_container_rules(void *allocator, json_object *container, struct device_rule *ret, size_t cap,
			size_t *ret_n);

#endif
