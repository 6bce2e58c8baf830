/* Id pools of the eBPF Service data path (backend ids, rev-NAT ids): a bitmap per pool,
 * rebuilt from the pinned maps on re-adoption. */
#include "proxy/bpf_lb_dp.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bpf_lb_ids_init(struct bpf_lb_ids *ids, uint32_t max)
{
	ids->used = calloc((max + 63) / 64, sizeof(uint64_t));
	if (!ids->used)
		return -ENOMEM;
	ids->max = max;
	ids->hint = 1;
	bpf_lb_bit_set(ids->used, 0);
	return 0;
}

void bpf_lb_ids_free(struct bpf_lb_ids *ids)
{
	free(ids->used);
	ids->used = NULL;
}

bool bpf_lb_ids_test(const struct bpf_lb_ids *ids, uint32_t id)
{
	return id < ids->max && bpf_lb_bit(ids->used, id);
}

void bpf_lb_ids_set(struct bpf_lb_ids *ids, uint32_t id, bool used)
{
	if (id == 0 || id >= ids->max)
		return;
	if (used)
		bpf_lb_bit_set(ids->used, id);
	else
		ids->used[id / 64] &= ~(1ULL << (id % 64));
}

/* Next free id from the hint on, wrapping once: freed ids are reused only after the pool has
 * gone round, so a just-freed backend id is not handed to another frontend at once. */
uint32_t bpf_lb_ids_alloc(struct bpf_lb_ids *ids)
{
	uint32_t words = (ids->max + 63) / 64;

	for (uint32_t n = 0; n <= words; n++) {
		uint32_t w = (ids->hint / 64 + n) % words;
		uint64_t free_bits = ~ids->used[w];

		if (n == 0)
			free_bits &= ~0ULL << (ids->hint % 64);
		while (free_bits) {
			uint32_t id = w * 64 + (uint32_t)__builtin_ctzll(free_bits);

			if (id >= ids->max)
				break;
			bpf_lb_bit_set(ids->used, id);
			ids->hint = id + 1 < ids->max ? id + 1 : 1;
			return id;
		}
	}
	return 0;
}

int bpf_lb_ids_adopt(struct bpf_lb_ids *ids, int map_fd, size_t value_size)
{
	struct bpf_lb_dump d = { 0 };
	int r = bpf_lb_dump(map_fd, sizeof(uint32_t), value_size, ids->max, &d);

	for (size_t i = 0; r == 0 && i < d.n; i++) {
		uint32_t id;

		memcpy(&id, d.keys + i * sizeof(id), sizeof(id));
		bpf_lb_ids_set(ids, id, true);
	}
	bpf_lb_dump_free(&d);
	return r;
}
