/* Prune after a full resync of the eBPF data path: frontends the resync did not upsert go
 * (slot 0 first), then whatever no frontend refers to any more (left by a failed write). */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>

#include "proxy/bpf_lb_dp.h"
#include "skiff/cleanup.h"

/* Every key of a map, read before anything is deleted (deleting while walking restarts the walk). */
static int lb_keys(int fd, size_t key_size, void **ret, size_t *ret_n)
{
	size_t n = 0, cap = 1024;
	uint8_t *keys = malloc(cap * key_size), *grown;
	void *prev = NULL;

	if (!keys)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, keys + n * key_size) == 0) {
		prev = keys + n * key_size;
		if (++n < cap)
			continue;
		cap *= 2;
		grown = realloc(keys, cap * key_size);
		if (!grown) {
			free(keys);
			return -ENOMEM;
		}
		keys = grown;
		prev = keys + (n - 1) * key_size;
	}
	if (errno != ENOENT) {
		free(keys);
		return -errno;
	}
	*ret = keys;
	*ret_n = n;
	return 0;
}

static int lb_prune_frontends(struct bpf_lb *lb, uint64_t *live_be, uint64_t *live_rnat)
{
	_cleanup_free_ struct skiff_lb4_key *keys = NULL;
	struct skiff_lb4_service v;
	size_t n;
	int r;

	r = lb_keys(lb->svc_fd, sizeof(*keys), (void **)&keys, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (keys[i].backend_slot != 0 || bpf_lb_lookup(lb->svc_fd, &keys[i], &v) < 0)
			continue;
		if (!bpf_lb_bit(lb->seen, v.rev_nat_id)) {
			r = bpf_lb_remove_key(lb, &keys[i]);
			continue;
		}
		bpf_lb_bit_set(live_rnat, v.rev_nat_id);
	}
	/* Second walk: slots beyond their frontend's count, or of no frontend, go; the rest mark
	 * their backend live. */
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct skiff_lb4_key k0 = keys[i];
		struct skiff_lb4_service slot;

		if (keys[i].backend_slot == 0)
			continue;
		k0.backend_slot = 0;
		if (bpf_lb_lookup(lb->svc_fd, &keys[i], &slot) < 0)
			continue;
		if (bpf_lb_lookup(lb->svc_fd, &k0, &v) < 0 || keys[i].backend_slot > v.count)
			bpf_map_delete_elem(lb->svc_fd, &keys[i]);
		else if (slot.backend_id < SKIFF_LB4_BACKEND_MAX)
			bpf_lb_bit_set(live_be, slot.backend_id);
	}
	return r;
}

/* Deletes the entries of a __u32-keyed map whose key is not marked live, freeing the id. */
static int lb_prune_ids(int fd, struct bpf_lb_ids *ids, const uint64_t *live)
{
	_cleanup_free_ uint32_t *keys = NULL;
	size_t n;
	int r;

	r = lb_keys(fd, sizeof(*keys), (void **)&keys, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (keys[i] < ids->max && bpf_lb_bit(live, keys[i]))
			continue;
		bpf_map_delete_elem(fd, &keys[i]);
		bpf_lb_ids_set(ids, keys[i], false);
	}
	return r;
}

int bpf_lb_prune(struct bpf_lb *lb)
{
	_cleanup_free_ uint64_t *live_be = calloc(SKIFF_LB4_BACKEND_MAX / 64, sizeof(uint64_t));
	_cleanup_free_ uint64_t *live_rnat = calloc(SKIFF_LB4_REVNAT_MAX / 64, sizeof(uint64_t));
	int r;

	if (!live_be || !live_rnat)
		return -ENOMEM;
	r = lb_prune_frontends(lb, live_be, live_rnat);
	if (r == 0)
		r = lb_prune_ids(lb->be_fd, &lb->be_ids, live_be);
	if (r == 0)
		r = lb_prune_ids(lb->rnat_fd, &lb->rnat_ids, live_rnat);
	return r;
}
