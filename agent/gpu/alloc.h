/* GPU allocation to containers, recorded in <root>/gpu-allocations.json (written atomically
 * before any caller sees it) so that no restart ever hands one device out twice. */
#ifndef SKIFF_AGENT_GPU_ALLOC_H
#define SKIFF_AGENT_GPU_ALLOC_H

#include <stddef.h>

#include "gpu/discover.h"

#define GPU_ALLOC_FILE "gpu-allocations.json"

struct gpu_allocator;

/* Loads <root_dir>/gpu-allocations.json if present. Records for devices no longer discovered
 * are kept (their holder may still run), so they are never handed out again by mistake.
 * NULL with errno set (EINVAL: the file is not ours). gpus is copied. */
struct gpu_allocator *gpu_allocator_new(const char *root_dir, const struct gpu_set *gpus);
void gpu_allocator_free(struct gpu_allocator *a);

/* Gives n GPUs to pod_uid/container, lowest index first, and persists it. Idempotent: a
 * container that already holds n GPUs keeps the same ones (-EINVAL if it holds another count).
 * -ENOSPC when fewer than n are free. n == 0 is a no-op. */
int gpu_allocate(struct gpu_allocator *a, const char *pod_uid, const char *container, size_t n);
/* Frees every GPU the pod's containers hold and persists it. 0 when it held none. */
int gpu_release_pod(struct gpu_allocator *a, const char *pod_uid);
/* The devices this allocator was made with, borrowed. */
const struct gpu_set *gpu_allocator_set(const struct gpu_allocator *a);
/* How many GPUs pod_uid/container holds (container NULL: the whole pod). */
size_t gpu_held_count(const struct gpu_allocator *a, const char *pod_uid, const char *container);
/* GPUs not held by anyone. */
size_t gpu_free_count(const struct gpu_allocator *a);

/* The device nodes the container's /dev gets: its GPUs (index order), then the control nodes
 * (only when it holds a GPU). New array (gpu_devices_free); *ret_n 0 and *ret NULL for none. */
int gpu_container_devices(const struct gpu_allocator *a, const char *pod_uid, const char *container,
			  struct gpu_device **ret, size_t *ret_n);
/* NVIDIA_VISIBLE_DEVICES for the container: "0,2", or "void" when it holds none (the NVIDIA
 * container toolkit's word for "no GPU"). New string. */
int gpu_visible_devices(const struct gpu_allocator *a, const char *pod_uid, const char *container,
			char **ret);

#endif
