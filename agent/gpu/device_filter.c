/* Loads bpf/gpu_devices.bpf.c with the container's GPU minors set before load, and attaches it
 * to the container's cgroup. */
#include "gpu/device_filter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "gpu_devices.skel.h"
#include "skiff/cleanup.h"

#define GPU_MINORS 256

static void skelp(struct skiff_gpu_devices **s)
{
	skiff_gpu_devices__destroy(*s);
}

int gpu_device_filter_attach(const char *cgroup_dir, unsigned gpu_major, const struct gpu_device *allowed,
			     size_t n_allowed)
{
	_cleanup_(skelp) struct skiff_gpu_devices *skel = NULL;
	_cleanup_close_ int cg = -1;
	int r;

	cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return -errno;
	skel = skiff_gpu_devices__open();
	if (!skel)
		return -errno;
	skel->rodata->skiff_gpu_major = gpu_major;
	for (size_t i = 0; i < n_allowed; i++) {
		unsigned m = allowed[i].minor;

		if (allowed[i].major == gpu_major && m < GPU_MINORS)
			skel->rodata->skiff_gpu_allowed[m / 64] |= 1ULL << (m % 64);
	}
	r = skiff_gpu_devices__load(skel);
	if (r < 0)
		return r;
	/* The legacy attach, not a bpf_link: the cgroup keeps the program after our fds close. */
	r = bpf_prog_attach(bpf_program__fd(skel->progs.skiff_gpu_devices), cg, BPF_CGROUP_DEVICE,
			    BPF_F_ALLOW_MULTI);
	return r < 0 ? r : 0;
}
