/* The eBPF data path's lb_ops: writes frontends into the pinned maps in an order that never
 * shows a connect() a half-written Service (backends, slots 1..n, slot 0; removal slot 0 first). */
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/bpf_lb.h"
#include "proxy/bpf_lb_dp.h"
#include "skiff/cleanup.h"

static struct skiff_lb4_key lb_key(uint32_t vip, uint16_t port, uint8_t proto, bool node_port, uint32_t slot)
{
	return (struct skiff_lb4_key){
		.address = node_port ? 0 : vip,
		.dport = port,
		.backend_slot = (uint16_t)slot,
		.proto = proto,
	};
}

static int lb_update(int fd, const void *key, const void *value)
{
	return bpf_map_update_elem(fd, key, value, BPF_ANY) < 0 ? -errno : 0;
}

/* The backends a frontend has now: slot i+1 -> ids[i], be[i]. */
struct lb_old {
	uint32_t n;
	uint32_t *ids;
	struct skiff_lb4_backend *be;
	bool *kept;
};

static void lb_old_free(struct lb_old *o)
{
	free(o->ids);
	free(o->be);
	free(o->kept);
}

static int lb_old_read(struct bpf_lb *lb, struct skiff_lb4_key key, uint32_t count, struct lb_old *ret)
{
	struct skiff_lb4_service slot;

	ret->ids = calloc(count + 1, sizeof(*ret->ids));
	ret->be = calloc(count + 1, sizeof(*ret->be));
	ret->kept = calloc(count + 1, sizeof(*ret->kept));
	if (!ret->ids || !ret->be || !ret->kept)
		return -ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		key.backend_slot = (uint16_t)(i + 1);
		/* A slot or backend missing here was lost to a failed write: the slot is rewritten. */
		if (bpf_lb_lookup(lb->svc_fd, &key, &slot) < 0 || bpf_lb_lookup(lb->be_fd, &slot.backend_id, &ret->be[i]) < 0)
			slot.backend_id = 0;
		ret->ids[i] = slot.backend_id;
	}
	ret->n = count;
	return 0;
}

/* The id for backend b: one of the frontend's own with the same address, else a new one (0
 * when the pool is empty) that the caller must write before any slot points to it. */
static uint32_t lb_backend_id(struct bpf_lb *lb, struct lb_old *old, const struct lb_backend *b, bool *ret_new)
{
	for (uint32_t i = 0; i < old->n; i++) {
		if (old->ids[i] && !old->kept[i] && old->be[i].address == b->addr && old->be[i].port == b->port) {
			old->kept[i] = true;
			*ret_new = false;
			return old->ids[i];
		}
	}
	*ret_new = true;
	return bpf_lb_ids_alloc(&lb->be_ids);
}

/* One syscall for many entries where the kernel has batch updates (5.6+), else one each. */
static int lb_update_many(int fd, const void *keys, size_t key_size, const void *values, size_t value_size,
			  uint32_t n)
{
	uint32_t count = n;

	if (n == 0)
		return 0;
	if (bpf_map_update_batch(fd, keys, values, &count, NULL) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP)
		return -errno;
	for (uint32_t i = 0; i < n; i++) {
		int r = lb_update(fd, (const char *)keys + i * key_size, (const char *)values + i * value_size);

		if (r < 0)
			return r;
	}
	return 0;
}

/* The frontend's backend ids in slot order; new ones are written to the backends map here
 * (all or none: on failure the new ids are taken back). */
static int lb_backends_write(struct bpf_lb *lb, const struct lb_service *svc, uint32_t rnat, struct lb_old *old,
			     uint32_t *ids)
{
	size_t n = svc->n_backends;
	_cleanup_free_ uint32_t *new_ids = calloc(n + 1, sizeof(*new_ids));
	_cleanup_free_ struct skiff_lb4_backend *new_be = calloc(n + 1, sizeof(*new_be));
	uint32_t n_new = 0;
	bool fresh;
	int r = new_ids && new_be ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct lb_backend *b = &svc->backends[i];

		ids[i] = lb_backend_id(lb, old, b, &fresh);
		if (!ids[i]) {
			r = -ENOSPC;
		} else if (fresh) {
			new_ids[n_new] = ids[i];
			new_be[n_new++] = (struct skiff_lb4_backend){
				.address = b->addr, .port = b->port, .proto = svc->proto, .rev_nat_id = rnat };
		}
	}
	if (r == 0)
		r = lb_update_many(lb->be_fd, new_ids, sizeof(*new_ids), new_be, sizeof(*new_be), n_new);
	if (r < 0) {
		for (uint32_t i = 0; i < n_new; i++) {
			bpf_map_delete_elem(lb->be_fd, &new_ids[i]);
			bpf_lb_ids_set(&lb->be_ids, new_ids[i], false);
		}
	}
	return r;
}

/* Slots 1..n that change, in one batch: still invisible past the old count until slot 0. */
static int lb_slots_write(struct bpf_lb *lb, struct skiff_lb4_key key, const uint32_t *ids, uint32_t n,
			  const struct lb_old *old)
{
	_cleanup_free_ struct skiff_lb4_key *keys = calloc(n + 1, sizeof(*keys));
	_cleanup_free_ struct skiff_lb4_service *vals = calloc(n + 1, sizeof(*vals));
	uint32_t m = 0;

	if (!keys || !vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (i < old->n && old->ids[i] == ids[i])
			continue;
		keys[m] = key;
		keys[m].backend_slot = (uint16_t)(i + 1);
		vals[m++] = (struct skiff_lb4_service){ .backend_id = ids[i] };
	}
	return lb_update_many(lb->svc_fd, keys, sizeof(*keys), vals, sizeof(*vals), m);
}

static int lb_write_revnat(struct bpf_lb *lb, uint32_t rnat, const struct lb_service *svc)
{
	struct skiff_lb4_reverse_nat v = {
		.address = svc->node_port ? 0 : svc->vip,
		.port = svc->port,
		.proto = svc->proto,
		.flags = svc->node_port ? SKIFF_LB4_F_NODE_PORT : 0,
	};

	if (svc->name)
		strncpy(v.name, svc->name, sizeof(v.name) - 1);
	return lb_update(lb->rnat_fd, &rnat, &v);
}

/* Backends and slots 1..n, then slot 0 (the publish), then the old tail and old backends. */
static int lb_publish(struct bpf_lb *lb, const struct lb_service *svc, uint32_t rnat, struct lb_old *old)
{
	struct skiff_lb4_key key = lb_key(svc->vip, svc->port, svc->proto, svc->node_port, 0);
	struct skiff_lb4_service v0 = {
		.count = (uint32_t)svc->n_backends,
		.rev_nat_id = rnat,
		.affinity_timeout = svc->affinity_timeout,
		.flags = svc->node_port ? SKIFF_LB4_F_NODE_PORT : 0,
	};
	_cleanup_free_ uint32_t *ids = calloc(svc->n_backends + 1, sizeof(*ids));
	int r;

	if (!ids)
		return -ENOMEM;
	r = lb_backends_write(lb, svc, rnat, old, ids);
	if (r == 0)
		r = lb_write_revnat(lb, rnat, svc);
	if (r == 0)
		r = lb_slots_write(lb, key, ids, (uint32_t)svc->n_backends, old);
	key.backend_slot = 0;
	if (r == 0)
		r = lb_update(lb->svc_fd, &key, &v0);
	if (r < 0)
		return r; /* what was written is unreferenced or still valid: prune collects it */
	/* What the old slot 0 pointed to goes after a grace period (bpf_lb_stale.c); when even
	 * that bookkeeping fails, prune collects them. */
	for (uint32_t i = (uint32_t)svc->n_backends; i < old->n; i++) {
		key.backend_slot = (uint16_t)(i + 1);
		bpf_lb_stale_push(lb, &key, 0);
	}
	for (uint32_t i = 0; i < old->n; i++)
		if (old->ids[i] && !old->kept[i])
			bpf_lb_stale_push(lb, NULL, old->ids[i]);
	return 0;
}

static int lb_upsert(void *dp, const struct lb_service *svc)
{
	struct bpf_lb *lb = dp;
	struct skiff_lb4_key key = lb_key(svc->vip, svc->port, svc->proto, svc->node_port, 0);
	_cleanup_(lb_old_free) struct lb_old old = { 0 };
	struct skiff_lb4_service v0;
	uint32_t rnat = 0;
	int r;

	if ((svc->proto != IPPROTO_TCP && svc->proto != IPPROTO_UDP) || svc->n_backends >= UINT16_MAX)
		return -EINVAL;
	bpf_lb_stale_purge(lb, false);
	r = bpf_lb_lookup(lb->svc_fd, &key, &v0);
	if (r == 0) {
		rnat = v0.rev_nat_id;
		r = lb_old_read(lb, key, v0.count, &old);
	} else if (r == -ENOENT) {
		rnat = bpf_lb_ids_alloc(&lb->rnat_ids);
		r = rnat ? lb_old_read(lb, key, 0, &old) : -ENOSPC;
	}
	if (r < 0)
		return r;
	r = lb_publish(lb, svc, rnat, &old);
	if (r == 0) {
		bpf_lb_bit_set(lb->seen, rnat);
	} else if (old.n == 0 && bpf_lb_lookup(lb->svc_fd, &key, &v0) == -ENOENT) {
		/* A new frontend that never got its slot 0: its rev-NAT id goes back. */
		bpf_map_delete_elem(lb->rnat_fd, &rnat);
		bpf_lb_ids_set(&lb->rnat_ids, rnat, false);
	}
	return r;
}

int bpf_lb_remove_key(struct bpf_lb *lb, const struct skiff_lb4_key *key)
{
	struct skiff_lb4_key k = *key;
	struct skiff_lb4_service v0, slot;
	int r;

	k.backend_slot = 0;
	r = bpf_lb_lookup(lb->svc_fd, &k, &v0);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (bpf_map_delete_elem(lb->svc_fd, &k) < 0)
		return -errno;
	for (uint32_t i = 1; i <= v0.count; i++) {
		k.backend_slot = (uint16_t)i;
		if (bpf_lb_lookup(lb->svc_fd, &k, &slot) < 0)
			continue;
		bpf_map_delete_elem(lb->svc_fd, &k);
		if (bpf_map_delete_elem(lb->be_fd, &slot.backend_id) == 0)
			bpf_lb_ids_set(&lb->be_ids, slot.backend_id, false);
	}
	bpf_map_delete_elem(lb->rnat_fd, &v0.rev_nat_id);
	bpf_lb_ids_set(&lb->rnat_ids, v0.rev_nat_id, false);
	return 0;
}

static int lb_remove(void *dp, uint32_t vip, uint16_t port, uint8_t proto, bool node_port)
{
	struct skiff_lb4_key key = lb_key(vip, port, proto, node_port, 0);

	bpf_lb_stale_purge(dp, false);
	return bpf_lb_remove_key(dp, &key);
}

static int lb_begin(void *dp)
{
	struct bpf_lb *lb = dp;

	memset(lb->seen, 0, SKIFF_LB4_REVNAT_MAX / 8);
	lb->syncing = true;
	return 0;
}

static int lb_commit(void *dp, bool prune)
{
	struct bpf_lb *lb = dp;
	int r = 0;

	bpf_lb_stale_purge(lb, false);
	/* Without a begin() there is no full picture to prune against. */
	if (prune && lb->syncing)
		r = bpf_lb_prune(lb);
	lb->syncing = false;
	return r;
}

const struct lb_ops bpf_lb_ops = {
	.name = "bpf",
	.begin = lb_begin,
	.upsert = lb_upsert,
	.remove = lb_remove,
	.commit = lb_commit,
	.close = bpf_lb_close,
};
