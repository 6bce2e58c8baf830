/* The nftables Service data path for real: each test unshares its own network namespace (the
 * worker process's; it vanishes with it), commits lb_service sets through nft_lb_ops, reads the
 * table back with `nft list` and sends TCP/UDP to VIPs that must land on local backends. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skiff/log.h>

#include "proxy/nft_lb.h"

static void sh(const char *cmd)
{
	int r = system(cmd);

	cr_assert_eq(r, 0, "`%s` failed (%d)", cmd, r);
}

/* A namespace with lo up, backends 10.99.0.2-4 on lo, and a veth whose far side routes the VIPs
 * somewhere, so connect() reaches the output hook instead of failing on a missing route. */
static void netns_setup(void)
{
	log_set_level(SKIFF_LOG_DEBUG);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s (needs CAP_SYS_ADMIN)", strerror(errno));
	sh("ip link set lo up && ip addr add 10.99.0.2/32 dev lo && ip addr add 10.99.0.3/32 dev lo && "
	   "ip addr add 10.99.0.4/32 dev lo && ip link add skv0 type veth peer name skv1 && "
	   "ip addr add 10.98.0.1/24 dev skv0 && ip link set skv0 up && ip link set skv1 up && "
	   "ip route add default via 10.98.0.2 dev skv0");
}

TestSuite(proxy_nft, .init = netns_setup);

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "address %s", s);
	return a.s_addr;
}

static int listener(const char *addr, uint16_t port, int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = ip4(addr) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s:%u: %s", addr, port, strerror(errno));
	if (type == SOCK_STREAM)
		cr_assert_eq(listen(fd, 64), 0);
	return fd;
}

/* connect() to addr:port: 0, or -errno. */
static int tcp_connect(const char *addr, uint16_t port, int *ret_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = ip4(addr) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	cr_assert_geq(fd, 0);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	if (r == 0 && ret_fd)
		*ret_fd = fd;
	else
		close(fd);
	return r;
}

/* connect() bounded by tv (SO_SNDTIMEO): 0 with *ret_fd, or -errno. */
static int tcp_connect_timeout(const char *addr, uint16_t port, const struct timeval *tv, int *ret_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = ip4(addr) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, sizeof(*tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Which of the listeners has a connection waiting (index), accepting and closing it. */
static int accepted_by(const int *fds, int n)
{
	struct pollfd p[8];

	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	cr_assert_gt(poll(p, n, 5000), 0, "no backend saw the connection");
	for (int i = 0; i < n; i++)
		if (p[i].revents & POLLIN) {
			int c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);

			cr_assert_geq(c, 0);
			close(c);
			return i;
		}
	return -1;
}

static char *nft_list(const char *what)
{
	char cmd[256], *out = calloc(1, 1 << 16);
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "nft -a list %s 2>&1", what);
	p = popen(cmd, "r");
	cr_assert(p && out);
	n = fread(out, 1, (1 << 16) - 1, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

static void commit_all(void *dp, const struct lb_service *svcs, size_t n, bool prune)
{
	cr_assert_eq(nft_lb_ops.begin(dp), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(nft_lb_ops.upsert(dp, &svcs[i]), 0, "upsert %s", svcs[i].name);
	int r = nft_lb_ops.commit(dp, prune);
	cr_assert_eq(r, 0, "commit: %s\n%s", strerror(-r), nft_list("ruleset"));
}

static struct lb_backend be2[] = { { 0, 8080 }, { 0, 8080 } };

static struct lb_service web(size_t n)
{
	be2[0].addr = ip4("10.99.0.2");
	be2[1].addr = ip4("10.99.0.3");
	return (struct lb_service){ .vip = ip4("10.96.0.10"), .port = 80, .proto = IPPROTO_TCP,
				    .n_backends = n, .backends = be2, .name = "default/web:http" };
}

Test(proxy_nft, table_maps_chains_read_clearly)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_service s = web(2);
	char *out;

	cr_assert(lb);
	commit_all(lb, &s, 1, true);
	out = nft_list("table ip skiff");
	for (const char *want[] = { "map services", "type ipv4_addr . inet_proto . inet_service : verdict",
				    "10.96.0.10 . tcp . 80 : goto svc-default-web-http", "chain svc-default-web-http",
				    "numgen random mod 2 0 goto ep-10.99.0.2-8080 comment \"default/web:http\"",
				    "\t\tgoto ep-10.99.0.3-8080", "chain ep-10.99.0.2-8080", "dnat to 10.99.0.2:8080",
				    "ip saddr 10.99.0.2 meta mark set 0x00004000", "masquerade", "hook output", "chain filter-prerouting",
				    "hook prerouting", "map nodeports", "map no-endpoints", NULL },
	     **w = want; *w; w++)
		cr_assert(strstr(out, *w), "`nft list table ip skiff` lacks \"%s\":\n%s", *w, out);
	free(out);
	nft_lb_ops.close(lb);
}

Test(proxy_nft, tcp_to_vip_spreads_over_backends)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_service s = web(2);
	int fds[2] = { listener("10.99.0.2", 8080, SOCK_STREAM), listener("10.99.0.3", 8080, SOCK_STREAM) };
	int hits[2] = { 0, 0 };

	commit_all(lb, &s, 1, true);
	for (int i = 0; i < 40; i++) {
		int r = tcp_connect("10.96.0.10", 80, NULL);

		cr_assert_eq(r, 0, "connect to the VIP: %s", strerror(-r));
		hits[accepted_by(fds, 2)]++;
	}
	cr_assert(hits[0] > 0 && hits[1] > 0, "40 connects: %d / %d (numgen should spread them)", hits[0], hits[1]);
	nft_lb_ops.close(lb);
}

Test(proxy_nft, client_ip_affinity_sticks_and_follows_changes)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_service s = web(2);
	int fds[2] = { listener("10.99.0.2", 8080, SOCK_STREAM), listener("10.99.0.3", 8080, SOCK_STREAM) };
	int first = -1;
	char *out;

	s.affinity_timeout = 60;
	commit_all(lb, &s, 1, true);
	out = nft_list("table ip skiff");
	for (const char *want[] = { "set aff-svc-default-web-http-10.99.0.2-8080", "timeout 1m",
				    "ip saddr @aff-svc-default-web-http-10.99.0.3-8080 goto aff-svc-default-web-http-10.99.0.3-8080",
				    "update @aff-svc-default-web-http-10.99.0.2-8080 { ip saddr timeout 1m }", NULL },
	     **w = want; *w; w++)
		cr_assert(strstr(out, *w), "affinity table lacks \"%s\":\n%s", *w, out);
	free(out);
	for (int i = 0; i < 20; i++) {
		int r = tcp_connect("10.96.0.10", 80, NULL), got;

		cr_assert_eq(r, 0, "connect %d: %s", i, strerror(-r));
		got = accepted_by(fds, 2);
		if (first < 0)
			first = got;
		cr_assert_eq(got, first, "connect %d went to backend %d, the first to %d: affinity broken", i, got, first);
	}
	/* Losing the affinity (and a backend) rebuilds the frontend; the other backend answers. */
	s = web(1);
	commit_all(lb, &s, 1, false);
	out = nft_list("table ip skiff");
	cr_assert_null(strstr(out, "aff-"), "affinity objects left after it was turned off:\n%s", out);
	free(out);
	cr_assert_eq(tcp_connect("10.96.0.10", 80, NULL), 0);
	cr_assert_eq(accepted_by(fds, 2), 0);
	nft_lb_ops.close(lb);
}

Test(proxy_nft, no_endpoints_is_refused_at_once)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_service s = web(0);
	int r;

	commit_all(lb, &s, 1, true);
	r = tcp_connect("10.96.0.10", 80, NULL);
	cr_assert_eq(r, -ECONNREFUSED, "connect to a VIP without endpoints: %s", strerror(-r));
	nft_lb_ops.close(lb);
}

Test(proxy_nft, udp_reply_comes_from_the_vip)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_backend be = { ip4("10.99.0.4"), 5353 };
	struct lb_service s = { .vip = ip4("10.96.0.53"), .port = 53, .proto = IPPROTO_UDP, .n_backends = 1,
				.backends = &be, .name = "kube-system/dns:dns" };
	int srv = listener("10.99.0.4", 5353, SOCK_DGRAM), cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in vip = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = s.vip }, from, peer;
	socklen_t len = sizeof(from);
	char buf[16];

	commit_all(lb, &s, 1, true);
	cr_assert_eq(sendto(cli, "ping", 4, 0, (struct sockaddr *)&vip, sizeof(vip)), 4);
	cr_assert_eq(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len), 4, "the backend got nothing");
	cr_assert_eq(sendto(srv, "pong", 4, 0, (struct sockaddr *)&peer, len), 4);
	len = sizeof(from);
	cr_assert_eq(recvfrom(cli, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 4);
	cr_assert_eq(from.sin_addr.s_addr, s.vip, "reply from %s, not the VIP", inet_ntoa(from.sin_addr));
	cr_assert_eq(ntohs(from.sin_port), 53);
	nft_lb_ops.close(lb);
}

Test(proxy_nft, nodeport_to_a_node_address)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_service s[2] = { web(1), web(1) };
	int fd = listener("10.99.0.2", 8080, SOCK_STREAM), r;

	s[1].vip = 0;
	s[1].port = 30080;
	s[1].node_port = true;
	commit_all(lb, s, 2, true);
	r = tcp_connect("10.98.0.1", 30080, NULL);
	cr_assert_eq(r, 0, "connect to the NodePort: %s\n%s", strerror(-r), nft_list("table ip skiff"));
	cr_assert_eq(accepted_by(&fd, 1), 0);
	nft_lb_ops.close(lb);
}

/* The first handle printed after a chain's name in `nft -a list`: a rewritten chain's rules get
 * new handles, an untouched one keeps them. */
static long rule_handle(const char *chain)
{
	char what[128], *out, *p;
	long h = -1;

	snprintf(what, sizeof(what), "chain ip skiff %s", chain);
	out = nft_list(what);
	p = strstr(out, "numgen");
	if (!p)
		p = strstr(out, "goto ");
	if (!p)
		p = strstr(out, "dnat");
	if (p && (p = strstr(p, "# handle ")))
		h = strtol(p + 9, NULL, 10);
	free(out);
	return h;
}

Test(proxy_nft, a_change_touches_only_what_changed)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_backend be = { ip4("10.99.0.4"), 9090 };
	struct lb_service s[2] = { web(1), { .vip = ip4("10.96.0.20"), .port = 90, .proto = IPPROTO_TCP,
					     .n_backends = 1, .backends = &be, .name = "default/other:p" } };
	long web_h, other_h, ep_h;
	char *out;

	commit_all(lb, s, 2, true);
	web_h = rule_handle("svc-default-web-http");
	other_h = rule_handle("svc-default-other-p");
	ep_h = rule_handle("ep-10.99.0.2-8080");
	cr_assert(web_h > 0 && other_h > 0 && ep_h > 0);

	s[0] = web(2); /* web gains 10.99.0.3 */
	commit_all(lb, s, 1, false);
	cr_assert_neq(rule_handle("svc-default-web-http"), web_h, "web's pick was not rewritten");
	cr_assert_eq(rule_handle("svc-default-other-p"), other_h, "other was rewritten though it did not change");
	cr_assert_eq(rule_handle("ep-10.99.0.2-8080"), ep_h, "a kept endpoint's chain was rewritten");
	cr_assert_gt(rule_handle("ep-10.99.0.3-8080"), 0, "the new endpoint has no chain");

	cr_assert_eq(nft_lb_ops.begin(lb), 0);
	cr_assert_eq(nft_lb_ops.remove(lb, s[1].vip, 90, IPPROTO_TCP, false), 0);
	cr_assert_eq(nft_lb_ops.commit(lb, false), 0);
	out = nft_list("table ip skiff");
	cr_assert_null(strstr(out, "svc-default-other-p"), "removed frontend still there:\n%s", out);
	cr_assert_null(strstr(out, "ep-10.99.0.4-9090"), "its endpoint chain still there:\n%s", out);
	cr_assert(strstr(out, "svc-default-web-http"));
	free(out);
	cr_assert_eq(rule_handle("svc-default-web-http"), rule_handle("svc-default-web-http"));
	nft_lb_ops.close(lb);
}

Test(proxy_nft, prune_drops_what_was_not_upserted_and_delete_cleans)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_service s = web(1);
	char *out;

	commit_all(lb, &s, 1, true);
	commit_all(lb, NULL, 0, true);
	out = nft_list("table ip skiff");
	cr_assert_null(strstr(out, "svc-default-web"), "a prune kept a frontend nobody upserted:\n%s", out);
	free(out);
	nft_lb_ops.close(lb);
	cr_assert_eq(nft_lb_delete_table(), 0);
	cr_assert_eq(nft_lb_delete_table(), 0, "deleting a missing table is no error");
	out = nft_list("tables");
	cr_assert_null(strstr(out, "skiff"), "table left:\n%s", out);
	free(out);
}

Test(proxy_nft, external_only_has_no_clusterip_path)
{
	struct nft_lb *lb = nft_lb_new(true);
	struct lb_service s[2] = { web(1), web(1) };
	char *out;

	s[1].vip = 0;
	s[1].port = 30080;
	s[1].node_port = true;
	commit_all(lb, s, 2, true);
	out = nft_list("table ip skiff");
	cr_assert_null(strstr(out, "hook output"), "external-only table hooks output:\n%s", out);
	cr_assert_null(strstr(out, "chain svc-default-web-http"), "external-only table has a ClusterIP:\n%s", out);
	cr_assert(strstr(out, "tcp . 30080 : goto np-default-web-http"), "no NodePort element:\n%s", out);
	cr_assert(strstr(out, "hook prerouting"));
	free(out);
	nft_lb_ops.close(lb);
}

/* A "pod": a child in its own network namespace behind a veth, so its packets to VIPs take the
 * prerouting path (DNAT, the no-endpoint reject, the Service range's catch-all) as pods' do.
 * Returns the child's exit status: each check is one bit. */
static int pod_client(void)
{
	int go[2], ready[2];
	char c = 0;
	pid_t pid;
	int st;

	cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int bad = 0;

		if (unshare(CLONE_NEWNET) < 0 || write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(64);
		if (system("ip link set lo up && ip addr add 10.95.0.2/24 dev skc1 && ip link set skc1 up && "
			   "ip route add default via 10.95.0.1") != 0)
			_exit(65);
		if (tcp_connect("10.96.0.10", 80, NULL) != 0)
			bad |= 1;
		if (tcp_connect("10.96.0.11", 80, NULL) != -ECONNREFUSED)
			bad |= 2;
		if (tcp_connect("10.97.0.1", 80, NULL) != -ECONNREFUSED)
			bad |= 4;
		/* Hairpin: the pod is the backend of 10.96.0.12 and asks it. */
		int self = listener("10.95.0.2", 8080, SOCK_STREAM), fd = -1;
		struct timeval tv = { 3, 0 };
		if (tcp_connect_timeout("10.96.0.12", 80, &tv, &fd) != 0)
			bad |= 8;
		else if (accept4(self, NULL, NULL, SOCK_CLOEXEC) < 0)
			bad |= 8;
		_exit(bad);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1, "the client namespace did not come up");
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "ip link add skc0 type veth peer name skc1 netns %d && ip addr add 10.95.0.1/24 dev skc0 && "
		 "ip link set skc0 up && sysctl -qw net.ipv4.ip_forward=1 && ip route add unreachable 10.96.0.0/15",
		 (int)pid);
	sh(cmd);
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	cr_assert(WIFEXITED(st), "client died: status %d", st);
	return WEXITSTATUS(st);
}

Test(proxy_nft, pods_reach_vips_and_are_refused_at_once_without_endpoints_or_frontend)
{
	struct nft_lb *lb = nft_lb_new(false);
	struct lb_backend pod = { ip4("10.95.0.2"), 8080 };
	struct lb_service s[3] = { web(1), web(0), { .vip = ip4("10.96.0.12"), .port = 80, .proto = IPPROTO_TCP,
						   .n_backends = 1, .backends = &pod, .name = "default/self:http" } };
	int fd = listener("10.99.0.2", 8080, SOCK_STREAM), r;

	s[1].vip = ip4("10.96.0.11");
	s[1].name = "default/empty:http";
	cr_assert_eq(nft_lb_set_service_cidr(lb, "10.96.0.0/12"), 0);
	cr_assert_eq(nft_lb_set_service_cidr(lb, "10.96.0.0/33"), -EINVAL);
	/* The backends (10.99.0.x) must lie outside the range, as pods' addresses do. */
	cr_assert_eq(nft_lb_set_service_cidr(lb, "10.96.0.0/15"), 0);
	commit_all(lb, s, 3, true);
	r = pod_client();
	cr_assert_eq(r & 1, 0, "a pod's connect to a VIP with an endpoint failed");
	cr_assert_eq(r & 2, 0, "a pod's connect to a VIP without endpoints was not refused (ECONNREFUSED)");
	cr_assert_eq(r & 4, 0, "a pod's connect to an unknown VIP was not refused (ECONNREFUSED, a reset)");
	cr_assert_eq(r & 8, 0, "a pod asking a VIP whose backend is itself got no connection (hairpin)");
	cr_assert_eq(r & ~15, 0, "client setup failed (%d)", r);
	cr_assert_eq(accepted_by(&fd, 1), 0);
	nft_lb_ops.close(lb);
}
