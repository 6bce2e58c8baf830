/* One nftables transaction: libnftnl builds the messages into its paged batch, libmnl carries
 * it as one datagram. Only the last message asks for an ack: the kernel reports every failing
 * message anyway and delivers all verdicts in order, so that ack closes the batch's replies
 * (an ack per message overflowed the receive buffer at tens of thousands of messages). */
#include "proxy/nft_batch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#define RCVBUF_BYTES (4 << 20)
#define REPLY_TIMEOUT_S 10
/* Pages of 1 MiB, room for a message of up to 1 MiB past a page's end: a batch of 100,000
 * Services (tens of MB) fits in well under UIO_MAXIOV pages (sendmsg fails with EMSGSIZE past
 * 1,024, which capped batches at a few thousand Services with the 8 KiB pages). */
#define PAGE_BYTES (1u << 20)
#define PAGE_OVERRUN_BYTES (1u << 20)

int nft_tx_begin(struct nft_tx *tx)
{
	*tx = (struct nft_tx){ .seq = (uint32_t)time(NULL), .next_set_id = 1 };
	tx->b = nftnl_batch_alloc(PAGE_BYTES, PAGE_OVERRUN_BYTES);
	if (!tx->b)
		return -ENOMEM;
	tx->first_seq = tx->seq;
	nftnl_batch_begin(nftnl_batch_buffer(tx->b), tx->seq++);
	if (nftnl_batch_update(tx->b) < 0) {
		nft_tx_free(tx);
		return -ENOMEM;
	}
	return 0;
}

void nft_tx_free(struct nft_tx *tx)
{
	if (tx->b)
		nftnl_batch_free(tx->b);
	tx->b = NULL;
}

static struct nlmsghdr *msg_start(struct nft_tx *tx, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	if (tx->error < 0)
		return NULL;
	tx->msgs++;
	nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(tx->b), type, NFPROTO_IPV4, flags, tx->seq++);
	return nlh;
}

static void msg_end(struct nft_tx *tx)
{
	if (nftnl_batch_update(tx->b) < 0 && tx->error == 0)
		tx->error = -ENOMEM;
}

void nft_tx_table(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_table *t)
{
	struct nlmsghdr *nlh = msg_start(tx, type, flags);

	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		msg_end(tx);
	}
}

void nft_tx_chain(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_chain *c)
{
	struct nlmsghdr *nlh = msg_start(tx, type, flags);

	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		msg_end(tx);
	}
}

void nft_tx_rule(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = msg_start(tx, type, flags);

	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *)r);
		msg_end(tx);
	}
}

void nft_tx_set(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_set *s)
{
	struct nlmsghdr *nlh = msg_start(tx, type, flags);

	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *)s);
		msg_end(tx);
	}
}

void nft_tx_elems(struct nft_tx *tx, uint16_t type, uint16_t flags, const struct nftnl_set *s)
{
	struct nlmsghdr *nlh = msg_start(tx, type, flags);

	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, (struct nftnl_set *)s);
		msg_end(tx);
	}
}

static struct mnl_socket *socket_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int one = 1, rcvbuf = RCVBUF_BYTES;
	struct timeval tv = { REPLY_TIMEOUT_S, 0 };

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = errno;

		mnl_socket_close(nl);
		errno = r;
		return NULL;
	}
	/* Acks without the request echoed, room for one per message, and no endless wait. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return nl;
}

/* NLM_F_ACK on the last message before BATCH_END (found in the pages: a message that
 * overflowed its page was moved when it was queued). */
static void ack_last(struct iovec *iov, int n)
{
	struct nlmsghdr *prev = NULL;

	for (int i = 0; i < n; i++) {
		int len = (int)iov[i].iov_len;

		for (struct nlmsghdr *nlh = iov[i].iov_base; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type == NFNL_MSG_BATCH_END && prev)
				prev->nlmsg_flags |= NLM_F_ACK;
			prev = nlh;
		}
	}
}

static int send_batch(struct mnl_socket *nl, struct nftnl_batch *b)
{
	int n = nftnl_batch_iovec_len(b);
	_cleanup_free_ struct iovec *iov = calloc(n, sizeof(*iov));
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	size_t total = 0;
	int sndbuf;

	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(b, iov, n);
	ack_last(iov, n);
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* The kernel takes a batch as one datagram: the send buffer must hold all of it. */
	sndbuf = (int)total + 65536;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = iov, .msg_iovlen = n };
	return sendmsg(mnl_socket_get_fd(nl), &msg, 0) < 0 ? -errno : 0;
}

/* Reads the batch's replies up to the ack of its last message (seq last), or an error about the
 * batch as a whole (seq first: BATCH_BEGIN); returns the first error. */
static int read_acks(struct mnl_socket *nl, uint32_t first, uint32_t last)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int first_err = 0;

	for (;;) {
		int n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_seq < first || nlh->nlmsg_seq > last || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (e->error < 0 && first_err == 0) {
				first_err = e->error;
				log_debug("nftables batch: message %u of %u failed: %s", nlh->nlmsg_seq - first,
					  last - first, strerror(-e->error));
			}
			if (nlh->nlmsg_seq == last || nlh->nlmsg_seq == first)
				return first_err;
		}
	}
}

int nft_tx_commit(struct nft_tx *tx)
{
	struct mnl_socket *nl = NULL;
	int r = tx->error;

	if (r < 0 || tx->msgs == 0)
		goto out;
	nftnl_batch_end(nftnl_batch_buffer(tx->b), tx->seq++);
	if (nftnl_batch_update(tx->b) < 0) {
		r = -ENOMEM;
		goto out;
	}
	nl = socket_open();
	if (!nl) {
		r = -errno;
		goto out;
	}
	r = send_batch(nl, tx->b);
	if (r == 0)
		r = read_acks(nl, tx->first_seq, tx->seq - 2);
out:
	if (nl)
		mnl_socket_close(nl);
	nft_tx_free(tx);
	return r;
}
