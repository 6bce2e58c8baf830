/* One nftables transaction over NETLINK_NETFILTER (libnftnl's paged batch + libmnl): objects are
 * queued, then sent as one BEGIN..END batch that the kernel applies all or nothing. */
#ifndef SKIFF_AGENT_PROXY_NFT_BATCH_H
#define SKIFF_AGENT_PROXY_NFT_BATCH_H

#include <stdint.h>

struct nftnl_table;
struct nftnl_chain;
struct nftnl_rule;
struct nftnl_set;
struct nftnl_batch;

struct nft_tx {
	struct nftnl_batch *b;
	uint32_t seq, first_seq;
	uint32_t next_set_id; /* for anonymous sets created in this transaction */
	unsigned msgs;
	int error; /* the first queueing failure; nft_tx_commit returns it */
};

int nft_tx_begin(struct nft_tx *tx);
void nft_tx_free(struct nft_tx *tx);

/* Each queues one message (type NFT_MSG_NEW* / NFT_MSG_DEL*, flags e.g. NLM_F_CREATE) built
 * from the object; the object stays the caller's. Errors are kept in tx->error. */
void nft_tx_table(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_table *t);
void nft_tx_chain(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_chain *c);
void nft_tx_rule(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_rule *r);
void nft_tx_set(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_set *s);
/* NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM with the elements of s. */
void nft_tx_elems(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_set *s);

/* Sends the batch (in the caller's network namespace) and waits for the kernel's verdict: 0, or
 * the -errno of the first message that failed (the whole batch is then undone). Frees tx. */
int nft_tx_commit(struct nft_tx *tx);

#endif
