/* Prune after a full resync of the eBPF data path: frontends the resync did not upsert go
 * (slot 0 first), then whatever no frontend refers to any more (left by a failed write). The
 * maps are read in bulk and compared in memory: a node's prune is a few hundred syscalls. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/bpf_lb_dp.h"
#include "skiff/cleanup.h"

struct lb_entry {
	struct skiff_lb4_key k;
	struct skiff_lb4_service v;
};

/* Frontend by frontend, slot 0 first. */
static int entry_cmp(const void *a, const void *b)
{
	const struct skiff_lb4_key *x = &((const struct lb_entry *)a)->k, *y = &((const struct lb_entry *)b)->k;

	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	if (x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->backend_slot < y->backend_slot ? -1 : x->backend_slot > y->backend_slot;
}

static bool same_frontend(const struct skiff_lb4_key *x, const struct skiff_lb4_key *y)
{
	return x->address == y->address && x->dport == y->dport && x->proto == y->proto;
}

static int lb_entries(struct bpf_lb *lb, struct lb_entry **ret, size_t *ret_n)
{
	_cleanup_(bpf_lb_dump_free) struct bpf_lb_dump d = { 0 };
	struct lb_entry *e;
	int r;

	r = bpf_lb_dump(lb->svc_fd, sizeof(e->k), sizeof(e->v), SKIFF_LB4_SVC_MAX, &d);
	if (r < 0)
		return r;
	e = calloc(d.n + 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < d.n; i++) {
		memcpy(&e[i].k, d.keys + i * sizeof(e->k), sizeof(e->k));
		memcpy(&e[i].v, d.vals + i * sizeof(e->v), sizeof(e->v));
	}
	qsort(e, d.n, sizeof(*e), entry_cmp);
	*ret = e;
	*ret_n = d.n;
	return 0;
}

/* Frontends not seen since begin() go whole; a slot without its slot 0 or past its count
 * goes; the rest mark their backend and rev-NAT ids live. */
static int lb_prune_frontends(struct bpf_lb *lb, uint64_t *live_be, uint64_t *live_rnat)
{
	_cleanup_free_ struct lb_entry *e = NULL;
	const struct lb_entry *front = NULL;
	bool drop = false;
	size_t n;
	int r;

	r = lb_entries(lb, &e, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (e[i].k.backend_slot == 0) {
			front = &e[i];
			drop = !bpf_lb_bit(lb->seen, e[i].v.rev_nat_id);
			if (drop)
				r = bpf_lb_remove_key(lb, &e[i].k);
			else if (e[i].v.rev_nat_id < SKIFF_LB4_REVNAT_MAX)
				bpf_lb_bit_set(live_rnat, e[i].v.rev_nat_id);
			continue;
		}
		if (!front || !same_frontend(&front->k, &e[i].k) || drop || e[i].k.backend_slot > front->v.count)
			bpf_map_delete_elem(lb->svc_fd, &e[i].k);
		else if (e[i].v.backend_id < SKIFF_LB4_BACKEND_MAX)
			bpf_lb_bit_set(live_be, e[i].v.backend_id);
	}
	return r;
}

/* Deletes the entries of a __u32-keyed map whose key is not marked live, freeing the id. */
static int lb_prune_ids(int fd, size_t value_size, size_t max, struct bpf_lb_ids *ids, const uint64_t *live)
{
	_cleanup_(bpf_lb_dump_free) struct bpf_lb_dump d = { 0 };
	int r;

	r = bpf_lb_dump(fd, sizeof(uint32_t), value_size, max, &d);
	for (size_t i = 0; r == 0 && i < d.n; i++) {
		uint32_t id;

		memcpy(&id, d.keys + i * sizeof(id), sizeof(id));
		if (id < ids->max && bpf_lb_bit(live, id))
			continue;
		bpf_map_delete_elem(fd, &id);
		bpf_lb_ids_set(ids, id, false);
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
	/* A backend waiting out its grace period keeps its id until then: freed now, it could be
	 * handed out again and the deferred delete would hit the new owner. */
	for (size_t i = 0; i < lb->n_stale; i++)
		if (lb->stale[i].backend_id && lb->stale[i].backend_id < SKIFF_LB4_BACKEND_MAX)
			bpf_lb_bit_set(live_be, lb->stale[i].backend_id);
	r = lb_prune_frontends(lb, live_be, live_rnat);
	if (r == 0)
		r = lb_prune_ids(lb->be_fd, sizeof(struct skiff_lb4_backend), SKIFF_LB4_BACKEND_MAX, &lb->be_ids, live_be);
	if (r == 0)
		r = lb_prune_ids(lb->rnat_fd, sizeof(struct skiff_lb4_reverse_nat), SKIFF_LB4_REVNAT_MAX, &lb->rnat_ids,
				 live_rnat);
	return r;
}
