/* The pod fast path (tc BPF, agent/net/fastpath*.c + bpf/pod_fwd.bpf.c) in real network
 * namespaces: every test runs in a namespace of its own (gone with its process); "nodes" and
 * "pods" are namespaces it makes. Pod to pod on one node and across two nodes joined by a veth,
 * with the programs' counters showing they forwarded; packets as forwarding makes them (TTL);
 * ARP and host traffic on the kernel's path; off and teardown leave no filter or map entry. */
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
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "lib/netns_kit.h"
#include "lib/pods_kit.h"
#include "net/fastpath.h"
#include "net/pod_network.h"

#define UID_A "0a1b2c3d-0000-4000-8000-00000000000a"
#define UID_B "1b2c3d4e-0000-4000-8000-00000000000b"

static char *dir;
static struct pod_network *pn, *pn2;

static void init(void)
{
	/* Criterion runs each test in its own process: this namespace dies with it, whatever fails. */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s (needs CAP_SYS_ADMIN)", strerror(errno));
	dir = pods_kit_tempdir("fastpath");
}

static void fini(void)
{
	pod_network_free(pn);
	pod_network_free(pn2);
	pn = pn2 = NULL;
	if (dir)
		pods_kit_remove(dir);
	free(dir);
	dir = NULL;
}

TestSuite(agent_fastpath, .init = init, .fini = fini);

static struct pod_network *network(const char *node, const char *sub, const char *cidr)
{
	char state[600];
	struct pod_network_config c = { .node_name = node, .bridge = "skiff0", .service_cidr = "10.96.0.0/12",
					.state_dir = state };
	struct pod_network *n;

	snprintf(state, sizeof(state), "%s/%s", dir, sub);
	n = pod_network_new(&c);
	cr_assert(n, "pod_network_new: %s", strerror(errno));
	if (cidr)
		cr_assert_eq(pod_network_set_pod_cidr(n, cidr), 0);
	return n;
}

static struct in_addr pod_up(struct pod_network *n, const char *uid, int netns_fd)
{
	struct in_addr ip;
	int r = pod_network_pod_setup(n, uid, netns_fd, &ip);

	cr_assert_eq(r, 0, "pod_network_pod_setup: %s", strerror(-r));
	return ip;
}

static struct net_fastpath_stats stats(struct pod_network *n)
{
	struct net_fastpath_stats s;
	int r = pod_network_fastpath_stats(n, &s);

	cr_assert_eq(r, 0, "the fast path is not running: %s", strerror(-r));
	return s;
}

/* Connects from `from` to ip:port where lsock listens (bounded waits); a byte each way. */
static void tcp_roundtrip(int from, int lsock, struct in_addr ip, int port)
{
	int a, c = netns_kit_tcp_connect(from, lsock, ip, port, &a);
	struct pollfd p = { .fd = a, .events = POLLIN };
	char byte = 'x';

	cr_assert_eq(write(c, &byte, 1), 1);
	byte = 0;
	cr_assert_eq(poll(&p, 1, 5000), 1, "no byte from %s in 5 s", netns_kit_ip(ip));
	cr_assert_eq(read(a, &byte, 1), 1);
	cr_assert_eq(byte, 'x');
	cr_assert_eq(write(a, &byte, 1), 1);
	byte = 0;
	fcntl(c, F_SETFL, 0);
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 5000), 1, "no answer from %s in 5 s", netns_kit_ip(ip));
	cr_assert_eq(read(c, &byte, 1), 1);
	close(a);
	close(c);
}

static void tcp_check(int from, int to, struct in_addr ip, int port)
{
	int l = netns_kit_listen(to, ip, port);

	tcp_roundtrip(from, l, ip, port);
	close(l);
}

/* One UDP datagram from `from` to ip (in `to`): the TTL it arrived with. */
static int udp_ttl(int from, int to, struct in_addr ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = ip };
	int r = netns_kit_socket(to, SOCK_DGRAM), s = netns_kit_socket(from, SOCK_DGRAM), ttl = -1;
	char data[8], ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct pollfd p = { .fd = r, .events = POLLIN };

	cr_assert_eq(setsockopt(r, IPPROTO_IP, IP_RECVTTL, &(int){ 1 }, sizeof(int)), 0);
	cr_assert_eq(bind(r, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %s", strerror(errno));
	cr_assert_eq(sendto(s, "ttl", 3, 0, (struct sockaddr *)&sa, sizeof(sa)), 3, "sendto: %s", strerror(errno));
	cr_assert_eq(poll(&p, 1, 5000), 1, "no datagram at %s in 5 s", netns_kit_ip(ip));
	cr_assert_eq(recvmsg(r, &m, 0), 3);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
	close(r);
	close(s);
	return ttl;
}

static json_object *node(const char *name, const char *cidr, const char *ip)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"podCIDR\":\"%s\"},"
		 "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"%s\"}]}}",
		 name, cidr, ip);
	return json_tokener_parse(buf);
}

/* Node 1 is the test's namespace, node 2 a new one, joined by the veth fab0 (host-gw). */
static int two_nodes(void)
{
	int node2 = netns_kit_new(), saved;
	_cleanup_json_ json_object *items = json_object_new_array();
	char out[256], cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "ip link add fab0 type veth peer name fab0 netns /proc/%d/fd/%d && ip addr add 192.168.61.1/24 dev fab0"
		 " && ip link set fab0 up", getpid(), node2);
	netns_kit_sh(-1, cmd, out, sizeof(out));
	netns_kit_sh(node2, "ip addr add 192.168.61.2/24 dev fab0 && ip link set fab0 up", out, sizeof(out));
	json_object_array_add(items, node("n1", "10.244.1.0/24", "192.168.61.1"));
	json_object_array_add(items, node("n2", "10.244.2.0/24", "192.168.61.2"));
	pn = network("n1", "n1", "10.244.1.0/24");
	cr_assert_eq(pod_network_node_watch_ops.relist(pn, items), 0);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(setns(node2, CLONE_NEWNET), 0);
	pn2 = network("n2", "n2", "10.244.2.0/24"); /* its netlink, sysctl and filters are node2's */
	cr_assert_eq(pod_network_node_watch_ops.relist(pn2, items), 0);
	cr_assert_eq(setns(saved, CLONE_NEWNET), 0);
	close(saved);
	return node2;
}

Test(agent_fastpath, pods_on_one_node_talk_through_the_peer)
{
	int a = netns_kit_new(), b = netns_kit_new();
	struct net_fastpath_stats s;
	struct in_addr ip_a, ip_b;
	char out[1024];

	pn = network("n1", "n1", "10.244.1.0/24");
	ip_a = pod_up(pn, UID_A, a);
	ip_b = pod_up(pn, UID_B, b);
	netns_kit_sh(-1, "tc filter show dev veth0a1b2c3d ingress", out, sizeof(out));
	cr_assert(strstr(out, "skiff_fp_from_p"), "pod program on the veth: %s", out);
	tcp_check(b, a, ip_a, 8080);
	tcp_check(a, b, ip_b, 8081);
	s = stats(pn);
	cr_assert_eq(s.pods, 2);
	/* The first packets (ARP, then maybe one before the entry) may take the bridge. */
	cr_assert_geq(s.local, 8, "pod to pod handed over by the program: %llu", (unsigned long long)s.local);
	/* Same subnet: no routing hop, the TTL stays as sent. */
	cr_assert_eq(udp_ttl(a, b, ip_b, 8082), 64);
	close(a);
	close(b);
}

Test(agent_fastpath, pods_on_two_nodes_talk_past_bridges_and_forwarding)
{
	int node2 = two_nodes(), pa = netns_kit_new(), pb = netns_kit_new();
	struct net_fastpath_stats s1, s2;
	struct in_addr ip_a, ip_b;
	char out[1024];

	ip_a = pod_up(pn, UID_A, pa);
	ip_b = pod_up(pn2, UID_B, pb);
	netns_kit_sh(-1, "tc filter show dev fab0 ingress", out, sizeof(out));
	cr_assert(strstr(out, "skiff_fp_from_u"), "uplink program on fab0: %s", out);
	tcp_check(pa, pb, ip_b, 9000);
	tcp_check(pb, pa, ip_a, 9001);
	/* Two forwarding hops, as the kernel's path would count them; the checksum held. */
	cr_assert_eq(udp_ttl(pa, pb, ip_b, 9002), 62);
	cr_assert_eq(udp_ttl(pb, pa, ip_a, 9003), 62);
	s1 = stats(pn);
	s2 = stats(pn2);
	cr_assert_eq(s1.uplinks, 1);
	cr_assert_geq(s1.remote, 8, "node 1 sent pod packets out itself: %llu", (unsigned long long)s1.remote);
	cr_assert_geq(s2.remote, 8, "node 2 too: %llu", (unsigned long long)s2.remote);
	cr_assert_geq(s1.in, 8, "node 1 handed packets from the uplink to its pod: %llu", (unsigned long long)s1.in);
	cr_assert_geq(s2.in, 8, "node 2 too: %llu", (unsigned long long)s2.in);
	close(pa);
	close(pb);
	close(node2);
}

/* The next hop out of the veth uplink is kept from the first fib lookup; a route sync forgets it
 * (a changed route is looked up again) and the packets after it still make both hops. */
Test(agent_fastpath, the_kept_next_hop_is_forgotten_at_a_route_sync)
{
	int node2 = two_nodes(), pa = netns_kit_new(), pb = netns_kit_new();
	_cleanup_json_ json_object *items = json_object_new_array();
	struct in_addr ip_a, ip_b;

	ip_a = pod_up(pn, UID_A, pa);
	ip_b = pod_up(pn2, UID_B, pb);
	cr_assert_eq(stats(pn).nexthops, 0, "nothing sent yet");
	tcp_check(pa, pb, ip_b, 9010);
	cr_assert_eq(stats(pn).nexthops, 1, "node 2's podCIDR: its next hop kept");
	json_object_array_add(items, node("n1", "10.244.1.0/24", "192.168.61.1"));
	json_object_array_add(items, node("n2", "10.244.2.0/24", "192.168.61.2"));
	cr_assert_eq(pod_network_node_watch_ops.relist(pn, items), 0);
	cr_assert_eq(stats(pn).nexthops, 0, "forgotten at the sync");
	cr_assert_eq(udp_ttl(pa, pb, ip_b, 9011), 62);
	cr_assert_eq(stats(pn).nexthops, 1, "looked up again");
	cr_assert_eq(udp_ttl(pa, pb, ip_b, 9012), 62, "and used: both hops, checksum right");
	cr_assert_eq(udp_ttl(pb, pa, ip_a, 9013), 62);
	close(pa);
	close(pb);
	close(node2);
}

/* ARP, the pod's node (gateway address) and the node to its pod stay on the kernel's path. */
Test(agent_fastpath, host_traffic_takes_the_kernel_path)
{
	int a = netns_kit_new(), node = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct net_fastpath_stats s;
	struct in_addr ip_a, gw;
	char out[1024];

	pn = network("n1", "n1", "10.244.1.0/24");
	ip_a = pod_up(pn, UID_A, a);
	inet_pton(AF_INET, "10.244.1.1", &gw);
	tcp_check(a, node, gw, 8083);
	tcp_check(node, a, ip_a, 8084);
	netns_kit_sh(a, "ip neigh show 10.244.1.1", out, sizeof(out));
	cr_assert(strstr(out, "lladdr"), "the pod resolved its gateway by ARP: %s", out);
	s = stats(pn);
	cr_assert_eq(s.local + s.remote + s.in, 0, "nothing of this is the fast path's");
	cr_assert_geq(s.pass, 4);
	close(a);
	close(node);
}

Test(agent_fastpath, teardown_leaves_no_filter_or_entry)
{
	int node2 = two_nodes(), a = netns_kit_new(), b = netns_kit_new();
	char out[2048];

	pod_up(pn, UID_A, a);
	pod_up(pn, UID_B, b);
	cr_assert_eq(stats(pn).pods, 2);
	cr_assert_eq(pod_network_pod_teardown(pn, UID_A), 0);
	cr_assert_eq(stats(pn).pods, 1, "pod A's entry went with its veth");
	cr_assert_eq(pod_network_pod_teardown(pn, UID_B), 0);
	cr_assert_eq(stats(pn).pods, 0);
	cr_assert_eq(pod_network_remove_all(pn), 0);
	cr_assert_eq(stats(pn).uplinks, 0);
	netns_kit_sh(-1, "tc filter show dev fab0 ingress; ip -o link show type veth | grep -v fab0 || true", out,
		     sizeof(out));
	cr_assert_str_eq(out, "", "no filter on the uplink, no pod veth left: %s", out);
	close(a);
	close(b);
	close(node2);
}

Test(agent_fastpath, off_removes_every_filter_and_the_bridge_carries_on)
{
	int node2 = two_nodes(), a = netns_kit_new(), b = netns_kit_new();
	struct net_fastpath_stats s;
	struct in_addr ip_b;
	char out[2048];

	pod_up(pn, UID_A, a);
	ip_b = pod_up(pn, UID_B, b);
	cr_assert_eq(pod_network_set_fastpath(pn, false), 0);
	cr_assert_eq(pod_network_fastpath_stats(pn, &s), -ENOENT);
	netns_kit_sh(-1, "tc filter show dev fab0 ingress; tc filter show dev veth0a1b2c3d ingress", out, sizeof(out));
	cr_assert_str_eq(out, "", "no filter left: %s", out);
	tcp_check(a, b, ip_b, 8085);
	/* On again: from then on, and the bridge's ports get the program again. */
	cr_assert_eq(pod_network_set_fastpath(pn, true), 0);
	netns_kit_sh(-1, "tc filter show dev veth0a1b2c3d ingress", out, sizeof(out));
	cr_assert(strstr(out, "skiff_fp_from_p"), "pod program back: %s", out);
	tcp_check(a, b, ip_b, 8086);
	close(a);
	close(b);
	close(node2);
}

/* An agent restarts (pods keep running, its filters stay): the new one takes over the pods the
 * old one's map held and its program replaces the old one's on every port. */
Test(agent_fastpath, a_restarted_agent_takes_over_the_pods)
{
	int a = netns_kit_new(), b = netns_kit_new();
	struct net_fastpath_stats s;
	struct in_addr ip_b;
	char before[1024], after[1024];

	pn = network("n1", "n1", "10.244.1.0/24");
	pod_up(pn, UID_A, a);
	ip_b = pod_up(pn, UID_B, b);
	netns_kit_sh(-1, "tc filter show dev veth0a1b2c3d ingress", before, sizeof(before));
	pod_network_free(pn);
	pn = network("n1", "n1", NULL); /* resumes from the saved podCIDR */
	s = stats(pn);
	cr_assert_eq(s.pods, 2, "both pods taken over: %zu", s.pods);
	netns_kit_sh(-1, "tc filter show dev veth0a1b2c3d ingress", after, sizeof(after));
	cr_assert(strstr(after, "skiff_fp_from_p"), "%s", after);
	cr_assert_str_neq(before, after, "the new agent's program (another id) replaced the old one's");
	tcp_check(a, b, ip_b, 8087);
	cr_assert_geq(stats(pn).local, 4, "the new program forwards");
	close(a);
	close(b);
}
