/* Deferred deletes of the eBPF data path: a slot past a Service's new count and a backend it
 * dropped stay in the maps for a grace period after slot 0 is republished, so a connect() that
 * read the old slot 0 just before still finds what it points to (a vCPU can stall a program
 * for a long while). Purged by the next call after the grace period; close() purges all. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/bpf_lb_dp.h"

#define STALE_GRACE_NS 1000000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int bpf_lb_stale_push(struct bpf_lb *lb, const struct skiff_lb4_key *slot, uint32_t backend_id)
{
	struct bpf_lb_stale *s;

	if (lb->n_stale == lb->cap_stale) {
		size_t cap = lb->cap_stale ? lb->cap_stale * 2 : 64;

		s = realloc(lb->stale, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		lb->stale = s;
		lb->cap_stale = cap;
	}
	s = &lb->stale[lb->n_stale++];
	memset(s, 0, sizeof(*s));
	if (slot)
		s->slot = *slot;
	s->backend_id = backend_id;
	s->at_ns = now_ns();
	return 0;
}

/* A slot goes only while it is still past its frontend's count: the Service may have grown
 * back over it since. */
static void stale_drop(struct bpf_lb *lb, const struct bpf_lb_stale *s)
{
	struct skiff_lb4_key k0;
	struct skiff_lb4_service v0;

	if (s->backend_id) {
		bpf_map_delete_elem(lb->be_fd, &s->backend_id);
		bpf_lb_ids_set(&lb->be_ids, s->backend_id, false);
		return;
	}
	k0 = s->slot;
	k0.backend_slot = 0;
	if (bpf_lb_lookup(lb->svc_fd, &k0, &v0) < 0 || s->slot.backend_slot > v0.count)
		bpf_map_delete_elem(lb->svc_fd, &s->slot);
}

void bpf_lb_stale_purge(struct bpf_lb *lb, bool all)
{
	uint64_t now = now_ns();
	size_t i = 0;

	/* Pushed in time order: the expired ones are a prefix. */
	while (i < lb->n_stale && (all || now - lb->stale[i].at_ns >= STALE_GRACE_NS))
		stale_drop(lb, &lb->stale[i++]);
	if (i == 0)
		return;
	memmove(lb->stale, lb->stale + i, (lb->n_stale - i) * sizeof(*lb->stale));
	lb->n_stale -= i;
}
