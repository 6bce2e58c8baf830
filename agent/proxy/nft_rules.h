/* Builders of the nftables objects of table ip skiff (libnftnl): the table, its base chains and
 * verdict maps, and the rules of Service frontend and endpoint chains. Pure: no kernel here. */
#ifndef SKIFF_AGENT_PROXY_NFT_RULES_H
#define SKIFF_AGENT_PROXY_NFT_RULES_H

#include <stddef.h>
#include <stdint.h>

struct nftnl_table;
struct nftnl_chain;
struct nftnl_rule;
struct nftnl_set;

#define NFT_LB_TABLE "skiff"
/* Packets that need masquerading on the way out (hairpin to itself, NodePort from outside). */
#define NFT_LB_MARK 0x4000u

/* The verdict maps: VIP . protocol . port, protocol . nodePort, and frontends without endpoints. */
#define NFT_LB_MAP_SERVICES "services"
#define NFT_LB_MAP_NODEPORTS "nodeports"
#define NFT_LB_MAP_NO_ENDPOINTS "no-endpoints"
#define NFT_LB_CHAIN_SERVICES "services"
#define NFT_LB_CHAIN_REJECT "reject-chain"

struct nftnl_table *nft_table_build(void);
/* hook < 0: a regular chain (type, prio ignored); else a base chain of that type ("nat",
 * "filter") at hook NF_INET_* with priority prio. */
struct nftnl_chain *nft_chain_build(const char *name, int hook, int prio, const char *type);
/* A named verdict map; nodeports: keyed by protocol . port, else by VIP . protocol . port. */
struct nftnl_set *nft_vmap_build(const char *name, int nodeports);

/* One element of a verdict map (goto chain), ready for nft_tx_elems. addr 0 with nodeports. */
struct nftnl_set *nft_vmap_elem_build(const char *map, int nodeports, uint32_t addr, uint8_t proto,
				      uint16_t port, const char *chain);

/* ip daddr . meta l4proto . th dport vmap @map */
struct nftnl_rule *nft_rule_vmap_services(const char *chain, const char *map);
/* fib daddr type local meta l4proto . th dport vmap @map */
struct nftnl_rule *nft_rule_vmap_nodeports(const char *chain, const char *map);
struct nftnl_rule *nft_rule_jump(const char *chain, const char *target);
struct nftnl_rule *nft_rule_goto(const char *chain, const char *target);
/* meta mark set NFT_LB_MARK */
struct nftnl_rule *nft_rule_mark(const char *chain);
/* meta mark NFT_LB_MARK masquerade */
struct nftnl_rule *nft_rule_masquerade(const char *chain);
/* TCP: reject with tcp reset (no ICMP rate limit between the client and ECONNREFUSED); other
 * protocols: ICMP port unreachable. */
struct nftnl_rule *nft_rule_reject_tcp(const char *chain);
struct nftnl_rule *nft_rule_reject(const char *chain);
/* ip daddr & mask == net (network order) jump target */
struct nftnl_rule *nft_rule_daddr_in_jump(const char *chain, uint32_t net, uint32_t mask, const char *target);
/* ip saddr addr meta mark set NFT_LB_MARK (a backend reaching its own Service: hairpin) */
struct nftnl_rule *nft_rule_hairpin(const char *chain, uint32_t addr);
/* dnat to addr:port */
struct nftnl_rule *nft_rule_dnat(const char *chain, uint32_t addr, uint16_t port);
/* One step of a uniform pick over n targets without a set (an anonymous set per frontend costs
 * the kernel a walk of every set of the table to name it): step i of n is
 * "numgen random mod (n - i) 0 goto target" (chance 1/(n - i) of what reaches it), the last
 * step (k = 1) a plain goto. */
struct nftnl_rule *nft_rule_pick(const char *chain, uint32_t k, const char *target);
/* ClientIP affinity: a set of client addresses whose entries expire timeout_s after their last
 * update; "ip saddr @set goto chain" before the pick; "update @set { ip saddr }" (set created in
 * the same transaction with set_id) in the chain a pick lands on. */
struct nftnl_set *nft_affinity_set_build(const char *name, uint32_t set_id, uint32_t timeout_s);
struct nftnl_rule *nft_rule_affinity_match(const char *chain, const char *set, const char *target);
struct nftnl_rule *nft_rule_affinity_update(const char *chain, const char *set, uint32_t set_id, uint32_t timeout_s);
/* Sets the rule's comment (nft list shows it). */
void nft_rule_comment(struct nftnl_rule *r, const char *comment);

#endif
