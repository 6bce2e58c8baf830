/* The node's NVIDIA GPUs, found from --gpu-devices ("auto" scans a device directory for
 * nvidia<N> character devices), and the driver's control nodes every GPU container needs. */
#ifndef SKIFF_AGENT_GPU_DISCOVER_H
#define SKIFF_AGENT_GPU_DISCOVER_H

#include <stddef.h>

#define GPU_RESOURCE_NAME "nvidia.com/gpu"
#define GPU_NVIDIA_MAJOR 195

struct gpu_device {
	char *path;     /* /dev/nvidia3 */
	unsigned index; /* 3: its NVIDIA_VISIBLE_DEVICES index (the N of nvidia<N>, else the minor) */
	unsigned major;
	unsigned minor;
};

struct gpu_set {
	struct gpu_device *gpus; /* sorted by index */
	size_t n_gpus;
	/* nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset where present */
	struct gpu_device *controls;
	size_t n_controls;
	unsigned major; /* of every GPU; GPU_NVIDIA_MAJOR when there are none */
};

/* spec: NULL or "" (no GPUs), "auto" (every nvidia<N> character device in dev_dir), or a comma-
 * separated list of device paths. dev_dir NULL means /dev; control nodes are looked for in
 * dev_dir (auto) or beside the first listed device. -ENODEV for a listed path that is not a
 * character device, -EINVAL when GPUs differ in major. ret is set only on success. */
int gpu_discover(const char *spec, const char *dev_dir, struct gpu_set *ret);
void gpu_set_clear(struct gpu_set *set);

/* What the node advertises as nvidia.com/gpu. */
static inline size_t gpu_count(const struct gpu_set *set)
{
	return set->n_gpus;
}

/* Deep copy of one device into ret (path duplicated). */
int gpu_device_copy(const struct gpu_device *src, struct gpu_device *ret);
void gpu_devices_free(struct gpu_device *devs, size_t n);

#endif
