/* Writes the pieces of table ip skiff into one transaction: the base (maps, hook chains), an
 * endpoint's DNAT chain, a frontend's chain with its numgen steps and map element. */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>

#include "proxy/nft_lb_internal.h"
#include "proxy/nft_rules.h"

/* Before DNAT (-100) so a frontend without endpoints is refused, not routed. */
#define PRIO_FILTER (-110)
#define PRIO_DSTNAT (-100)
#define PRIO_AFTER_DSTNAT (-90)
#define PRIO_SRCNAT 100

#define NEW (NLM_F_CREATE)
#define APPEND (NLM_F_CREATE | NLM_F_APPEND)

static void fail(struct nft_tx *tx)
{
	if (tx->error == 0)
		tx->error = -ENOMEM;
}

static void rule(struct nft_tx *tx, struct nftnl_rule *r)
{
	if (!r)
		return fail(tx);
	nft_tx_rule(tx, NFT_MSG_NEWRULE, APPEND, r);
	nftnl_rule_free(r);
}

static void chain(struct nft_tx *tx, uint16_t type, const char *name, int hook, int prio, const char *kind)
{
	struct nftnl_chain *c = nft_chain_build(name, hook, prio, kind);

	if (!c)
		return fail(tx);
	nft_tx_chain(tx, type, type == NFT_MSG_NEWCHAIN ? NEW : 0, c);
	nftnl_chain_free(c);
}

static void vmap(struct nft_tx *tx, const char *name, int nodeports)
{
	struct nftnl_set *s = nft_vmap_build(name, nodeports);

	if (!s)
		return fail(tx);
	nftnl_set_set_u32(s, NFTNL_SET_ID, tx->next_set_id++); /* the kernel wants one on every new set */
	nft_tx_set(tx, NFT_MSG_NEWSET, NEW, s);
	nftnl_set_free(s);
}

static void table(struct nft_tx *tx, uint16_t type)
{
	struct nftnl_table *t = nft_table_build();

	if (!t)
		return fail(tx);
	nft_tx_table(tx, type, type == NFT_MSG_NEWTABLE ? NEW : 0, t);
	nftnl_table_free(t);
}

void nft_tx_table_del(struct nft_tx *tx)
{
	table(tx, NFT_MSG_NEWTABLE);
	table(tx, NFT_MSG_DELTABLE);
}

void nft_tx_base(struct nft_tx *tx, bool external_only, uint32_t svc_net, uint32_t svc_mask)
{
	nft_tx_table_del(tx);
	table(tx, NFT_MSG_NEWTABLE);
	vmap(tx, NFT_LB_MAP_SERVICES, 0);
	vmap(tx, NFT_LB_MAP_NODEPORTS, 1);
	chain(tx, NFT_MSG_NEWCHAIN, NFT_LB_CHAIN_SERVICES, -1, 0, NULL);
	if (!external_only)
		rule(tx, nft_rule_vmap_services(NFT_LB_CHAIN_SERVICES, NFT_LB_MAP_SERVICES));
	rule(tx, nft_rule_vmap_nodeports(NFT_LB_CHAIN_SERVICES, NFT_LB_MAP_NODEPORTS));
	chain(tx, NFT_MSG_NEWCHAIN, "nat-prerouting", NF_INET_PRE_ROUTING, PRIO_DSTNAT, "nat");
	rule(tx, nft_rule_jump("nat-prerouting", NFT_LB_CHAIN_SERVICES));
	chain(tx, NFT_MSG_NEWCHAIN, "nat-postrouting", NF_INET_POST_ROUTING, PRIO_SRCNAT, "nat");
	rule(tx, nft_rule_masquerade("nat-postrouting"));
	chain(tx, NFT_MSG_NEWCHAIN, NFT_LB_CHAIN_REJECT, -1, 0, NULL);
	rule(tx, nft_rule_reject_tcp(NFT_LB_CHAIN_REJECT));
	rule(tx, nft_rule_reject(NFT_LB_CHAIN_REJECT));
	if (svc_mask) {
		/* After DNAT: what still heads for the Service range has no frontend (or no endpoint).
		 * A reset now beats the ICMP of the range's unreachable route, which is rate-limited. */
		chain(tx, NFT_MSG_NEWCHAIN, "filter-unrouted", NF_INET_PRE_ROUTING, PRIO_AFTER_DSTNAT, "filter");
		rule(tx, nft_rule_daddr_in_jump("filter-unrouted", svc_net, svc_mask, NFT_LB_CHAIN_REJECT));
	}
	if (external_only)
		return;
	chain(tx, NFT_MSG_NEWCHAIN, "nat-output", NF_INET_LOCAL_OUT, PRIO_DSTNAT, "nat");
	rule(tx, nft_rule_jump("nat-output", NFT_LB_CHAIN_SERVICES));
	vmap(tx, NFT_LB_MAP_NO_ENDPOINTS, 0);
	/* Prerouting for pods: their packets to a VIP without endpoints would otherwise meet the
	 * Service range's unreachable route (EHOSTUNREACH) before any forward hook. */
	static const struct {
		const char *name;
		int hook;
	} filters[] = {
		{ "filter-prerouting", NF_INET_PRE_ROUTING },
		{ "filter-output", NF_INET_LOCAL_OUT },
	};
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		chain(tx, NFT_MSG_NEWCHAIN, filters[i].name, filters[i].hook, PRIO_FILTER, "filter");
		rule(tx, nft_rule_vmap_services(filters[i].name, NFT_LB_MAP_NO_ENDPOINTS));
	}
}

void nft_ep_chain_name(char buf[NFT_EP_CHAIN_MAX], const struct lb_backend *b)
{
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &b->addr, addr, sizeof(addr));
	snprintf(buf, NFT_EP_CHAIN_MAX, "ep-%s-%u", addr, b->port);
}

void nft_tx_ep_add(struct nft_tx *tx, const struct lb_backend *b)
{
	char name[NFT_EP_CHAIN_MAX];

	nft_ep_chain_name(name, b);
	chain(tx, NFT_MSG_NEWCHAIN, name, -1, 0, NULL);
	rule(tx, nft_rule_hairpin(name, b->addr));
	rule(tx, nft_rule_dnat(name, b->addr, b->port));
}

void nft_tx_ep_del(struct nft_tx *tx, const struct lb_backend *b)
{
	char name[NFT_EP_CHAIN_MAX];

	nft_ep_chain_name(name, b);
	chain(tx, NFT_MSG_DELCHAIN, name, -1, 0, NULL);
}

/* The map a frontend's element lives in, or NULL when it has none. */
static const char *fe_map(const struct nft_fe *fe, bool external_only)
{
	if (fe->s.node_port)
		return fe->s.n_backends ? NFT_LB_MAP_NODEPORTS : NULL;
	if (external_only)
		return NULL;
	return fe->s.n_backends ? NFT_LB_MAP_SERVICES : NFT_LB_MAP_NO_ENDPOINTS;
}

static void element(struct nft_tx *tx, uint16_t type, const struct nft_fe *fe, bool external_only)
{
	const char *map = fe_map(fe, external_only);
	const char *target = fe->s.n_backends ? fe->chain : NFT_LB_CHAIN_REJECT;
	struct nftnl_set *s;

	if (!map)
		return;
	s = nft_vmap_elem_build(map, fe->s.node_port, fe->s.vip, fe->s.proto, fe->s.port, target);
	if (!s)
		return fail(tx);
	nft_tx_elems(tx, type, type == NFT_MSG_NEWSETELEM ? NEW : 0, s);
	nftnl_set_free(s);
}

/* "aff-<frontend chain>-<addr>-<port>": with ClientIP affinity, the set of clients a backend
 * has, and the chain that refreshes it and goes on to the endpoint's DNAT chain. */
static char *aff_name(const struct nft_fe *fe, const struct lb_backend *b)
{
	char ep[NFT_EP_CHAIN_MAX], *out;

	nft_ep_chain_name(ep, b);
	return asprintf(&out, "aff-%s-%s", fe->chain, ep + 3) < 0 ? NULL : out;
}

/* Each backend's client set and its chain: update @set { ip saddr }, goto ep-... */
static void aff_add(struct nft_tx *tx, const struct nft_fe *fe)
{
	for (size_t i = 0; i < fe->s.n_backends; i++) {
		char *name = aff_name(fe, &fe->s.backends[i]), ep[NFT_EP_CHAIN_MAX];
		uint32_t id = tx->next_set_id++;
		struct nftnl_set *set = name ? nft_affinity_set_build(name, id, fe->s.affinity_timeout) : NULL;

		if (!set) {
			free(name);
			return fail(tx);
		}
		nft_tx_set(tx, NFT_MSG_NEWSET, NEW, set);
		nftnl_set_free(set);
		nft_ep_chain_name(ep, &fe->s.backends[i]);
		chain(tx, NFT_MSG_NEWCHAIN, name, -1, 0, NULL);
		rule(tx, nft_rule_affinity_update(name, name, id, fe->s.affinity_timeout));
		rule(tx, nft_rule_goto(name, ep));
		free(name);
	}
}

/* After the frontend's chain is gone (its rules referenced these). */
static void aff_del(struct nft_tx *tx, const struct nft_fe *fe)
{
	for (size_t i = 0; i < fe->s.n_backends; i++) {
		char *name = aff_name(fe, &fe->s.backends[i]);
		struct nftnl_set *set = name ? nft_affinity_set_build(name, 0, 1) : NULL;

		if (!set) {
			free(name);
			return fail(tx);
		}
		chain(tx, NFT_MSG_DELCHAIN, name, -1, 0, NULL);
		nft_tx_set(tx, NFT_MSG_DELSET, 0, set);
		nftnl_set_free(set);
		free(name);
	}
}

/* The chain's rules: (NodePort) mark for masquerade, (affinity) a known client goes back to its
 * backend, then the numgen steps over the endpoint (or affinity) chains. */
static void fe_rules(struct nft_tx *tx, const struct nft_fe *fe)
{
	bool aff = fe->s.affinity_timeout > 0;
	size_t n = fe->s.n_backends;

	if (fe->s.node_port)
		rule(tx, nft_rule_mark(fe->chain));
	for (size_t i = 0; aff && i < n; i++) {
		char *name = aff_name(fe, &fe->s.backends[i]);

		if (!name)
			return fail(tx);
		rule(tx, nft_rule_affinity_match(fe->chain, name, name));
		free(name);
	}
	for (size_t i = 0; i < n; i++) {
		char ep[NFT_EP_CHAIN_MAX], *name = aff ? aff_name(fe, &fe->s.backends[i]) : ep;
		struct nftnl_rule *r;

		if (!name)
			return fail(tx);
		nft_ep_chain_name(ep, &fe->s.backends[i]);
		r = nft_rule_pick(fe->chain, (uint32_t)(n - i), name);
		if (r && i == 0 && fe->s.name)
			nft_rule_comment(r, fe->s.name);
		rule(tx, r);
		if (aff)
			free(name);
	}
}

void nft_tx_fe_add(struct nft_tx *tx, const struct nft_fe *fe, bool external_only)
{
	chain(tx, NFT_MSG_NEWCHAIN, fe->chain, -1, 0, NULL);
	if (fe->s.affinity_timeout)
		aff_add(tx, fe);
	fe_rules(tx, fe);
	element(tx, NFT_MSG_NEWSETELEM, fe, external_only);
}

void nft_tx_fe_change(struct nft_tx *tx, const struct nft_fe *old, const struct nft_fe *new_fe, bool external_only)
{
	struct nftnl_rule *flush = nftnl_rule_alloc();
	bool move = !old->s.n_backends != !new_fe->s.n_backends;

	if (!flush)
		return fail(tx);
	if (old->s.affinity_timeout || new_fe->s.affinity_timeout) {
		/* Affinity sets hang on backends: rebuild the frontend (same batch, still atomic). */
		nftnl_rule_free(flush);
		nft_tx_fe_del(tx, old, external_only);
		nft_tx_fe_add(tx, new_fe, external_only);
		return;
	}
	if (move)
		element(tx, NFT_MSG_DELSETELEM, old, external_only);
	/* A rule without a handle deletes every rule of its chain. */
	nftnl_rule_set_str(flush, NFTNL_RULE_TABLE, NFT_LB_TABLE);
	nftnl_rule_set_str(flush, NFTNL_RULE_CHAIN, old->chain);
	nftnl_rule_set_u32(flush, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nft_tx_rule(tx, NFT_MSG_DELRULE, 0, flush);
	nftnl_rule_free(flush);
	fe_rules(tx, new_fe);
	if (move)
		element(tx, NFT_MSG_NEWSETELEM, new_fe, external_only);
}

void nft_tx_fe_del(struct nft_tx *tx, const struct nft_fe *fe, bool external_only)
{
	element(tx, NFT_MSG_DELSETELEM, fe, external_only);
	chain(tx, NFT_MSG_DELCHAIN, fe->chain, -1, 0, NULL);
	if (fe->s.affinity_timeout)
		aff_del(tx, fe);
}
