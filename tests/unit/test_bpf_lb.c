/* The eBPF Service load balancer through real sockets (cgroup sock_addr programs do not run
 * under BPF_PROG_RUN): each test has its own mount namespace with a private bpffs for the pins,
 * its own network namespace with backends 10.200.0.1-3 on a veth, and a cgroup
 * skiff-test-lb-<pid> its clients (forked children) run in. All go in every fini. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lb_maps.h"
#include "pods/cgroup.h"
#include "proxy/bpf_lb.h"
#include "skiff/cleanup.h"
#include "test_bpf_lb_kit.h"

static struct lbt t;

static void setup(void)
{
	lbt_setup(&t, "bpf-lb");
	cr_assert_eq(bpf_lb_open(t.pin_dir, t.cg_path, &t.dp), 0, "bpf_lb_open %s on %s", t.pin_dir, t.cg_path);
}

static void teardown(void)
{
	lbt_teardown(&t);
}

static const struct lb_backend tcp_be[] = {
	{ LBT_BE(1), 8080 },
	{ LBT_BE(2), 8080 },
	{ LBT_BE(3), 8080 },
};
static const struct lb_backend udp_be[] = {
	{ LBT_BE(1), 5353 },
	{ LBT_BE(2), 5353 },
	{ LBT_BE(3), 5353 },
};

static void upsert(uint32_t vip, uint16_t port, uint8_t proto, const struct lb_backend *be, size_t n,
		   uint32_t affinity, bool node_port)
{
	struct lb_service svc = {
		.vip = vip, .port = port, .proto = proto, .node_port = node_port,
		.affinity_timeout = affinity, .n_backends = n, .backends = be, .name = "default/web:http",
	};

	cr_assert_eq(bpf_lb_ops.upsert(t.dp, &svc), 0, "upsert %x:%u", ntohl(vip), port);
}

/* Counts the answers of a client run per backend (1..3), and "err" lines. */
static void tally(const char *out, int counts[4], int *errs)
{
	memset(counts, 0, 4 * sizeof(int));
	*errs = 0;
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		int be;

		if (sscanf(l, "be%d", &be) == 1 && be >= 1 && be <= 3)
			counts[be]++;
		else if (strncmp(l, "err", 3) == 0)
			(*errs)++;
	}
}

TestSuite(bpf_lb, .init = setup, .fini = teardown, .timeout = 60);

Test(bpf_lb, tcp_vip_reaches_every_backend_and_getpeername_shows_the_vip)
{
	struct lbt_client c = { .vip = LBT_VIP, .port = 80, .proto = IPPROTO_TCP, .n = 60 };
	_cleanup_free_ char *out = NULL;
	int counts[4], errs;

	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	out = lbt_in_cgroup(&t, &c);
	tally(out, counts, &errs);
	cr_assert_eq(errs, 0, "client run:\n%s", out);
	for (int i = 1; i <= 3; i++)
		cr_expect_gt(counts[i], 0, "backend %d got no connection in 60:\n%s", i, out);
	/* Every answer line names the peer getpeername() gave. */
	cr_expect_eq(lbt_count(out, " 10.96.0.10:80\n"), 60, "getpeername is not the VIP:\n%s", out);
}

Test(bpf_lb, udp_connected_and_unconnected_replies_come_from_the_vip)
{
	struct lbt_client conn = { .vip = LBT_VIP, .port = 53, .proto = IPPROTO_UDP, .n = 30 };
	struct lbt_client unconn = conn;
	_cleanup_free_ char *out1 = NULL, *out2 = NULL;
	int counts[4], errs;

	unconn.unconnected = true;
	upsert(LBT_VIP, 53, IPPROTO_UDP, udp_be, 3, 0, false);
	out1 = lbt_in_cgroup(&t, &conn);
	tally(out1, counts, &errs);
	cr_assert_eq(errs, 0, "connected UDP:\n%s", out1);
	cr_expect_eq(lbt_count(out1, " 10.96.0.10:53\n"), 30, "connected UDP peer/source not the VIP:\n%s", out1);
	out2 = lbt_in_cgroup(&t, &unconn);
	tally(out2, counts, &errs);
	cr_assert_eq(errs, 0, "unconnected UDP:\n%s", out2);
	cr_expect_eq(lbt_count(out2, " 10.96.0.10:53\n"), 30, "recvfrom source not the VIP:\n%s", out2);
	for (int i = 1; i <= 3; i++)
		cr_expect_gt(counts[i], 0, "UDP backend %d got nothing in 30:\n%s", i, out2);
}

Test(bpf_lb, client_ip_affinity_sticks_to_one_backend)
{
	struct lbt_client c = { .vip = LBT_VIP, .port = 80, .proto = IPPROTO_TCP, .n = 30 };
	_cleanup_free_ char *out = NULL;
	int counts[4], errs, used = 0;

	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 10800, false);
	out = lbt_in_cgroup(&t, &c);
	tally(out, counts, &errs);
	cr_assert_eq(errs, 0, "client run:\n%s", out);
	for (int i = 1; i <= 3; i++)
		used += counts[i] > 0;
	cr_expect_eq(used, 1, "ClientIP affinity spread 30 connections over %d backends:\n%s", used, out);
}

Test(bpf_lb, service_without_backends_refuses_at_once)
{
	struct lbt_client c = { .vip = LBT_VIP, .port = 80, .proto = IPPROTO_TCP, .n = 3 };
	_cleanup_free_ char *out = NULL;

	upsert(LBT_VIP, 80, IPPROTO_TCP, NULL, 0, 0, false);
	out = lbt_in_cgroup(&t, &c);
	cr_expect_eq(lbt_count(out, "err connect ECONNREFUSED\n"), 3, "want ECONNREFUSED from connect():\n%s", out);
}

Test(bpf_lb, node_port_answers_on_loopback_and_node_addresses_only)
{
	struct lbt_client lo = { .vip = htonl(INADDR_LOOPBACK), .port = 30080, .proto = IPPROTO_TCP, .n = 10 };
	struct lbt_client node = { .vip = LBT_BE(1), .port = 30080, .proto = IPPROTO_TCP, .n = 10 };
	struct lbt_client other = { .vip = LBT_VIP, .port = 30080, .proto = IPPROTO_TCP, .n = 1 };
	_cleanup_free_ char *out1 = NULL, *out2 = NULL, *out3 = NULL;
	int counts[4], errs;

	upsert(0, 30080, IPPROTO_TCP, tcp_be, 3, 0, true);
	out1 = lbt_in_cgroup(&t, &lo);
	tally(out1, counts, &errs);
	cr_expect_eq(errs, 0, "127.0.0.1:30080:\n%s", out1);
	cr_expect_eq(lbt_count(out1, " 127.0.0.1:30080\n"), 10, "getpeername not 127.0.0.1:30080:\n%s", out1);
	out2 = lbt_in_cgroup(&t, &node);
	tally(out2, counts, &errs);
	cr_expect_eq(errs, 0, "node address 10.200.0.1:30080:\n%s", out2);
	/* 10.96.0.10 is no address of this node: not a NodePort, and unroutable here. */
	out3 = lbt_in_cgroup(&t, &other);
	cr_expect_eq(lbt_count(out3, "err connect ENETUNREACH\n"), 1, "10.96.0.10:30080 was rewritten:\n%s", out3);
}

/* Re-open keeps entries and links (no second attach); a full resync then prunes the rest. */
Test(bpf_lb, reopen_readopts_and_prune_removes_stale)
{
	struct lbt_client a = { .vip = LBT_VIP, .port = 80, .proto = IPPROTO_TCP, .n = 5 };
	struct lbt_client b = { .vip = LBT_VIP2, .port = 80, .proto = IPPROTO_TCP, .n = 5 };
	_cleanup_free_ char *out1 = NULL, *out2 = NULL, *out3 = NULL;
	int counts[4], errs;

	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	upsert(LBT_VIP2, 80, IPPROTO_TCP, tcp_be + 1, 1, 0, false);
	bpf_lb_ops.close(t.dp);
	t.dp = NULL;
	cr_assert_eq(bpf_lb_open(t.pin_dir, t.cg_path, &t.dp), 0, "re-open");
	cr_expect_eq(lbt_attached(&t, BPF_CGROUP_INET4_CONNECT), 1, "re-open stacked a second connect4 program");
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_SVC_MAP), 6, "re-open lost or added slots");
	/* Ids re-adopted from the maps: a new frontend must not take the old ones' backend ids. */
	upsert(LBT_VIP2, 81, IPPROTO_TCP, tcp_be + 2, 1, 0, false);
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_BACKEND_MAP), 5, "a backend id was handed out twice");
	out1 = lbt_in_cgroup(&t, &b);
	tally(out1, counts, &errs);
	cr_expect_eq(counts[2], 5, "after re-open 10.96.0.11 should still reach backend 2:\n%s", out1);

	cr_assert_eq(bpf_lb_ops.begin(t.dp), 0);
	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	cr_assert_eq(bpf_lb_ops.commit(t.dp, true), 0);
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_SVC_MAP), 4, "prune left the stale frontend's slots");
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_BACKEND_MAP), 3, "prune left the stale backend");
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_REVNAT_MAP), 1, "prune left the stale rev-NAT entry");
	out2 = lbt_in_cgroup(&t, &b);
	cr_expect_eq(lbt_count(out2, "err connect ENETUNREACH\n"), 5, "pruned VIP still routed:\n%s", out2);
	out3 = lbt_in_cgroup(&t, &a);
	tally(out3, counts, &errs);
	cr_expect_eq(errs, 0, "kept VIP broken by prune:\n%s", out3);
}

/* Shrinking, growing and swapping a Service's backends while a client connects without pause:
 * with backends before slots and slot 0 last, no connect() may fail or go astray. */
Test(bpf_lb, updates_never_show_a_half_written_service)
{
	struct lbt_client c = { .vip = LBT_VIP, .port = 80, .proto = IPPROTO_TCP, .n = 3000 };
	_cleanup_free_ char *out = NULL;
	int counts[4], errs, rounds = 0;
	pid_t pid;
	int fd;

	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	fd = lbt_start_in_cgroup(&t, &c, &pid);
	while (!lbt_readable(fd)) {
		upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be + rounds % 3, 1, 0, false);
		upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
		upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be + 1, 2, 0, false);
		rounds++;
	}
	out = lbt_finish(fd, pid);
	tally(out, counts, &errs);
	cr_expect_eq(errs, 0, "%d failures in 3000 connects over %d update rounds:\n%.2000s", errs, rounds, out);
	cr_expect_eq(counts[1] + counts[2] + counts[3], 3000);
	/* Dropped slots and backends wait out a grace period; close() deletes them at once. */
	bpf_lb_ops.close(t.dp);
	t.dp = NULL;
	cr_assert_eq(bpf_lb_open(t.pin_dir, t.cg_path, &t.dp), 0, "re-open");
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_SVC_MAP), 3, "slots left behind by the updates");
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_BACKEND_MAP), 2, "backends left behind by the updates");
}

Test(bpf_lb, remove_drops_every_entry)
{
	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	cr_assert_eq(bpf_lb_ops.remove(t.dp, LBT_VIP, 80, IPPROTO_TCP, false), 0);
	cr_assert_eq(bpf_lb_ops.remove(t.dp, LBT_VIP, 80, IPPROTO_TCP, false), 0, "remove is idempotent");
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_SVC_MAP), 0);
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_BACKEND_MAP), 0);
	cr_expect_eq(lbt_map_count(&t, SKIFF_LB4_REVNAT_MAP), 0);
}

Test(bpf_lb, bpftool_dumps_pinned_maps_with_field_names)
{
	_cleanup_free_ char *svc = NULL, *rnat = NULL;

	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	svc = lbt_run("bpftool map dump pinned %s/" SKIFF_LB4_SVC_MAP, t.pin_dir);
	cr_expect(strstr(svc, "\"backend_slot\": 3") && strstr(svc, "\"rev_nat_id\""), "svc dump:\n%s", svc);
	rnat = lbt_run("bpftool map dump pinned %s/" SKIFF_LB4_REVNAT_MAP, t.pin_dir);
	cr_expect(strstr(rnat, "\"name\": \"default/web:http\"") && strstr(rnat, "\"port\": 80"), "rnat dump:\n%s", rnat);
}

Test(bpf_lb, skiffctl_lb_list_prints_frontends_with_backends)
{
	_cleanup_free_ char *out = NULL;

	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 10800, false);
	upsert(0, 30080, IPPROTO_TCP, tcp_be, 1, 0, true);
	upsert(LBT_VIP2, 53, IPPROTO_UDP, NULL, 0, 0, false);
	out = lbt_run(LBT_SKIFFCTL " lb list --pin-dir %s", t.pin_dir);
	cr_expect(strstr(out, "10.96.0.10:80/TCP"), "lb list:\n%s", out);
	cr_expect(strstr(out, "10.200.0.3:8080"), "lb list lacks a backend:\n%s", out);
	cr_expect(strstr(out, "0.0.0.0:30080/TCP"), "lb list lacks the NodePort:\n%s", out);
	cr_expect(strstr(out, "10.96.0.11:53/UDP"), "lb list lacks the empty Service:\n%s", out);
	cr_expect(strstr(out, "default/web:http"), "lb list lacks the name:\n%s", out);
}

Test(bpf_lb, detach_removes_links_and_pins)
{
	struct lbt_client c = { .vip = LBT_VIP, .port = 80, .proto = IPPROTO_TCP, .n = 1 };
	_cleanup_free_ char *out = NULL;
	struct stat st;

	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	bpf_lb_ops.close(t.dp);
	t.dp = NULL;
	cr_assert_eq(bpf_lb_detach(t.pin_dir, t.cg_path), 0);
	cr_expect_eq(lbt_attached(&t, BPF_CGROUP_INET4_CONNECT), 0, "connect4 still attached");
	cr_expect_eq(lbt_attached(&t, BPF_CGROUP_UDP4_RECVMSG), 0, "recvmsg4 still attached");
	cr_expect_neq(stat(t.pin_dir, &st), 0, "pin dir %s left behind", t.pin_dir);
	out = lbt_in_cgroup(&t, &c);
	cr_expect_eq(lbt_count(out, "err connect ENETUNREACH\n"), 1, "VIP still rewritten after detach:\n%s", out);
}

Test(bpf_lb, supported_probe)
{
	cr_expect(bpf_lb_supported(t.cg_path), "this kernel should run the programs on %s", t.cg_path);
	cr_expect_not(bpf_lb_supported("/tmp"), "/tmp is no cgroup2 directory");
	cr_expect_eq(lbt_attached(&t, BPF_CGROUP_INET4_CONNECT), 1, "the probe left a program attached");
}

/* Pins left by a build with another map layout are replaced, not a reason to fail. */
Test(bpf_lb, foreign_pins_are_replaced)
{
	struct lbt_client c = { .vip = LBT_VIP, .port = 80, .proto = IPPROTO_TCP, .n = 3 };
	_cleanup_free_ char *out = NULL, *path = NULL;
	int counts[4], errs, fd;

	bpf_lb_ops.close(t.dp);
	t.dp = NULL;
	cr_assert_eq(bpf_lb_detach(t.pin_dir, t.cg_path), 0);
	cr_assert_eq(mkdir(t.pin_dir, 0700), 0);
	cr_assert(asprintf(&path, "%s/" SKIFF_LB4_SVC_MAP, t.pin_dir) > 0);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, SKIFF_LB4_SVC_MAP, 4, 4, 16, NULL);
	cr_assert_geq(fd, 0, "map create: %s", strerror(errno));
	cr_assert_eq(bpf_obj_pin(fd, path), 0, "pin %s: %s", path, strerror(errno));
	close(fd);
	cr_assert_eq(bpf_lb_open(t.pin_dir, t.cg_path, &t.dp), 0, "open over a foreign " SKIFF_LB4_SVC_MAP);
	upsert(LBT_VIP, 80, IPPROTO_TCP, tcp_be, 3, 0, false);
	out = lbt_in_cgroup(&t, &c);
	tally(out, counts, &errs);
	cr_expect_eq(errs, 0, "after replacing the foreign pins:\n%s", out);
}
