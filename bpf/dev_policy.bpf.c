/* Device cgroup program for one unprivileged container: any device node may be made (mknod),
 * but only devices on the allow-list may be opened — Docker's default list (null, zero, full,
 * random, urandom, tty, console, ptmx, pts) plus what the agent gives the container (its GPUs).
 * The list is set before load, one program per container cgroup. */
/* The uapi header, not vmlinux.h: the program's context then needs no CO-RE relocation, so
 * libbpf never reads the kernel's BTF (5 MB, 15-45 ms) for the load done at every container
 * start; the context's layout is kernel ABI anyway. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#define SKIFF_DEV_MAX 48
#define SKIFF_ANY_MINOR 0xffffffffu
#define SKIFF_ACC_MKNOD BPF_DEVCG_ACC_MKNOD

/* Entry i: type (1 block, 2 char), major, minor (SKIFF_ANY_MINOR: every minor). */
const volatile __u32 skiff_dev_count = 0;
const volatile __u32 skiff_dev_type[SKIFF_DEV_MAX];
const volatile __u32 skiff_dev_major[SKIFF_DEV_MAX];
const volatile __u32 skiff_dev_minor[SKIFF_DEV_MAX];

SEC("cgroup/dev")
int skiff_dev_policy(struct bpf_cgroup_dev_ctx *ctx)
{
	__u32 type = ctx->access_type & 0xffff, access = ctx->access_type >> 16;

	if (access == SKIFF_ACC_MKNOD)
		return 1;
	for (__u32 i = 0; i < SKIFF_DEV_MAX; i++) {
		if (i >= skiff_dev_count)
			break;
		if (skiff_dev_type[i] == type && skiff_dev_major[i] == ctx->major &&
		    (skiff_dev_minor[i] == SKIFF_ANY_MINOR || skiff_dev_minor[i] == ctx->minor))
			return 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
