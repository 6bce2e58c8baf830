/* Between nft_lb.c (the model: frontends as last committed, pending changes) and nft_lb_tx.c
 * (writing a frontend, an endpoint chain or the base table into one transaction). */
#ifndef SKIFF_AGENT_PROXY_NFT_LB_INTERNAL_H
#define SKIFF_AGENT_PROXY_NFT_LB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/lb.h"
#include "proxy/nft_batch.h"

/* A frontend as applied: an lb_service with its own copies, and its chain's name. */
struct nft_fe {
	struct lb_service s;
	struct lb_backend *be; /* s.backends */
	char *name;            /* s.name */
	char *chain;           /* svc-<ns>-<name>-<port> or np-... */
	bool upserted;         /* since begin (a prune keeps only these) */
};

/* "ep-10.244.1.5-8080" */
#define NFT_EP_CHAIN_MAX 32
void nft_ep_chain_name(char buf[NFT_EP_CHAIN_MAX], const struct lb_backend *b);

/* The base: table (created fresh: any older one is deleted in the same batch), maps, hooks. */
/* svc_mask 0: no Service range (no catch-all reject). */
void nft_tx_base(struct nft_tx *tx, bool external_only, uint32_t svc_net, uint32_t svc_mask);
void nft_tx_ep_add(struct nft_tx *tx, const struct lb_backend *b);
void nft_tx_ep_del(struct nft_tx *tx, const struct lb_backend *b);
/* A frontend's chain, its rules and its map element. */
void nft_tx_fe_add(struct nft_tx *tx, const struct nft_fe *fe, bool external_only);
/* Rewrites old into new (same key): flushes the chain's rules, moves the map element when the
 * frontend gained or lost all its endpoints. */
void nft_tx_fe_change(struct nft_tx *tx, const struct nft_fe *old, const struct nft_fe *new_fe, bool external_only);
void nft_tx_fe_del(struct nft_tx *tx, const struct nft_fe *fe, bool external_only);
/* Table delete (added first, so a missing table is no error). */
void nft_tx_table_del(struct nft_tx *tx);

#endif
