/* The nftables commit: the batch's pending changes (with a prune, also every committed frontend
 * not upserted since begin) become one transaction, the whole table when it is not built yet,
 * else only the difference. Work per commit follows the change, not the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/log.h>

#include "proxy/nft_lb_internal.h"

#define EP_KEY_MAX 24

struct change {
	char key[NFT_FE_KEY_MAX];
	struct nft_fe *old, *new_fe; /* NULL: none (an add, a removal) */
};

struct changes {
	struct nft_lb *lb;
	struct change *c;
	size_t n, cap;
	int error;
};

/* Endpoints whose chain a commit creates (refs came from 0) or deletes (refs went to 0). */
struct ep_list {
	struct nft_ep **v;
	size_t n, cap;
};

static void ep_key(char buf[EP_KEY_MAX], const struct lb_backend *b)
{
	snprintf(buf, EP_KEY_MAX, "%08x:%u", b->addr, b->port);
}

static bool fe_same(const struct nft_fe *a, const struct nft_fe *b)
{
	return a->s.affinity_timeout == b->s.affinity_timeout && a->s.n_backends == b->s.n_backends &&
	       strcmp(a->chain, b->chain) == 0 && memcmp(a->be, b->be, a->s.n_backends * sizeof(*a->be)) == 0;
}

static void change_add(struct changes *cs, const char *key, struct nft_fe *old, struct nft_fe *new_fe)
{
	if (!cs->error && cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 64;
		struct change *c = realloc(cs->c, cap * sizeof(*c));

		if (c) {
			cs->c = c;
			cs->cap = cap;
		} else
			cs->error = -ENOMEM;
	}
	if (cs->error) {
		nft_fe_free(new_fe);
		return;
	}
	snprintf(cs->c[cs->n].key, NFT_FE_KEY_MAX, "%s", key);
	cs->c[cs->n].old = old;
	cs->c[cs->n++].new_fe = new_fe;
}

/* strmap_foreach over cur: a prune drops what the batch did not upsert (nor remove). */
static void from_prune(const char *key, void *value, void *arg)
{
	struct changes *cs = arg;

	if (!strmap_get(&cs->lb->pend, key))
		change_add(cs, key, value, NULL);
}

/* strmap_foreach over pend: each change against cur; takes the pending frontend. */
static void from_pend(const char *key, void *value, void *arg)
{
	struct changes *cs = arg;
	struct nft_fe *old = strmap_get(&cs->lb->cur, key), *new_fe = value == NFT_FE_REMOVED ? NULL : value;

	if (!old && !new_fe)
		return;
	if (old && new_fe && fe_same(old, new_fe)) {
		nft_fe_free(new_fe);
		return;
	}
	change_add(cs, key, old, new_fe);
}

static int ep_push(struct ep_list *l, struct nft_ep *ep)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct nft_ep **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ep;
	return 0;
}

static int ep_ref(struct nft_lb *lb, const struct lb_backend *b, struct ep_list *add)
{
	char key[EP_KEY_MAX];
	struct nft_ep *ep;

	ep_key(key, b);
	ep = strmap_get(&lb->eps, key);
	if (!ep) {
		ep = calloc(1, sizeof(*ep));
		if (!ep || strmap_put(&lb->eps, key, ep, NULL) < 0) {
			free(ep);
			return -ENOMEM;
		}
		ep->b = *b;
	}
	return ep->refs++ == 0 && add ? ep_push(add, ep) : 0;
}

static int ep_unref(struct nft_lb *lb, const struct lb_backend *b, struct ep_list *del)
{
	char key[EP_KEY_MAX];
	struct nft_ep *ep;

	ep_key(key, b);
	ep = strmap_get(&lb->eps, key);
	if (!ep || ep->refs == 0)
		return -EUCLEAN; /* the counts lost track of cur */
	return --ep->refs == 0 ? ep_push(del, ep) : 0;
}

/* New frontends' backends counted before old ones are dropped: an endpoint moving between
 * frontends keeps its chain. */
static int eps_count(struct nft_lb *lb, const struct changes *cs, struct ep_list *add, struct ep_list *del)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < cs->n; i++)
		for (size_t j = 0; r == 0 && cs->c[i].new_fe && j < cs->c[i].new_fe->s.n_backends; j++)
			r = ep_ref(lb, &cs->c[i].new_fe->be[j], add);
	for (size_t i = 0; r == 0 && i < cs->n; i++)
		for (size_t j = 0; r == 0 && cs->c[i].old && j < cs->c[i].old->s.n_backends; j++)
			r = ep_unref(lb, &cs->c[i].old->be[j], del);
	return r;
}

static void ep_free_value(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
}

void nft_lb_eps_clear(struct nft_lb *lb)
{
	strmap_foreach(&lb->eps, ep_free_value, NULL);
	strmap_clear(&lb->eps);
}

static void recount_one(const char *key, void *value, void *arg)
{
	struct nft_fe *fe = value;
	struct nft_lb *lb = arg;

	(void)key;
	for (size_t j = 0; j < fe->s.n_backends; j++)
		if (ep_ref(lb, &fe->be[j], NULL) < 0)
			lb->built = false; /* counts short of cur: only a rebuild can be trusted */
}

/* After a failed commit: the counts again from cur. */
static void eps_recount(struct nft_lb *lb)
{
	nft_lb_eps_clear(lb);
	strmap_foreach(&lb->cur, recount_one, lb);
}

/* Each change into cur (the full write reads cur); undone by cur_revert. */
static int cur_apply(struct nft_lb *lb, const struct changes *cs, size_t *done)
{
	for (*done = 0; *done < cs->n; ++*done) {
		const struct change *c = &cs->c[*done];

		if (!c->new_fe)
			strmap_remove(&lb->cur, c->key);
		else if (strmap_put(&lb->cur, c->key, c->new_fe, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void cur_revert(struct nft_lb *lb, const struct changes *cs, size_t done)
{
	while (done--) {
		const struct change *c = &cs->c[done];

		if (!c->old)
			strmap_remove(&lb->cur, c->key);
		else if (strmap_put(&lb->cur, c->key, c->old, NULL) < 0) {
			/* Out of memory: cur goes short of one (its entry named the new one), a rebuild follows. */
			strmap_remove(&lb->cur, c->key);
			nft_fe_free(c->old);
			lb->built = false;
		}
	}
}

static int ep_cmp(const void *a, const void *b)
{
	const struct nft_ep *x = *(struct nft_ep *const *)a, *y = *(struct nft_ep *const *)b;

	if (x->b.addr != y->b.addr)
		return ntohl(x->b.addr) < ntohl(y->b.addr) ? -1 : 1;
	return (int)x->b.port - (int)y->b.port;
}

static int fe_cmp(const void *a, const void *b)
{
	return strcmp((*(struct nft_fe *const *)a)->chain, (*(struct nft_fe *const *)b)->chain);
}

struct gather {
	void **v;
	size_t n;
};

static void gather_one(const char *key, void *value, void *arg)
{
	struct gather *g = arg;

	(void)key;
	g->v[g->n++] = value;
}

/* A map's values, sorted (nft list then shows the chains in that order). */
static void **gather(const struct strmap *m, int (*cmp)(const void *, const void *), size_t *n)
{
	struct gather g = { .v = malloc((m->n ? m->n : 1) * sizeof(void *)) };

	if (!g.v)
		return NULL;
	strmap_foreach(m, gather_one, &g);
	qsort(g.v, g.n, sizeof(void *), cmp);
	*n = g.n;
	return g.v;
}

/* The whole table from cur (whatever table ip skiff held is replaced in the same batch). */
static int write_full(struct nft_lb *lb, struct nft_tx *tx)
{
	size_t n_eps = 0, n_fes = 0;
	struct nft_ep **eps = (struct nft_ep **)gather(&lb->eps, ep_cmp, &n_eps);
	struct nft_fe **fes = (struct nft_fe **)gather(&lb->cur, fe_cmp, &n_fes);
	int r = eps && fes ? 0 : -ENOMEM;

	if (r == 0) {
		nft_tx_base(tx, lb->external_only, lb->svc_net, lb->svc_mask);
		for (size_t i = 0; i < n_eps; i++)
			if (eps[i]->refs)
				nft_tx_ep_add(tx, &eps[i]->b);
		for (size_t i = 0; i < n_fes; i++)
			nft_tx_fe_add(tx, fes[i], lb->external_only);
	}
	free(eps);
	free(fes);
	return r;
}

/* New endpoint chains first, frontends' deletions before their additions (a Service whose VIP
 * changed keeps its chain name), unused endpoint chains last: no rule names a missing chain. */
static void write_diff(struct nft_lb *lb, struct nft_tx *tx, const struct changes *cs, const struct ep_list *add,
		       const struct ep_list *del)
{
	for (size_t i = 0; i < add->n; i++)
		nft_tx_ep_add(tx, &add->v[i]->b);
	for (size_t i = 0; i < cs->n; i++) {
		const struct change *c = &cs->c[i];

		if (c->old && (!c->new_fe || strcmp(c->old->chain, c->new_fe->chain) != 0))
			nft_tx_fe_del(tx, c->old, lb->external_only);
	}
	for (size_t i = 0; i < cs->n; i++) {
		const struct change *c = &cs->c[i];

		if (c->new_fe && (!c->old || strcmp(c->old->chain, c->new_fe->chain) != 0))
			nft_tx_fe_add(tx, c->new_fe, lb->external_only);
		else if (c->new_fe)
			nft_tx_fe_change(tx, c->old, c->new_fe, lb->external_only);
	}
	for (size_t i = 0; i < del->n; i++)
		nft_tx_ep_del(tx, &del->v[i]->b);
}

/* The changes of the batch, pend emptied (its frontends now belong to cs). */
static int changes_collect(struct nft_lb *lb, bool prune, struct changes *cs)
{
	*cs = (struct changes){ .lb = lb };
	if (prune)
		strmap_foreach(&lb->cur, from_prune, cs);
	strmap_foreach(&lb->pend, from_pend, cs);
	strmap_clear(&lb->pend);
	lb->in_batch = false;
	return cs->error;
}

/* The model after the kernel's verdict: the new frontends stay in cur (r == 0) or go. */
static void settle(struct nft_lb *lb, struct changes *cs, size_t applied, const struct ep_list *del, int r)
{
	for (size_t i = 0; i < cs->n; i++)
		nft_fe_free(r == 0 ? cs->c[i].old : cs->c[i].new_fe);
	if (r == 0) {
		char key[EP_KEY_MAX];

		for (size_t i = 0; i < del->n; i++) {
			ep_key(key, &del->v[i]->b);
			free(strmap_remove(&lb->eps, key));
		}
		lb->built = true;
		return;
	}
	lb->built = false; /* the next commit rebuilds the table from cur */
	cur_revert(lb, cs, applied);
	eps_recount(lb);
}

int nft_lb_commit(void *dp, bool prune)
{
	struct nft_lb *lb = dp;
	struct ep_list add = { 0 }, del = { 0 };
	struct changes cs;
	size_t applied = 0;
	struct nft_tx tx = { 0 };
	int r;

	if (!lb->in_batch)
		return 0;
	r = changes_collect(lb, prune, &cs) ?: eps_count(lb, &cs, &add, &del) ?: cur_apply(lb, &cs, &applied) ?:
	    nft_tx_begin(&tx);
	if (r == 0 && !lb->built)
		r = write_full(lb, &tx);
	else if (r == 0)
		write_diff(lb, &tx, &cs, &add, &del);
	if (r == 0)
		r = nft_tx_commit(&tx);
	else
		nft_tx_free(&tx);
	settle(lb, &cs, applied, &del, r);
	free(cs.c);
	free(add.v);
	free(del.v);
	return r;
}
