/* Whole-map reads for the eBPF data path (prune, re-adoption): batch lookups, a few syscalls
 * for a node's maps, or one entry at a time on kernels without them. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>

#include "proxy/bpf_lb_dp.h"

#define LB_BATCH 4096

void bpf_lb_dump_free(struct bpf_lb_dump *d)
{
	free(d->keys);
	free(d->vals);
}

/* One by one, for kernels without batch lookups on hash maps. */
static int lb_dump_slow(int fd, size_t ks, size_t vs, size_t max, struct bpf_lb_dump *d)
{
	void *prev = NULL;

	d->n = 0;
	while (d->n < max && bpf_map_get_next_key(fd, prev, d->keys + d->n * ks) == 0) {
		prev = d->keys + d->n * ks;
		if (bpf_map_lookup_elem(fd, prev, d->vals + d->n * vs) == 0)
			d->n++;
		else if (errno != ENOENT)
			return -errno;
	}
	return errno == ENOENT || d->n == max ? 0 : -errno;
}

int bpf_lb_dump(int fd, size_t ks, size_t vs, size_t max, struct bpf_lb_dump *d)
{
	uint64_t token = 0;
	void *in = NULL;

	d->keys = malloc(max * ks);
	d->vals = malloc(max * vs);
	if (!d->keys || !d->vals)
		return -ENOMEM;
	d->n = 0;
	for (;;) {
		__u32 count = max - d->n < LB_BATCH ? (__u32)(max - d->n) : LB_BATCH;
		int r = bpf_map_lookup_batch(fd, in, &token, d->keys + d->n * ks, d->vals + d->n * vs, &count, NULL);

		if (r < 0 && errno != ENOENT) {
			/* count is not to be trusted here; only a first call may fall back. */
			if (d->n == 0 && (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP))
				return lb_dump_slow(fd, ks, vs, max, d);
			return -errno;
		}
		d->n += count; /* ENOENT: the last batch, count is what it held */
		if (r < 0 || d->n >= max)
			return 0;
		in = &token;
	}
}
