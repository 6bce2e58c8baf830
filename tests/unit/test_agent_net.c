/* Pod networking in real network namespaces: every test runs in a namespace of its own (made in
 * .init, gone with the test's process), pods get namespaces made the same way. Bridge, veth,
 * addresses, routes, pod-to-pod TCP, node routes, the Service CIDR's unreachable route, IPAM
 * persistence, and that teardown leaves nothing. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skiff/json.h>

#include "lib/netns_kit.h"
#include "lib/pods_kit.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/netlink.h"
#include "net/node_routes.h"
#include "net/pod_network.h"

#define UID_A "0a1b2c3d-0000-4000-8000-00000000000a"
#define UID_B "1b2c3d4e-0000-4000-8000-00000000000b"

static char *dir;
static struct pod_network *pn;
static int host_ns = -1; /* where the test process started; only ever looked at */

static void init(void)
{
	host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(host_ns, 0);
	/* Criterion runs each test in its own process: this namespace dies with it, whatever fails. */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s (needs CAP_SYS_ADMIN)", strerror(errno));
	dir = pods_kit_tempdir("net");
}

static void fini(void)
{
	pod_network_free(pn);
	pn = NULL;
	if (dir)
		pods_kit_remove(dir);
	free(dir);
	dir = NULL;
}

TestSuite(agent_net, .init = init, .fini = fini);

static void start_network(const char *cidr)
{
	struct pod_network_config c = { .node_name = "n1", .bridge = "skiff0", .service_cidr = "10.96.0.0/12",
					.state_dir = dir };

	pn = pod_network_new(&c);
	cr_assert(pn, "pod_network_new: %s", strerror(errno));
	if (cidr)
		cr_assert_eq(pod_network_set_pod_cidr(pn, cidr), 0);
}

static struct in_addr pod_up(const char *uid, int netns_fd)
{
	struct in_addr ip;
	int r = pod_network_pod_setup(pn, uid, netns_fd, &ip);

	cr_assert_eq(r, 0, "pod_network_pod_setup: %s", strerror(-r));
	return ip;
}

Test(agent_net, route_message_parses_back)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_route in = { .dst.s_addr = htonl(0x0af40200), .dst_len = 24, .gw.s_addr = htonl(0xc0a83202),
			       .type = RTN_UNICAST, .protocol = NL_RTPROT_SKIFF }, out;
	struct nlmsghdr *nlh = nl_msg_route(buf, RTM_NEWROUTE, &in);

	cr_assert_eq(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE), NLM_F_CREATE | NLM_F_REPLACE);
	cr_assert_eq(nl_route_parse(nlh, &out), 0);
	cr_assert_eq(out.dst.s_addr, in.dst.s_addr);
	cr_assert_eq(out.dst_len, 24);
	cr_assert_eq(out.gw.s_addr, in.gw.s_addr);
	cr_assert_eq(out.type, RTN_UNICAST);
	cr_assert_eq(out.protocol, NL_RTPROT_SKIFF);
	nlh = nl_msg_link_get(buf, "skiff0");
	cr_assert_eq(nl_route_parse(nlh, &out), -EINVAL, "a link message is no route");
}

Test(agent_net, veth_name_from_uid)
{
	char name[NET_VETH_NAME_LEN];

	net_veth_name(UID_A, name);
	cr_assert_str_eq(name, "veth0a1b2c3d");
	net_veth_name("ab-c", name);
	cr_assert_str_eq(name, "vethabc00000");
}

Test(agent_net, no_pods_before_the_pod_cidr)
{
	struct in_addr ip;
	int pod = netns_kit_new();
	char out[256];

	start_network(NULL);
	cr_assert_not(pod_network_ready(pn));
	cr_assert_eq(pod_network_pod_setup(pn, UID_A, pod, &ip), -EAGAIN);
	netns_kit_sh(-1, "ip -o link show type bridge", out, sizeof(out));
	cr_assert_str_eq(out, "", "nothing made before the podCIDR: %s", out);
	close(pod);
}

Test(agent_net, bridge_forwarding_and_service_route)
{
	char out[1024];

	start_network("10.244.1.0/24");
	cr_assert(pod_network_ready(pn));
	netns_kit_sh(-1, "ip -o -4 addr show dev skiff0", out, sizeof(out));
	cr_assert(strstr(out, "inet 10.244.1.1/24"), "bridge address: %s", out);
	netns_kit_sh(-1, "ip -o link show skiff0", out, sizeof(out));
	cr_assert(strstr(out, ",UP") || strstr(out, "<UP"), "bridge up: %s", out);
	netns_kit_sh(-1, "cat /proc/sys/net/ipv4/ip_forward", out, sizeof(out));
	cr_assert_str_eq(out, "1\n");
	netns_kit_sh(-1, "ip route show proto 115", out, sizeof(out));
	cr_assert(strstr(out, "unreachable 10.96.0.0/12"), "service route: %s", out);
	/* Idempotent; with no pod addressed yet, a new CIDR replaces the first. */
	cr_assert_eq(pod_network_set_pod_cidr(pn, "10.244.1.0/24"), 0);
	cr_assert_eq(pod_network_set_pod_cidr(pn, "10.244.7.0/24"), 0);
	netns_kit_sh(-1, "ip -o -4 addr show dev skiff0", out, sizeof(out));
	cr_assert(strstr(out, "inet 10.244.7.1/24") && !strstr(out, "10.244.1.1"), "bridge renumbered: %s", out);
}

Test(agent_net, pod_cidr_kept_while_pods_have_addresses)
{
	int pod = netns_kit_new();

	start_network("10.244.1.0/24");
	pod_up(UID_A, pod);
	/* A second CIDR is refused rather than renumbering a running pod... */
	cr_assert_eq(pod_network_set_pod_cidr(pn, "10.244.7.0/24"), -EBUSY);
	cr_assert_eq(pod_network_pod_teardown(pn, UID_A), 0);
	/* ...and taken once it is gone. */
	cr_assert_eq(pod_network_set_pod_cidr(pn, "10.244.7.0/24"), 0);
	cr_assert_str_eq(netns_kit_ip(pod_up(UID_B, pod)), "10.244.7.2");
	close(pod);
}

Test(agent_net, service_cidr_fails_at_once)
{
	struct sockaddr_in vip = { .sin_family = AF_INET, .sin_port = htons(80) };
	int s;

	start_network("10.244.1.0/24");
	inet_pton(AF_INET, "10.96.0.10", &vip.sin_addr);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* Blocking connect: with the route it fails in the route lookup, no packet, no wait. */
	cr_assert_eq(connect(s, (struct sockaddr *)&vip, sizeof(vip)), -1);
	cr_assert(errno == ENETUNREACH || errno == EHOSTUNREACH, "connect to a VIP: %s", strerror(errno));
	close(s);
}

Test(agent_net, pod_gets_eth0_address_and_default_route)
{
	int pod = netns_kit_new();
	struct in_addr ip;
	char out[1024], veth[NET_VETH_NAME_LEN], cmd[128];

	start_network("10.244.1.0/24");
	ip = pod_up(UID_A, pod);
	cr_assert_str_eq(netns_kit_ip(ip), "10.244.1.2");
	netns_kit_sh(pod, "ip -o -4 addr show dev eth0", out, sizeof(out));
	cr_assert(strstr(out, "inet 10.244.1.2/24"), "eth0 address: %s", out);
	netns_kit_sh(pod, "ip route show default", out, sizeof(out));
	cr_assert(strstr(out, "default via 10.244.1.1 dev eth0"), "default route: %s", out);
	net_veth_name(UID_A, veth);
	snprintf(cmd, sizeof(cmd), "ip -o link show %s", veth);
	netns_kit_sh(-1, cmd, out, sizeof(out));
	cr_assert(strstr(out, "master skiff0"), "node end on the bridge: %s", out);
	cr_assert(strstr(out, ",UP"), "node end up: %s", out);
	snprintf(cmd, sizeof(cmd), "bridge -d link show dev %s", veth);
	netns_kit_sh(-1, cmd, out, sizeof(out));
	cr_assert(strstr(out, "hairpin on"), "hairpin mode on the pod's port: %s", out);
	/* Asked again (a retried start), the pod keeps its address. */
	cr_assert_eq(pod_network_pod_setup(pn, UID_A, pod, &ip), 0);
	cr_assert_str_eq(netns_kit_ip(ip), "10.244.1.2");
	close(pod);
}

/* Connects from a socket in `from` to ip:port where lsock listens; bounded wait; echoes a byte. */
static void tcp_roundtrip(int from, int lsock, struct in_addr ip, int port)
{
	int a, c = netns_kit_tcp_connect(from, lsock, ip, port, &a);
	char byte = 'x';

	cr_assert_eq(write(c, &byte, 1), 1);
	byte = 0;
	cr_assert_eq(read(a, &byte, 1), 1);
	cr_assert_eq(byte, 'x');
	close(a);
	close(c);
}

Test(agent_net, pods_talk_tcp_over_the_bridge)
{
	int a = netns_kit_new(), b = netns_kit_new(), node = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), l;
	struct in_addr ip_a, ip_b, gw;

	start_network("10.244.1.0/24");
	ip_a = pod_up(UID_A, a);
	ip_b = pod_up(UID_B, b);
	cr_assert_neq(ip_a.s_addr, ip_b.s_addr);
	l = netns_kit_listen(a, ip_a, 8080);
	tcp_roundtrip(b, l, ip_a, 8080);
	close(l);
	/* And the pod reaches its node through the gateway address. */
	inet_pton(AF_INET, "10.244.1.1", &gw);
	l = netns_kit_listen(node, gw, 8081);
	tcp_roundtrip(b, l, gw, 8081);
	close(l);
	close(a);
	close(b);
	close(node);
}

Test(agent_net, pod_to_service_cidr_is_unreachable)
{
	int pod = netns_kit_new(), c, err = 0;
	struct sockaddr_in vip = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct pollfd p;
	socklen_t len = sizeof(err);

	start_network("10.244.1.0/24");
	pod_up(UID_A, pod);
	inet_pton(AF_INET, "10.100.3.4", &vip.sin_addr);
	c = netns_kit_socket(pod, SOCK_STREAM | SOCK_NONBLOCK);
	cr_assert(connect(c, (struct sockaddr *)&vip, sizeof(vip)) < 0 && errno == EINPROGRESS);
	/* The node answers with an ICMP unreachable: the connect fails well before TCP's retries. */
	p = (struct pollfd){ .fd = c, .events = POLLOUT };
	cr_assert_eq(poll(&p, 1, 3000), 1, "no answer from the node's unreachable route in 3 s");
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	cr_assert(err == EHOSTUNREACH || err == ENETUNREACH, "connect from a pod to a VIP: %s", strerror(err));
	close(c);
	close(pod);
}

Test(agent_net, teardown_leaves_nothing)
{
	int a = netns_kit_new(), b = netns_kit_new();
	char out[1024], cmd[512];

	start_network("10.244.1.0/24");
	pod_up(UID_A, a);
	pod_up(UID_B, b);
	cr_assert_eq(pod_network_pod_teardown(pn, UID_A), 0);
	netns_kit_sh(a, "ip -o link show", out, sizeof(out));
	cr_assert_null(strstr(out, "eth0"), "eth0 gone with the pair: %s", out);
	netns_kit_sh(-1, "ip -o link show type veth", out, sizeof(out));
	cr_assert_null(strstr(out, "veth0a1b2c3d"), "node end of pod A gone: %s", out);
	cr_assert(strstr(out, "veth1b2c3d4e"), "pod B untouched: %s", out);
	cr_assert_eq(pod_network_pod_teardown(pn, UID_A), 0, "a second teardown is no error");
	cr_assert_eq(pod_network_pod_teardown(pn, UID_B), 0);
	netns_kit_sh(-1, "ip -o link show type veth", out, sizeof(out));
	cr_assert_str_eq(out, "", "no veth left: %s", out);
	snprintf(cmd, sizeof(cmd), "ls -A %s/ipam", dir);
	netns_kit_sh(-1, cmd, out, sizeof(out));
	cr_assert_str_eq(out, "", "no address still allocated: %s", out);
	cr_assert_eq(pod_network_remove_all(pn), 0);
	netns_kit_sh(-1, "ip -o link show type bridge; ip route show proto 115", out, sizeof(out));
	cr_assert_str_eq(out, "", "no bridge, no route of the agent left: %s", out);
	close(a);
	close(b);
}

Test(agent_net, restart_keeps_addresses_and_gc_frees_the_dead)
{
	int a = netns_kit_new(), b = netns_kit_new(), c = netns_kit_new();
	struct in_addr ip_a, ip_b, ip;
	char *live[] = { (char *)UID_A, NULL };
	char out[256];

	start_network("10.244.1.0/24");
	ip_a = pod_up(UID_A, a);
	ip_b = pod_up(UID_B, b);
	pod_network_free(pn);
	/* A new agent: ready from the saved podCIDR, before any Node event. */
	start_network(NULL);
	cr_assert(pod_network_ready(pn));
	cr_assert_eq(pod_network_pod_setup(pn, UID_A, a, &ip), 0);
	cr_assert_eq(ip.s_addr, ip_a.s_addr, "same pod, same address");
	ip = pod_up("2c3d4e5f-0000-4000-8000-00000000000c", c);
	cr_assert(ip.s_addr != ip_a.s_addr && ip.s_addr != ip_b.s_addr, "%s handed out twice", netns_kit_ip(ip));
	cr_assert_eq(pod_network_gc(pn, (char *const[]){ (char *)UID_A, (char *)"2c3d4e5f-0000-4000-8000-00000000000c", NULL }), 1);
	netns_kit_sh(-1, "ip -o link show type veth | grep -c veth1b2c3d4e || true", out, sizeof(out));
	cr_assert_str_eq(out, "0\n", "the dead pod's veth went with its address");
	cr_assert_eq(pod_network_gc(pn, live), 1);
	close(a);
	close(b);
	close(c);
}

static json_object *node(const char *name, const char *cidr, const char *ip)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"podCIDR\":\"%s\"},"
		 "\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"%s\"},"
		 "{\"type\":\"InternalIP\",\"address\":\"%s\"}]}}",
		 name, cidr, name, ip);
	return json_tokener_parse(buf);
}

static void routes(char *out, size_t size)
{
	netns_kit_sh(-1, "ip route show proto 115 | sort", out, size);
}

Test(agent_net, node_routes_follow_the_node_list)
{
	_cleanup_json_ json_object *items = json_object_new_array(), *n2b = node("n2", "10.244.2.0/24", "192.168.50.3"),
				   *n3 = node("n3", "10.244.3.0/24", "192.168.50.4"), *only3 = json_object_new_array();
	const struct api_watch_ops *ops = &pod_network_node_watch_ops;
	char out[1024];

	/* The fabric: the other nodes' InternalIPs are on a link of this node. */
	netns_kit_sh(-1, "ip link add fab0 type veth peer name fab1 && ip addr add 192.168.50.1/24 dev fab0"
	       " && ip link set fab1 up && ip link set fab0 up"
	       " && ip route add 10.244.99.0/24 via 192.168.50.99 proto static"
	       " && ip route add 10.244.98.0/24 via 192.168.50.98 proto 115", out, sizeof(out));
	start_network(NULL);
	json_object_array_add(items, node("n1", "10.244.1.0/24", "192.168.50.1"));
	json_object_array_add(items, node("n2", "10.244.2.0/24", "192.168.50.2"));
	cr_assert_eq(ops->relist(pn, items), 0);
	cr_assert(pod_network_ready(pn), "own Node's podCIDR started the network");
	routes(out, sizeof(out));
	cr_assert_str_eq(out, "10.244.2.0/24 via 192.168.50.2 dev fab0 \nunreachable 10.96.0.0/12 \n",
			 "relist: n2 routed, the stale route of the agent pruned, own CIDR not routed: %s", out);
	cr_assert_eq(ops->event(pn, "MODIFIED", n2b), 0);
	cr_assert_eq(ops->event(pn, "ADDED", n3), 0);
	routes(out, sizeof(out));
	cr_assert_str_eq(out,
			 "10.244.2.0/24 via 192.168.50.3 dev fab0 \n10.244.3.0/24 via 192.168.50.4 dev fab0 \n"
			 "unreachable 10.96.0.0/12 \n", "n2 moved, n3 added: %s", out);
	cr_assert_eq(ops->event(pn, "DELETED", n2b), 0);
	routes(out, sizeof(out));
	cr_assert_str_eq(out, "10.244.3.0/24 via 192.168.50.4 dev fab0 \nunreachable 10.96.0.0/12 \n", "%s", out);
	/* A relist is the whole truth: n3 is gone too. */
	json_object_array_add(only3, node("n1", "10.244.1.0/24", "192.168.50.1"));
	cr_assert_eq(ops->relist(pn, only3), 0);
	routes(out, sizeof(out));
	cr_assert_str_eq(out, "unreachable 10.96.0.0/12 \n", "%s", out);
	netns_kit_sh(-1, "ip route show 10.244.99.0/24", out, sizeof(out));
	cr_assert(strstr(out, "via 192.168.50.99"), "a route the agent did not make stays: %s", out);
	cr_assert_eq(pod_network_remove_all(pn), 0);
	routes(out, sizeof(out));
	cr_assert_str_eq(out, "", "%s", out);
}

/* Two nodes joined by a veth (host-gw): a pod on each reaches the other over TCP. */
Test(agent_net, pods_on_two_nodes_talk_over_node_routes)
{
	int node2 = netns_kit_new(), pa = netns_kit_new(), pb = netns_kit_new(), l, saved;
	struct pod_network *pn2;
	struct pod_network_config c2 = { .node_name = "n2", .bridge = "skiff0", .service_cidr = "10.96.0.0/12" };
	_cleanup_json_ json_object *items = json_object_new_array();
	char out[256], cmd[512], dir2[600];
	struct in_addr ip_a, ip_b;

	snprintf(cmd, sizeof(cmd),
		 "ip link add fab0 type veth peer name fab0 netns /proc/%d/fd/%d && ip addr add 192.168.60.1/24 dev fab0"
		 " && ip link set fab0 up", getpid(), node2);
	netns_kit_sh(-1, cmd, out, sizeof(out));
	netns_kit_sh(node2, "ip addr add 192.168.60.2/24 dev fab0 && ip link set fab0 up", out, sizeof(out));
	json_object_array_add(items, node("n1", "10.244.1.0/24", "192.168.60.1"));
	json_object_array_add(items, node("n2", "10.244.2.0/24", "192.168.60.2"));
	start_network(NULL);
	cr_assert_eq(pod_network_node_watch_ops.relist(pn, items), 0);
	snprintf(dir2, sizeof(dir2), "%s/n2", dir);
	c2.state_dir = dir2;
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(setns(node2, CLONE_NEWNET), 0);
	pn2 = pod_network_new(&c2); /* its netlink and its sysctl are node2's */
	cr_assert(pn2);
	cr_assert_eq(pod_network_node_watch_ops.relist(pn2, items), 0);
	cr_assert_eq(setns(saved, CLONE_NEWNET), 0);
	close(saved);
	ip_a = pod_up(UID_A, pa);
	cr_assert_eq(pod_network_pod_setup(pn2, UID_B, pb, &ip_b), 0);
	cr_assert_str_eq(netns_kit_ip(ip_b), "10.244.2.2");
	l = netns_kit_listen(pa, ip_a, 9000);
	tcp_roundtrip(pb, l, ip_a, 9000);
	close(l);
	l = netns_kit_listen(pb, ip_b, 9001);
	tcp_roundtrip(pa, l, ip_b, 9001);
	close(l);
	pod_network_free(pn2);
	close(pa);
	close(pb);
	close(node2);
}

/* pod_network_in_pid1_netns() as seen from namespace ns. */
static bool machine_namespace_check(int ns)
{
	int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	bool there;

	cr_assert_eq(setns(ns, CLONE_NEWNET), 0);
	there = pod_network_in_pid1_netns();
	/* Only looked at: the thread goes straight back. */
	cr_assert_eq(setns(own, CLONE_NEWNET), 0);
	close(own);
	return there;
}

Test(agent_net, knows_the_machine_namespace)
{
	char path[64], target[64] = "", pid1[64] = "";
	bool expected;

	cr_assert_not(pod_network_in_pid1_netns(), "the test's own namespace is not the machine's");
	/* Where the test process started: the machine's if it is the kernel's first or PID 1's. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", host_ns);
	cr_assert_gt(readlink(path, target, sizeof(target) - 1), 0);
	expected = strcmp(target, "net:[4026531833]") == 0 ||
		   (readlink("/proc/1/ns/net", pid1, sizeof(pid1) - 1) > 0 && strcmp(target, pid1) == 0);
	cr_assert_eq(machine_namespace_check(host_ns), expected, "the test's starting namespace (%s)", target);
}
