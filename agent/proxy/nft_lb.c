/* The nftables data path's model: the frontends as last committed and the pending set a batch
 * builds up; commit diffs the two and writes only the difference (a prune rebuilds the table,
 * still in one atomic batch). */
#include "proxy/nft_lb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/log.h>

#include "proxy/nft_lb_internal.h"

struct nft_lb {
	bool external_only;
	uint32_t svc_net, svc_mask; /* the Service range, network order; mask 0: none */
	bool built;    /* the table holds cur (a first commit rebuilds it) */
	bool in_batch; /* next is live */
	struct nft_fe *cur, *next;
	size_t n_cur, n_next;
};

struct nft_lb *nft_lb_new(bool external_only)
{
	struct nft_lb *lb = calloc(1, sizeof(*lb));

	if (lb)
		lb->external_only = external_only;
	return lb;
}

int nft_lb_set_service_cidr(struct nft_lb *lb, const char *cidr)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr a;
	unsigned prefix;
	int n = 0;

	if (!cidr || !*cidr) {
		lb->svc_mask = 0;
		return 0;
	}
	if (sscanf(cidr, "%15[0-9.]/%u%n", addr, &prefix, &n) != 2 || cidr[n] || prefix < 1 || prefix > 32 ||
	    inet_pton(AF_INET, addr, &a) != 1)
		return -EINVAL;
	lb->svc_mask = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	lb->svc_net = a.s_addr & lb->svc_mask;
	return 0;
}

static void fe_done(struct nft_fe *fe)
{
	free(fe->be);
	free(fe->name);
	free(fe->chain);
}

static void fes_free(struct nft_fe *fes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fe_done(&fes[i]);
	free(fes);
}

/* svc-<ns>-<name>-<port> from "ns/name:port" (np- for a NodePort). */
static char *chain_name(const struct lb_service *s)
{
	const char *prefix = s->node_port ? "np" : "svc";
	char addr[INET_ADDRSTRLEN], *out = NULL;

	if (s->name) {
		if (asprintf(&out, "%s-%s", prefix, s->name) < 0)
			return NULL;
		for (char *p = out; *p; p++)
			if (*p == '/' || *p == ':')
				*p = '-';
		return out;
	}
	inet_ntop(AF_INET, &s->vip, addr, sizeof(addr));
	if (asprintf(&out, "%s-%s-%u-%u", prefix, addr, s->port, s->proto) < 0)
		return NULL;
	return out;
}

static int fe_copy(struct nft_fe *dst, const struct lb_service *s, bool upserted)
{
	struct nft_fe fe = { .s = *s, .upserted = upserted };

	fe.be = malloc((s->n_backends ? s->n_backends : 1) * sizeof(*fe.be));
	fe.name = s->name ? strdup(s->name) : NULL;
	fe.chain = chain_name(s);
	if (!fe.be || (s->name && !fe.name) || !fe.chain) {
		fe_done(&fe);
		return -ENOMEM;
	}
	if (s->n_backends)
		memcpy(fe.be, s->backends, s->n_backends * sizeof(*fe.be));
	fe.s.backends = fe.be;
	fe.s.name = fe.name;
	*dst = fe;
	return 0;
}

static bool fe_is(const struct nft_fe *fe, uint32_t vip, uint16_t port, uint8_t proto, bool node_port)
{
	return fe->s.node_port == node_port && fe->s.port == port && fe->s.proto == proto &&
	       (node_port || fe->s.vip == vip);
}

static struct nft_fe *fe_find(struct nft_fe *fes, size_t n, const struct lb_service *s)
{
	for (size_t i = 0; i < n; i++)
		if (fe_is(&fes[i], s->vip, s->port, s->proto, s->node_port))
			return &fes[i];
	return NULL;
}

static bool fe_same(const struct nft_fe *a, const struct nft_fe *b)
{
	return a->s.affinity_timeout == b->s.affinity_timeout && a->s.n_backends == b->s.n_backends &&
	       strcmp(a->chain, b->chain) == 0 &&
	       memcmp(a->be, b->be, a->s.n_backends * sizeof(*a->be)) == 0;
}

static int lb_begin(void *dp)
{
	struct nft_lb *lb = dp;

	if (lb->in_batch)
		fes_free(lb->next, lb->n_next);
	lb->in_batch = false;
	lb->next = calloc(lb->n_cur + 1, sizeof(*lb->next));
	if (!lb->next)
		return -ENOMEM;
	for (lb->n_next = 0; lb->n_next < lb->n_cur; lb->n_next++)
		if (fe_copy(&lb->next[lb->n_next], &lb->cur[lb->n_next].s, false) < 0) {
			fes_free(lb->next, lb->n_next);
			return -ENOMEM;
		}
	lb->in_batch = true;
	return 0;
}

static int lb_commit(void *dp, bool prune);

static int lb_upsert(void *dp, const struct lb_service *svc)
{
	struct nft_lb *lb = dp;
	struct nft_fe *fe, *grown;
	int r;

	if (lb->external_only && !svc->node_port)
		return 0;
	if (!lb->in_batch)
		return lb_begin(dp) ?: lb_upsert(dp, svc) ?: lb_commit(dp, false);
	fe = fe_find(lb->next, lb->n_next, svc);
	if (fe) {
		struct nft_fe copy;

		r = fe_copy(&copy, svc, true);
		if (r < 0)
			return r;
		fe_done(fe);
		*fe = copy;
		return 0;
	}
	grown = realloc(lb->next, (lb->n_next + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	lb->next = grown;
	r = fe_copy(&lb->next[lb->n_next], svc, true);
	if (r == 0)
		lb->n_next++;
	return r;
}

static int lb_remove(void *dp, uint32_t vip, uint16_t port, uint8_t proto, bool node_port)
{
	struct nft_lb *lb = dp;

	if (!lb->in_batch)
		return lb_begin(dp) ?: lb_remove(dp, vip, port, proto, node_port) ?: lb_commit(dp, false);
	for (size_t i = 0; i < lb->n_next; i++)
		if (fe_is(&lb->next[i], vip, port, proto, node_port)) {
			fe_done(&lb->next[i]);
			lb->next[i] = lb->next[--lb->n_next];
			return 0;
		}
	return 0;
}

static int backend_cmp(const void *a, const void *b)
{
	const struct lb_backend *x = a, *y = b;

	if (x->addr != y->addr)
		return ntohl(x->addr) < ntohl(y->addr) ? -1 : 1;
	return (int)x->port - (int)y->port;
}

/* Every endpoint the frontends use, sorted and unique (each has one DNAT chain). */
static int collect_eps(const struct nft_fe *fes, size_t n, struct lb_backend **ret, size_t *ret_n)
{
	size_t total = 0, k = 0;
	struct lb_backend *all;

	for (size_t i = 0; i < n; i++)
		total += fes[i].s.n_backends;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < fes[i].s.n_backends; j++)
			all[k++] = fes[i].be[j];
	qsort(all, k, sizeof(*all), backend_cmp);
	total = 0;
	for (size_t i = 0; i < k; i++)
		if (total == 0 || backend_cmp(&all[total - 1], &all[i]) != 0)
			all[total++] = all[i];
	*ret = all;
	*ret_n = total;
	return 0;
}

/* Endpoint chains in a but not in b go through fn (both sorted). */
static void eps_minus(struct nft_tx *tx, const struct lb_backend *a, size_t na, const struct lb_backend *b,
		      size_t nb, void (*fn)(struct nft_tx *, const struct lb_backend *))
{
	size_t j = 0;

	for (size_t i = 0; i < na; i++) {
		while (j < nb && backend_cmp(&b[j], &a[i]) < 0)
			j++;
		if (j == nb || backend_cmp(&b[j], &a[i]) != 0)
			fn(tx, &a[i]);
	}
}

static void write_full(struct nft_lb *lb, struct nft_tx *tx, const struct lb_backend *eps, size_t n_eps)
{
	nft_tx_base(tx, lb->external_only, lb->svc_net, lb->svc_mask);
	for (size_t i = 0; i < n_eps; i++)
		nft_tx_ep_add(tx, &eps[i]);
	for (size_t i = 0; i < lb->n_next; i++)
		nft_tx_fe_add(tx, &lb->next[i], lb->external_only);
}

/* New endpoint chains first and unused ones last, so no rule ever names a missing chain. */
static void write_diff(struct nft_lb *lb, struct nft_tx *tx, const struct lb_backend *old_eps, size_t n_old,
		       const struct lb_backend *new_eps, size_t n_new)
{
	eps_minus(tx, new_eps, n_new, old_eps, n_old, nft_tx_ep_add);
	for (size_t i = 0; i < lb->n_cur; i++)
		if (!fe_find(lb->next, lb->n_next, &lb->cur[i].s))
			nft_tx_fe_del(tx, &lb->cur[i], lb->external_only);
	for (size_t i = 0; i < lb->n_next; i++) {
		struct nft_fe *old = fe_find(lb->cur, lb->n_cur, &lb->next[i].s);

		if (!old)
			nft_tx_fe_add(tx, &lb->next[i], lb->external_only);
		else if (strcmp(old->chain, lb->next[i].chain) != 0) {
			nft_tx_fe_del(tx, old, lb->external_only);
			nft_tx_fe_add(tx, &lb->next[i], lb->external_only);
		} else if (!fe_same(old, &lb->next[i]))
			nft_tx_fe_change(tx, old, &lb->next[i], lb->external_only);
	}
	eps_minus(tx, old_eps, n_old, new_eps, n_new, nft_tx_ep_del);
}

static int lb_commit(void *dp, bool prune)
{
	struct nft_lb *lb = dp;
	struct lb_backend *old_eps = NULL, *new_eps = NULL;
	size_t n_old = 0, n_new = 0;
	struct nft_tx tx;
	int r;

	if (!lb->in_batch)
		return 0;
	for (size_t i = 0; prune && i < lb->n_next;)
		if (!lb->next[i].upserted) {
			fe_done(&lb->next[i]);
			lb->next[i] = lb->next[--lb->n_next];
		} else
			i++;
	r = collect_eps(lb->cur, lb->n_cur, &old_eps, &n_old) ?: collect_eps(lb->next, lb->n_next, &new_eps, &n_new) ?:
	    nft_tx_begin(&tx);
	if (r < 0)
		goto out;
	if (prune || !lb->built)
		write_full(lb, &tx, new_eps, n_new);
	else
		write_diff(lb, &tx, old_eps, n_old, new_eps, n_new);
	r = nft_tx_commit(&tx);
out:
	free(old_eps);
	free(new_eps);
	if (r == 0) {
		fes_free(lb->cur, lb->n_cur);
		lb->cur = lb->next;
		lb->n_cur = lb->n_next;
		lb->built = true;
	} else {
		fes_free(lb->next, lb->n_next);
		lb->built = false; /* the next commit rebuilds from scratch */
	}
	lb->next = NULL;
	lb->n_next = 0;
	lb->in_batch = false;
	return r;
}

static void lb_close(void *dp)
{
	struct nft_lb *lb = dp;

	if (!lb)
		return;
	fes_free(lb->cur, lb->n_cur);
	if (lb->in_batch)
		fes_free(lb->next, lb->n_next);
	free(lb);
}

const struct lb_ops nft_lb_ops = {
	.name = "nftables",
	.begin = lb_begin,
	.upsert = lb_upsert,
	.remove = lb_remove,
	.commit = lb_commit,
	.close = lb_close,
};

int nft_lb_delete_table(void)
{
	struct nft_tx tx;
	int r = nft_tx_begin(&tx);

	if (r < 0)
		return r;
	nft_tx_table_del(&tx);
	return nft_tx_commit(&tx);
}
