/* Device cgroup program for one container: every device is allowed except the GPU minors of
 * the GPU major that the container was not given (set before load, one program per cgroup). */
/* The uapi header, not vmlinux.h: no CO-RE relocation, so loading reads no kernel BTF (see
 * dev_policy.bpf.c). */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#define SKIFF_GPU_MINORS 256
#define SKIFF_DEV_CHAR BPF_DEVCG_DEV_CHAR

/* Set by the loader between open and load (agent/gpu/device_filter.c). */
const volatile __u32 skiff_gpu_major = 195;
/* Minors at or above this are the driver's control nodes (nvidiactl 255, nvidia-modeset 254),
 * which every GPU container needs; GPUs are numbered below it. */
const volatile __u32 skiff_gpu_first_control_minor = 254;
/* Bit i set: /dev/nvidia<i> (minor i) is this container's. */
const volatile __u64 skiff_gpu_allowed[SKIFF_GPU_MINORS / 64];

/* 0: allowed, -EPERM: a GPU of another container. Kept apart from the entry so the rule reads alone. */
static __always_inline int gpu_check(__u32 type, __u32 major, __u32 minor)
{
	if (type != SKIFF_DEV_CHAR || major != skiff_gpu_major)
		return 0;
	if (minor >= skiff_gpu_first_control_minor || minor >= SKIFF_GPU_MINORS)
		return 0;
	/* Constant word indexes: the verifier then sees no variable offset into the config. */
#pragma unroll
	for (__u32 w = 0; w < SKIFF_GPU_MINORS / 64; w++)
		if (minor / 64 == w)
			return skiff_gpu_allowed[w] & (1ULL << (minor % 64)) ? 0 : -1;
	return -1;
}

SEC("cgroup/dev")
int skiff_gpu_devices(struct bpf_cgroup_dev_ctx *ctx)
{
	__u32 type = ctx->access_type & 0xffff;

	return gpu_check(type, ctx->major, ctx->minor) == 0 ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
