/* Between nft_lb.c (the model: frontends as last committed, pending changes), nft_lb_commit.c
 * (the difference written as one transaction) and nft_lb_tx.c (writing a frontend, an endpoint
 * chain or the base table into that transaction). */
#ifndef SKIFF_AGENT_PROXY_NFT_LB_INTERNAL_H
#define SKIFF_AGENT_PROXY_NFT_LB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/lb.h"
#include "proxy/nft_batch.h"
#include "scheduler/strmap.h"

/* A frontend as applied: an lb_service with its own copies, and its chain's name. */
struct nft_fe {
	struct lb_service s;
	struct lb_backend *be; /* s.backends */
	char *name;            /* s.name */
	char *chain;           /* svc-<ns>-<name>-<port> or np-... */
};

/* An endpoint's DNAT chain exists while a committed frontend uses it. */
struct nft_ep {
	struct lb_backend b;
	size_t refs; /* backends of frontends in cur that are this one */
};

struct nft_lb {
	bool external_only;
	uint32_t svc_net, svc_mask; /* the Service range, network order; mask 0: none */
	bool built;    /* the table holds cur (a first commit rebuilds it) */
	bool in_batch; /* pend is live */
	struct strmap cur;  /* frontend key -> struct nft_fe *, as committed */
	struct strmap eps;  /* endpoint key -> struct nft_ep *, the chains cur uses */
	struct strmap pend; /* frontend key -> struct nft_fe * upserted since begin, or NFT_FE_REMOVED */
};

/* "vip/port/proto" (vip hex, network order) or "np/port/proto". */
#define NFT_FE_KEY_MAX 32
void nft_fe_key(char buf[NFT_FE_KEY_MAX], uint32_t vip, uint16_t port, uint8_t proto, bool node_port);
extern struct nft_fe nft_fe_removed;
#define NFT_FE_REMOVED (&nft_fe_removed)
/* Frees fe (NULL and NFT_FE_REMOVED: nothing); the _value form is a strmap_foreach callback. */
void nft_fe_free(struct nft_fe *fe);
void nft_fe_free_value(const char *key, void *value, void *arg);
/* Forgets the pending changes; the batch ends. */
void nft_lb_pend_drop(struct nft_lb *lb);
void nft_lb_eps_clear(struct nft_lb *lb);
/* lb_ops.commit (nft_lb_commit.c). */
int nft_lb_commit(void *dp, bool prune);

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
