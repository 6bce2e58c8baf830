/* The nftables data path's model: the frontends as last committed and the changes a batch
 * collects, both hashed by frontend key so an upsert or remove costs the same at 100,000
 * Services as at 10; nft_lb_commit.c writes the difference. */
#include "proxy/nft_lb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/nft_lb_internal.h"

struct nft_fe nft_fe_removed;

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

void nft_fe_free(struct nft_fe *fe)
{
	if (!fe || fe == NFT_FE_REMOVED)
		return;
	free(fe->be);
	free(fe->name);
	free(fe->chain);
	free(fe);
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

static struct nft_fe *fe_new(const struct lb_service *s)
{
	struct nft_fe *fe = calloc(1, sizeof(*fe));

	if (!fe)
		return NULL;
	fe->s = *s;
	fe->be = malloc((s->n_backends ? s->n_backends : 1) * sizeof(*fe->be));
	fe->name = s->name ? strdup(s->name) : NULL;
	fe->chain = chain_name(s);
	if (!fe->be || (s->name && !fe->name) || !fe->chain) {
		nft_fe_free(fe);
		return NULL;
	}
	if (s->n_backends)
		memcpy(fe->be, s->backends, s->n_backends * sizeof(*fe->be));
	fe->s.backends = fe->be;
	fe->s.name = fe->name;
	return fe;
}

void nft_fe_key(char buf[NFT_FE_KEY_MAX], uint32_t vip, uint16_t port, uint8_t proto, bool node_port)
{
	if (node_port)
		snprintf(buf, NFT_FE_KEY_MAX, "np/%u/%u", port, proto);
	else
		snprintf(buf, NFT_FE_KEY_MAX, "%08x/%u/%u", vip, port, proto);
}

void nft_fe_free_value(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	nft_fe_free(value);
}

void nft_lb_pend_drop(struct nft_lb *lb)
{
	strmap_foreach(&lb->pend, nft_fe_free_value, NULL);
	strmap_clear(&lb->pend);
	lb->in_batch = false;
}

static int lb_begin(void *dp)
{
	struct nft_lb *lb = dp;

	nft_lb_pend_drop(lb);
	lb->in_batch = true;
	return 0;
}

/* Replaces key's pending change with fe (NFT_FE_REMOVED: a removal); takes fe. */
static int pend_put(struct nft_lb *lb, const char *key, struct nft_fe *fe)
{
	void *old = NULL;
	int r = strmap_put(&lb->pend, key, fe, &old);

	nft_fe_free(r < 0 ? fe : old);
	return r;
}

static int lb_upsert(void *dp, const struct lb_service *svc)
{
	struct nft_lb *lb = dp;
	char key[NFT_FE_KEY_MAX];
	struct nft_fe *fe;

	if (lb->external_only && !svc->node_port)
		return 0;
	if (!lb->in_batch)
		return lb_begin(dp) ?: lb_upsert(dp, svc) ?: nft_lb_commit(dp, false);
	fe = fe_new(svc);
	if (!fe)
		return -ENOMEM;
	nft_fe_key(key, svc->vip, svc->port, svc->proto, svc->node_port);
	return pend_put(lb, key, fe);
}

static int lb_remove(void *dp, uint32_t vip, uint16_t port, uint8_t proto, bool node_port)
{
	struct nft_lb *lb = dp;
	char key[NFT_FE_KEY_MAX];

	if (!lb->in_batch)
		return lb_begin(dp) ?: lb_remove(dp, vip, port, proto, node_port) ?: nft_lb_commit(dp, false);
	nft_fe_key(key, vip, port, proto, node_port);
	return pend_put(lb, key, NFT_FE_REMOVED);
}

static void lb_close(void *dp)
{
	struct nft_lb *lb = dp;

	if (!lb)
		return;
	nft_lb_pend_drop(lb);
	strmap_foreach(&lb->cur, nft_fe_free_value, NULL);
	strmap_clear(&lb->cur);
	nft_lb_eps_clear(lb);
	free(lb);
}

const struct lb_ops nft_lb_ops = {
	.name = "nftables",
	.begin = lb_begin,
	.upsert = lb_upsert,
	.remove = lb_remove,
	.commit = nft_lb_commit,
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
