/* The objects of table ip skiff built with libnftnl: expressions are composed into the few rule
 * shapes the Service data path needs. Keys of the verdict maps are nft concatenations, each
 * field padded to 32 bits, so `nft list` prints them as ipv4_addr . inet_proto . inet_service. */
#include "proxy/nft_rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <stdbool.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

/* nft's datatype ids, for key types it can print back (src/datatype.h: 6 bits a field). */
#define NFT_TYPE_INTEGER 4
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_INET_SERVICE 13
#define NFT_TYPE_BITS 6
#define CONCAT2(a, b) (((a) << NFT_TYPE_BITS) | (b))
#define CONCAT3(a, b, c) ((CONCAT2(a, b) << NFT_TYPE_BITS) | (c))

struct nftnl_table *nft_table_build(void)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return NULL;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_LB_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	return t;
}

struct nftnl_chain *nft_chain_build(const char *name, int hook, int prio, const char *type)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return NULL;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_LB_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	return c;
}

static struct nftnl_set *set_base(const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_LB_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	return s;
}

struct nftnl_set *nft_vmap_build(const char *name, int nodeports)
{
	struct nftnl_set *s = set_base(name);

	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  nodeports ? CONCAT2(NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE)
				    : CONCAT3(NFT_TYPE_IPADDR, NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, nodeports ? 8 : 12);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	return s;
}

static struct nftnl_set_elem *goto_elem(const void *key, size_t len, const char *chain)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return NULL;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
	nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	return e;
}

struct nftnl_set *nft_vmap_elem_build(const char *map, int nodeports, uint32_t addr, uint8_t proto,
				      uint16_t port, const char *chain)
{
	uint8_t key[12] = { 0 };
	uint16_t nport = htons(port);
	size_t off = nodeports ? 0 : 4;
	struct nftnl_set *s = set_base(map);
	struct nftnl_set_elem *e;

	if (!s)
		return NULL;
	if (!nodeports)
		memcpy(key, &addr, 4);
	key[off] = proto;
	memcpy(key + off + 4, &nport, 2);
	e = goto_elem(key, off + 8, chain);
	if (!e) {
		nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_elem_add(s, e);
	return s;
}

/* Expression steps: each adds one expression to r, or returns -ENOMEM. */
static int add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return add(r, e);
}

static int meta(struct nftnl_rule *r, uint32_t key, uint32_t reg, bool store)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, store ? NFTNL_EXPR_META_SREG : NFTNL_EXPR_META_DREG, reg);
	}
	return add(r, e);
}

static int cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add(r, e);
}

static int lookup(struct nftnl_rule *r, uint32_t sreg, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		if (set_id)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	}
	return add(r, e);
}

/* A set membership test: the rule goes on only when the key is in the set. */
static int lookup_match(struct nftnl_rule *r, uint32_t sreg, const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	}
	return add(r, e);
}

static int imm_data(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	return add(r, e);
}

static int imm_verdict(struct nftnl_rule *r, uint32_t verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
		if (chain)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	return add(r, e);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_LB_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	return r;
}

/* The rule, or NULL (freeing it) when a step failed. */
static struct nftnl_rule *rule_done(struct nftnl_rule *r, int err)
{
	if (r && err < 0) {
		nftnl_rule_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

/* meta l4proto . th dport into the two registers from reg on. */
static int proto_port(struct nftnl_rule *r, uint32_t reg)
{
	return meta(r, NFT_META_L4PROTO, reg, false) ?:
	       payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + 1);
}

struct nftnl_rule *nft_rule_vmap_services(const char *chain, const char *map)
{
	struct nftnl_rule *r = rule_new(chain);

	if (!r)
		return NULL;
	return rule_done(r, payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00) ?:
				    proto_port(r, NFT_REG32_01) ?: lookup(r, NFT_REG32_00, map, 0));
}

static int fib_daddr_local(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("fib");
	uint32_t local = RTN_LOCAL;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG32_00);
	}
	return add(r, e) ?: cmp_eq(r, NFT_REG32_00, &local, sizeof(local));
}

struct nftnl_rule *nft_rule_vmap_nodeports(const char *chain, const char *map)
{
	struct nftnl_rule *r = rule_new(chain);

	if (!r)
		return NULL;
	return rule_done(r, fib_daddr_local(r) ?: proto_port(r, NFT_REG32_00) ?: lookup(r, NFT_REG32_00, map, 0));
}

struct nftnl_rule *nft_rule_jump(const char *chain, const char *target)
{
	struct nftnl_rule *r = rule_new(chain);

	return r ? rule_done(r, imm_verdict(r, NFT_JUMP, target)) : NULL;
}

struct nftnl_rule *nft_rule_goto(const char *chain, const char *target)
{
	struct nftnl_rule *r = rule_new(chain);

	return r ? rule_done(r, imm_verdict(r, NFT_GOTO, target)) : NULL;
}

struct nftnl_rule *nft_rule_mark(const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	uint32_t mark = NFT_LB_MARK;

	if (!r)
		return NULL;
	return rule_done(r, imm_data(r, NFT_REG32_00, &mark, sizeof(mark)) ?: meta(r, NFT_META_MARK, NFT_REG32_00, true));
}

struct nftnl_rule *nft_rule_masquerade(const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	uint32_t mark = NFT_LB_MARK;

	if (!r)
		return NULL;
	return rule_done(r, meta(r, NFT_META_MARK, NFT_REG32_00, false) ?:
				    cmp_eq(r, NFT_REG32_00, &mark, sizeof(mark)) ?: add(r, nftnl_expr_alloc("masq")));
}

struct nftnl_rule *nft_rule_reject(const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	if (e) {
		/* ICMP port unreachable: a TCP connect() gets ECONNREFUSED, a UDP socket its error. */
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, ICMP_PORT_UNREACH);
	}
	if (!r) {
		nftnl_expr_free(e);
		return NULL;
	}
	return rule_done(r, add(r, e));
}

struct nftnl_rule *nft_rule_reject_tcp(const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	struct nftnl_expr *e = nftnl_expr_alloc("reject");
	uint8_t tcp = IPPROTO_TCP;

	if (e)
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
	if (!r) {
		nftnl_expr_free(e);
		return NULL;
	}
	return rule_done(r, meta(r, NFT_META_L4PROTO, NFT_REG32_00, false) ?: cmp_eq(r, NFT_REG32_00, &tcp, 1) ?:
				    add(r, e));
}

static int masked(struct nftnl_rule *r, uint32_t reg, uint32_t mask)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint32_t zero = 0;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	}
	return add(r, e);
}

struct nftnl_rule *nft_rule_daddr_in_jump(const char *chain, uint32_t net, uint32_t mask, const char *target)
{
	struct nftnl_rule *r = rule_new(chain);

	if (!r)
		return NULL;
	return rule_done(r, payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00) ?:
				    masked(r, NFT_REG32_00, mask) ?: cmp_eq(r, NFT_REG32_00, &net, 4) ?:
				    imm_verdict(r, NFT_JUMP, target));
}

struct nftnl_rule *nft_rule_hairpin(const char *chain, uint32_t addr)
{
	struct nftnl_rule *r = rule_new(chain);
	uint32_t mark = NFT_LB_MARK;

	if (!r)
		return NULL;
	return rule_done(r, payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00) ?:
				    cmp_eq(r, NFT_REG32_00, &addr, sizeof(addr)) ?:
				    imm_data(r, NFT_REG32_00, &mark, sizeof(mark)) ?:
				    meta(r, NFT_META_MARK, NFT_REG32_00, true));
}

struct nftnl_rule *nft_rule_dnat(const char *chain, uint32_t addr, uint16_t port)
{
	struct nftnl_rule *r = rule_new(chain);
	uint16_t nport = htons(port);
	struct nftnl_expr *e;
	int err;

	if (!r)
		return NULL;
	err = imm_data(r, NFT_REG32_00, &addr, sizeof(addr)) ?: imm_data(r, NFT_REG32_01, &nport, sizeof(nport));
	if (err == 0) {
		e = nftnl_expr_alloc("nat");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
		}
		err = add(r, e);
	}
	return rule_done(r, err);
}

struct nftnl_rule *nft_rule_pick(const char *chain, uint32_t k, const char *target)
{
	struct nftnl_rule *r = rule_new(chain);
	struct nftnl_expr *e;
	uint32_t zero = 0;

	if (!r)
		return NULL;
	if (k <= 1)
		return rule_done(r, imm_verdict(r, NFT_GOTO, target));
	e = nftnl_expr_alloc("numgen");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG32_00);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, k);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
	}
	return rule_done(r, add(r, e) ?: cmp_eq(r, NFT_REG32_00, &zero, sizeof(zero)) ?:
				    imm_verdict(r, NFT_GOTO, target));
}

struct nftnl_set *nft_affinity_set_build(const char *name, uint32_t set_id, uint32_t timeout_s)
{
	struct nftnl_set *s = set_base(name);

	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, (uint64_t)timeout_s * 1000);
	nftnl_set_set_u32(s, NFTNL_SET_ID, set_id);
	return s;
}

struct nftnl_rule *nft_rule_affinity_match(const char *chain, const char *set, const char *target)
{
	struct nftnl_rule *r = rule_new(chain);

	if (!r)
		return NULL;
	return rule_done(r, payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00) ?:
				    lookup_match(r, NFT_REG32_00, set) ?: imm_verdict(r, NFT_GOTO, target));
}

struct nftnl_rule *nft_rule_affinity_update(const char *chain, const char *set, uint32_t set_id, uint32_t timeout_s)
{
	struct nftnl_rule *r = rule_new(chain);
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG32_00);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
		nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id);
		nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, (uint64_t)timeout_s * 1000);
	}
	if (!r) {
		nftnl_expr_free(e);
		return NULL;
	}
	return rule_done(r, payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00) ?: add(r, e));
}

void nft_rule_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	if (!u)
		return;
	if (nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment))
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}
