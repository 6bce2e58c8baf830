/* Inside the eBPF Service data path: the open state shared by the loader (bpf_lb.c), the map
 * writer (bpf_lb_ops.c) and the id pools (bpf_lb_ids.c). Not for other rooms. */
#ifndef SKIFF_AGENT_PROXY_BPF_LB_DP_H
#define SKIFF_AGENT_PROXY_BPF_LB_DP_H

#include <stdbool.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>

#include "lb_maps.h"

/* Free/used ids 1..max-1 as a bitmap; 0 is never handed out (0 means none in the maps). */
struct bpf_lb_ids {
	uint64_t *used;
	uint32_t max;
	uint32_t hint;
};

/* A slot key (backend_id 0) or a backend id to delete once the grace period is over. */
struct bpf_lb_stale {
	struct skiff_lb4_key slot;
	uint32_t backend_id;
	uint64_t at_ns;
};

struct bpf_lb {
	struct skiff_lb *skel;
	int svc_fd, be_fd, rnat_fd, node_fd;
	struct bpf_lb_ids be_ids, rnat_ids;
	uint64_t *seen; /* by rev-NAT id: frontends upserted since begin() */
	bool syncing;
	struct bpf_lb_stale *stale; /* oldest first */
	size_t n_stale, cap_stale;
};

/* Frees the user-space state; pins and links stay (bpf_lb_ops.close). */
void bpf_lb_close(void *dp);

int bpf_lb_ids_init(struct bpf_lb_ids *ids, uint32_t max);
void bpf_lb_ids_free(struct bpf_lb_ids *ids);
/* A free id marked used, or 0 when all are taken. */
uint32_t bpf_lb_ids_alloc(struct bpf_lb_ids *ids);
void bpf_lb_ids_set(struct bpf_lb_ids *ids, uint32_t id, bool used);
bool bpf_lb_ids_test(const struct bpf_lb_ids *ids, uint32_t id);
/* Marks every key of a map of __u32 keys used (re-adoption of pinned maps). */
int bpf_lb_ids_adopt(struct bpf_lb_ids *ids, int map_fd, size_t value_size);

/* A map lookup as 0 / -errno (-ENOENT: no such key). */
static inline int bpf_lb_lookup(int fd, const void *key, void *value)
{
	return bpf_map_lookup_elem(fd, key, value) < 0 ? -errno : 0;
}

/* Bitmap helpers over uint64_t words, for the seen set and prune's reference marks. */
static inline bool bpf_lb_bit(const uint64_t *bits, uint32_t i)
{
	return bits[i / 64] & (1ULL << (i % 64));
}

static inline void bpf_lb_bit_set(uint64_t *bits, uint32_t i)
{
	bits[i / 64] |= 1ULL << (i % 64);
}

/* Every entry of a map (at most max), keys and values side by side. */
struct bpf_lb_dump {
	uint8_t *keys, *vals;
	size_t n;
};

int bpf_lb_dump(int fd, size_t key_size, size_t value_size, size_t max, struct bpf_lb_dump *ret);
void bpf_lb_dump_free(struct bpf_lb_dump *d);

/* Deferred deletes (bpf_lb_stale.c): a slot (slot != NULL) or a backend id (backend_id != 0)
 * to delete after the grace period; purge deletes the expired ones, or all. */
int bpf_lb_stale_push(struct bpf_lb *lb, const struct skiff_lb4_key *slot, uint32_t backend_id);
void bpf_lb_stale_purge(struct bpf_lb *lb, bool all);

/* Removes stale entries after a full resync: frontends not upserted since begin(), and any
 * slot, backend or rev-NAT entry no frontend refers to (left by a failed upsert). */
int bpf_lb_prune(struct bpf_lb *lb);
/* Removes one frontend by its key (slot 0 first). 0 when absent. */
int bpf_lb_remove_key(struct bpf_lb *lb, const struct skiff_lb4_key *key);

#endif
