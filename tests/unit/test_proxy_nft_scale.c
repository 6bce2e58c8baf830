/* nft_lb at scale, for real in a network namespace of the test's own: 20,000 Services in one
 * transaction (larger than a netlink batch of 8 KiB pages could carry), the kernel's generation
 * counter proving one commit a sync, a failed transaction leaving the table as it was. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <skiff/log.h>

#include "proxy/nft_batch.h"
#include "proxy/nft_lb.h"
#include "proxy/nft_rules.h"

#define N_SVC 20000
#define VIP_BASE 0x0a600001u /* Service i: 10.96.0.1 + i */
#define OLD_BATCH_MAX (1024u * 8192u) /* UIO_MAXIOV pages of 8 KiB: the old EMSGSIZE */

static void netns_setup(void)
{
	log_set_level(SKIFF_LOG_INFO);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s (needs CAP_SYS_ADMIN)", strerror(errno));
	/* Backends on lo; the VIPs routed into a veth, so connect() reaches the output hook. */
	int r = system("ip link set lo up && ip addr add 10.99.0.2/32 dev lo && ip addr add 10.99.0.3/32 dev lo && "
		       "ip link add skv0 type veth peer name skv1 && ip link set skv0 up && ip link set skv1 up && "
		       "ip route add 10.96.0.0/12 dev skv0");
	cr_assert_eq(r, 0, "namespace setup failed (%d)", r);
}

TestSuite(proxy_nft_scale, .init = netns_setup);

/* The ruleset's generation: the kernel adds one per committed transaction. */
static uint32_t genid(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, 1);
	struct nftnl_gen *gen = nftnl_gen_alloc();
	uint32_t id;
	ssize_t n;

	cr_assert(nl && gen);
	cr_assert_eq(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	cr_assert_geq(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), 0);
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	nlh = (struct nlmsghdr *)buf;
	cr_assert_eq(nlh->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN, "GETGEN answered %u",
		     nlh->nlmsg_type);
	cr_assert_eq(nftnl_gen_nlmsg_parse(nlh, gen), 0);
	id = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	mnl_socket_close(nl);
	return id;
}

/* How many times needle occurs in the output of cmd. */
static size_t count_in(const char *cmd, const char *needle)
{
	FILE *p = popen(cmd, "r");
	char *line = NULL;
	size_t size = 0, n = 0;

	cr_assert(p, "popen %s", cmd);
	while (getline(&line, &size, p) >= 0)
		for (char *s = line; (s = strstr(s, needle)); s++)
			n++;
	free(line);
	cr_assert_eq(pclose(p), 0, "`%s` failed", cmd);
	return n;
}

static struct lb_backend backends[2];

static struct lb_service service(uint32_t i, char *name, size_t size)
{
	backends[0] = (struct lb_backend){ inet_addr("10.99.0.2"), 8080 };
	backends[1] = (struct lb_backend){ inet_addr("10.99.0.3"), 8080 };
	snprintf(name, size, "scale/svc-%u:http", i);
	return (struct lb_service){ .vip = htonl(VIP_BASE + i), .port = 80, .proto = IPPROTO_TCP,
				    .n_backends = 1 + i % 2, .backends = backends, .name = name };
}

static void load(void *lb, uint32_t n)
{
	char name[64];

	cr_assert_eq(nft_lb_ops.begin(lb), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct lb_service s = service(i, name, sizeof(name));

		cr_assert_eq(nft_lb_ops.upsert(lb, &s), 0, "upsert %u", i);
	}
	int r = nft_lb_ops.commit(lb, true);

	cr_assert_eq(r, 0, "commit of %u Services: %s", n, strerror(-r));
}

/* connect() to VIP i lands on a backend listening on 8080 (both listeners are given). */
static void assert_reaches(uint32_t i, const int *listeners)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(VIP_BASE + i) };
	struct pollfd p[2] = { { .fd = listeners[0], .events = POLLIN }, { .fd = listeners[1], .events = POLLIN } };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect to Service %u: %s", i, strerror(errno));
	cr_assert_gt(poll(p, 2, 5000), 0, "no backend saw Service %u's connection", i);
	for (int k = 0; k < 2; k++)
		if (p[k].revents & POLLIN)
			close(accept4(listeners[k], NULL, NULL, SOCK_CLOEXEC));
	close(fd);
}

static int listen_on(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8080), .sin_addr.s_addr = inet_addr(addr) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s: %s", addr, strerror(errno));
	cr_assert_eq(listen(fd, 64), 0);
	return fd;
}

Test(proxy_nft_scale, twenty_thousand_services_in_one_transaction_all_reachable, .timeout = 300)
{
	struct nft_lb *lb = nft_lb_new(false);
	int listeners[2] = { listen_on("10.99.0.2"), listen_on("10.99.0.3") };
	uint32_t g0;

	cr_assert(lb);
	g0 = genid();
	load(lb, N_SVC);
	cr_assert_eq(genid(), g0 + 1, "a full sync of %u Services took %u transactions", N_SVC, genid() - g0);
	cr_assert_eq(count_in("nft list map ip skiff services", ": goto svc-scale-svc-"), N_SVC);
	cr_assert_eq(count_in("nft list table ip skiff", "chain svc-scale-svc-"), N_SVC);
	for (uint32_t i = 0; i < N_SVC; i += 997)
		assert_reaches(i, listeners);
	assert_reaches(N_SVC - 1, listeners);

	/* One Service's change at this size: one transaction, and the others keep their rules. */
	char name[64];
	struct lb_service s = service(6, name, sizeof(name));

	s.n_backends = 2; /* was 1 */
	g0 = genid();
	cr_assert_eq(nft_lb_ops.upsert(lb, &s), 0);
	cr_assert_eq(nft_lb_ops.remove(lb, htonl(VIP_BASE + 8), 80, IPPROTO_TCP, false), 0);
	uint32_t g1 = genid();

	cr_assert_eq(g1, g0 + 2, "two changes outside a batch: %u transactions, not one each", g1 - g0);
	cr_assert_eq(count_in("nft list chain ip skiff svc-scale-svc-6-http", "goto ep-"), 2);
	cr_assert_eq(count_in("nft list map ip skiff services", ": goto svc-scale-svc-"), N_SVC - 1);
	assert_reaches(6, listeners);
	nft_lb_ops.close(lb);
	cr_assert_eq(nft_lb_delete_table(), 0);
	close(listeners[0]);
	close(listeners[1]);
}

Test(proxy_nft_scale, a_failed_transaction_changes_nothing_and_the_next_rebuilds)
{
	struct nft_lb *lb = nft_lb_new(false);
	char name[64], bad[300];
	struct lb_service s;
	uint32_t g0;
	int r;

	cr_assert(lb);
	load(lb, 100);
	memset(bad, 'x', sizeof(bad) - 1);
	bad[sizeof(bad) - 1] = '\0'; /* a chain name past NFT_CHAIN_MAXNAMELEN: the kernel refuses it */
	g0 = genid();
	cr_assert_eq(nft_lb_ops.begin(lb), 0);
	s = service(100, name, sizeof(name));
	cr_assert_eq(nft_lb_ops.upsert(lb, &s), 0);
	s = service(101, name, sizeof(name));
	s.name = bad;
	cr_assert_eq(nft_lb_ops.upsert(lb, &s), 0);
	cr_assert_eq(nft_lb_ops.remove(lb, htonl(VIP_BASE + 5), 80, IPPROTO_TCP, false), 0);
	r = nft_lb_ops.commit(lb, false);
	cr_assert_lt(r, 0, "a chain name of %zu bytes was accepted", strlen(bad) + 4);
	cr_assert_eq(genid(), g0, "the failed batch committed something");
	cr_assert_eq(count_in("nft list map ip skiff services", ": goto svc-scale-svc-"), 100,
		     "the failed batch changed the map");
	cr_assert_eq(count_in("nft list table ip skiff", "chain svc-scale-svc-100-http"), 0);

	/* The model forgot the failed changes: the next commit rebuilds the table from it. */
	s = service(100, name, sizeof(name));
	cr_assert_eq(nft_lb_ops.upsert(lb, &s), 0);
	cr_assert_eq(count_in("nft list map ip skiff services", ": goto svc-scale-svc-"), 101);
	cr_assert_eq(count_in("nft list table ip skiff", "chain svc-scale-svc-5-http"), 1,
		     "a removal of the failed batch was applied after all");
	cr_assert_eq(count_in("nft list table ip skiff", "chain ep-10.99.0.3-8080"), 1);
	nft_lb_ops.close(lb);
	cr_assert_eq(nft_lb_delete_table(), 0);
}

/* A batch of chains larger than UIO_MAXIOV pages of 8 KiB commits as one transaction. */
Test(proxy_nft_scale, a_batch_past_the_old_page_limit_commits_whole, .timeout = 300)
{
	struct nft_tx tx;
	struct nftnl_table *t = nft_table_build();
	size_t bytes = 0, chains = 0;
	uint32_t g0 = genid();
	char name[64];

	cr_assert(t);
	cr_assert_eq(nft_tx_begin(&tx), 0);
	nft_tx_table(&tx, NFT_MSG_NEWTABLE, NLM_F_CREATE, t);
	nftnl_table_free(t);
	while (bytes <= OLD_BATCH_MAX + OLD_BATCH_MAX / 4) {
		struct nftnl_chain *c;

		snprintf(name, sizeof(name), "c-%zu-%s", chains++, "padding-to-make-the-message-longer-padding-padding");
		c = nft_chain_build(name, -1, 0, NULL);
		cr_assert(c);
		nft_tx_chain(&tx, NFT_MSG_NEWCHAIN, NLM_F_CREATE, c);
		nftnl_chain_free(c);
		if (chains % 4096 == 0) {
			int n = nftnl_batch_iovec_len(tx.b);
			struct iovec *iov = calloc(n, sizeof(*iov));

			nftnl_batch_iovec(tx.b, iov, n);
			bytes = 0;
			for (int i = 0; i < n; i++)
				bytes += iov[i].iov_len;
			free(iov);
		}
	}
	int r = nft_tx_commit(&tx);

	cr_assert_eq(r, 0, "a batch of %zu bytes (%zu chains): %s", bytes, chains, strerror(-r));
	cr_assert_eq(genid(), g0 + 1);
	cr_assert_eq(count_in("nft list table ip skiff", "chain c-"), chains);
	cr_assert_eq(nft_lb_delete_table(), 0);
}
