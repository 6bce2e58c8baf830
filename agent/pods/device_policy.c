/* Loads bpf/dev_policy.bpf.c with the allow-list set before load and attaches it to a
 * container's cgroup (see device_policy.h). */
#include "pods/device_policy.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "dev_policy.skel.h"

#define DEV_MAX 48

/* Docker's default: what a container's minimal /dev holds. */
static const struct device_rule defaults[] = {
	{ 'c', 1, 3 },	 /* null */
	{ 'c', 1, 5 },	 /* zero */
	{ 'c', 1, 7 },	 /* full */
	{ 'c', 1, 8 },	 /* random */
	{ 'c', 1, 9 },	 /* urandom */
	{ 'c', 5, 0 },	 /* tty */
	{ 'c', 5, 1 },	 /* console */
	{ 'c', 5, 2 },	 /* ptmx */
	{ 'c', 136, DEVICE_ANY_MINOR }, /* the pts instances */
};

static void skelp(struct skiff_dev_policy **s)
{
	skiff_dev_policy__destroy(*s);
}

static void put(struct skiff_dev_policy *skel, unsigned i, const struct device_rule *r)
{
	skel->rodata->skiff_dev_type[i] = r->type == 'b' ? 1 : 2;
	skel->rodata->skiff_dev_major[i] = r->major;
	skel->rodata->skiff_dev_minor[i] = r->minor;
}

int device_policy_attach(const char *cgroup_dir, const struct device_rule *extra, size_t n_extra)
{
	_cleanup_(skelp) struct skiff_dev_policy *skel = NULL;
	_cleanup_close_ int cg = -1;
	const size_t n_def = sizeof(defaults) / sizeof(defaults[0]);
	int r;

	if (n_def + n_extra > DEV_MAX)
		return -E2BIG;
	cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return -errno;
	skel = skiff_dev_policy__open();
	if (!skel)
		return -errno;
	for (size_t i = 0; i < n_def; i++)
		put(skel, (unsigned)i, &defaults[i]);
	for (size_t i = 0; i < n_extra; i++)
		put(skel, (unsigned)(n_def + i), &extra[i]);
	skel->rodata->skiff_dev_count = (__u32)(n_def + n_extra);
	r = skiff_dev_policy__load(skel);
	if (r < 0)
		return r;
	/* The legacy attach, not a bpf_link: the cgroup keeps the program after our fds close. Every
	 * attached device program must allow an access (the GPU filter narrows the GPUs further). */
	r = bpf_prog_attach(bpf_program__fd(skel->progs.skiff_dev_policy), cg, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
	return r < 0 ? r : 0;
}
