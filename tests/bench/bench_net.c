/* Pod networking, measured in network namespaces this process makes (all gone when it exits):
 * the agent's per-pod setup (veth, address, routes) one at a time and 100 at once, and pod-to-pod
 * TCP (1-byte request/response rate, bulk throughput) across two "nodes" joined by a veth (each
 * with its bridge, routed host-gw, and the agent's tc fast path unless --fastpath off) against two
 * bare namespaces joined by one veth pair.
 *   bench_net STATE_DIR [--pods N] [--seconds S] [--rounds R] [--fastpath on|off]
 * Prints key=value lines that tests/bench/section_net.sh turns into its table. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <skiff/json.h>
#include <skiff/log.h>

#include "net/netlink.h"
#include "net/pod_network.h"
#include "bench_stats.h"

#define BULK_CHUNK (128 * 1024)

struct opts {
	const char *state;
	int pods, rounds;
	double seconds;
	bool fastpath;
};

/* Says what failed and returns -1; main() turns it into the exit status. */
static int fail(const char *what, int err)
{
	fprintf(stderr, "bench_net: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return -1;
}

/* The calling thread into namespace ns; *saved (to leave() with) is where it was. */
static int enter(int ns, int *saved)
{
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0 || setns(ns, CLONE_NEWNET) < 0)
		return fail("setns", errno);
	return 0;
}

static int leave(int saved)
{
	/* A thread left in another namespace would measure the wrong thing from here on. */
	if (setns(saved, CLONE_NEWNET) < 0)
		abort();
	close(saved);
	return 0;
}

/* A fresh network namespace as an fd (-1 on failure); the calling thread stays where it is. */
static int netns_new(void)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd;

	if (saved < 0)
		return fail("open the bench's namespace", errno);
	if (unshare(CLONE_NEWNET) < 0) {
		close(saved);
		return fail("unshare(CLONE_NEWNET)", errno);
	}
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	leave(saved);
	return fd < 0 ? fail("open a new namespace", errno) : fd;
}

static void uid_of(int i, char uid[40])
{
	snprintf(uid, 40, "%08x-0000-4000-8000-%012x", 0xbe000000u + (unsigned)i, i);
}

/* ---- setup time ---- */

static struct pod_network *network_in(int ns, const char *state, const char *node, const char *cidr)
{
	struct pod_network_config c = { .node_name = node, .bridge = "skiff0", .service_cidr = "10.96.0.0/12",
					 .state_dir = state };
	struct pod_network *n;
	int saved, r;

	/* Its netlink socket and its ip_forward write belong to the namespace it is made in. */
	if (enter(ns, &saved) < 0)
		return NULL;
	n = pod_network_new(&c);
	r = n ? pod_network_set_pod_cidr(n, cidr) : -errno;
	leave(saved);
	if (r < 0) {
		fail("pod network (new, podCIDR)", r);
		pod_network_free(n);
		return NULL;
	}
	return n;
}

struct burst {
	struct pod_network *n;
	int *ns;
	atomic_int next;
	int count, err;
};

static void *burst_worker(void *ud)
{
	struct burst *b = ud;
	struct in_addr ip;
	char uid[40];
	int i, r;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->count) {
		uid_of(1000 + i, uid);
		r = pod_network_pod_setup(b->n, uid, b->ns[i], &ip);
		if (r < 0)
			b->err = r;
	}
	return NULL;
}

/* One at a time: each pod's setup and teardown timed alone. */
static int setup_serial(struct pod_network *n, const int *ns, int count)
{
	double *t = calloc((size_t)count, sizeof(double)), *d = calloc((size_t)count, sizeof(double)), t0;
	struct in_addr ip;
	char uid[40];
	int r = 0;

	for (int i = 0; t && d && r >= 0 && i < count; i++) {
		uid_of(i, uid);
		t0 = now_ms();
		r = pod_network_pod_setup(n, uid, ns[i], &ip);
		t[i] = now_ms() - t0;
	}
	for (int i = 0; t && d && r >= 0 && i < count; i++) {
		uid_of(i, uid);
		t0 = now_ms();
		r = pod_network_pod_teardown(n, uid);
		d[i] = now_ms() - t0;
	}
	if (!t || !d || r < 0) {
		free(t);
		free(d);
		return fail("pod setup/teardown", t && d ? r : -ENOMEM);
	}
	printf("setup n=%d p50_ms=%.2f p99_ms=%.2f\n", count, percentile(t, (size_t)count, 0.5),
	       percentile(t, (size_t)count, 0.99));
	printf("teardown n=%d p50_ms=%.2f p99_ms=%.2f\n", count, percentile(d, (size_t)count, 0.5),
	       percentile(d, (size_t)count, 0.99));
	free(t);
	free(d);
	return 0;
}

/* At once: four threads (the runtime starts pods in parallel) through the one agent lock. */
static int setup_burst(struct pod_network *n, int *ns, int count)
{
	struct burst b = { .n = n, .ns = ns, .count = count };
	pthread_t th[4];
	double t0 = now_ms();
	int started = 0;

	while (started < 4 && pthread_create(&th[started], NULL, burst_worker, &b) == 0)
		started++;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	t0 = now_ms() - t0;
	if (started == 0 || b.err < 0)
		return fail("pod setup (at once)", started ? b.err : -EAGAIN);
	printf("burst n=%d all_ms=%.1f per_pod_ms=%.2f\n", count, t0, t0 / count);
	return 0;
}

static int bench_setup(const struct opts *o)
{
	int node = netns_new(), *ns = calloc((size_t)o->pods, sizeof(int)), r = node < 0 || !ns ? -1 : 0;
	struct pod_network *n = NULL;
	char state[4096];

	snprintf(state, sizeof(state), "%s/setup", o->state);
	if (r >= 0)
		n = network_in(node, state, "bench-n1", "10.244.0.0/24");
	r = n ? 0 : -1;
	for (int i = 0; ns && i < o->pods; i++)
		ns[i] = r < 0 ? -1 : netns_new();
	for (int i = 0; r >= 0 && i < o->pods; i++)
		r = ns[i] < 0 ? -1 : 0;
	if (r >= 0)
		r = setup_serial(n, ns, o->pods);
	/* The same namespaces again: teardown left them empty. */
	if (r >= 0)
		r = setup_burst(n, ns, o->pods);
	if (n)
		pod_network_remove_all(n);
	pod_network_free(n);
	for (int i = 0; ns && i < o->pods; i++)
		if (ns[i] >= 0)
			close(ns[i]);
	if (node >= 0)
		close(node);
	free(ns);
	return r;
}

/* ---- traffic ---- */

static int nl_do(struct nl *nl, struct nlmsghdr *nlh, const char *what)
{
	int r = nl_talk(nl, nlh);

	return r < 0 ? fail(what, r) : 0;
}

/* A veth pair a (in ns_a, address ip_a/24) <-> b (in ns_b, ip_b/24), both up. */
static int wire(int ns_a, const char *a, const char *ip_a, int ns_b, const char *b, const char *ip_b)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl na = { 0 }, nb = { 0 };
	struct in_addr ia, ib;
	int ifa = -1, ifb = -1, r;

	inet_pton(AF_INET, ip_a, &ia);
	inet_pton(AF_INET, ip_b, &ib);
	r = nl_open(&na, ns_a);
	if (r >= 0)
		r = nl_open(&nb, ns_b);
	if (r >= 0)
		r = nl_do(&na, nl_msg_veth_add(buf, a, b, ns_b), "veth");
	if (r >= 0 && ((ifa = nl_link_index(&na, a)) < 0 || (ifb = nl_link_index(&nb, b)) < 0))
		r = ifa < 0 ? ifa : ifb;
	if (r >= 0)
		r = nl_do(&na, nl_msg_addr(buf, RTM_NEWADDR, ifa, ia, 24), "address");
	if (r >= 0)
		r = nl_do(&nb, nl_msg_addr(buf, RTM_NEWADDR, ifb, ib, 24), "address");
	if (r >= 0)
		r = nl_do(&na, nl_msg_link_set(buf, ifa, 0), "link up");
	if (r >= 0)
		r = nl_do(&nb, nl_msg_link_set(buf, ifb, 0), "link up");
	nl_close(&na);
	nl_close(&nb);
	return r < 0 ? fail("wiring two namespaces", r) : 0;
}

static int socket_in(int ns)
{
	int saved, s;

	if (enter(ns, &saved) < 0)
		return -1;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	leave(saved);
	if (s < 0)
		return fail("socket", errno);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	return s;
}

/* Where the client and the server run: two CPUs of the bench's own set, the same two for both
 * paths (two nodes' pods never share a CPU). Left to the scheduler, a round lands on one CPU
 * (cheap wakeups) or on two (an IPI per wakeup) by chance, and rounds of either path swing 4x. */
static int bench_cpu[2] = { -1, -1 };

static void cpus_pick(void)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			bench_cpu[n++] = c;
	if (n == 1)
		bench_cpu[1] = bench_cpu[0];
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct server {
	int lsock;
	int bulk; /* 0: echo one byte per request; 1: read until EOF, answer one byte */
	pthread_t th;
};

/* A failure here shows in the client as a closed connection. */
static void *serve(void *ud)
{
	struct server *s = ud;
	char *buf = malloc(BULK_CHUNK);
	int c = accept4(s->lsock, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;

	pin(bench_cpu[1]);
	while (c >= 0 && buf && (n = read(c, buf, s->bulk ? BULK_CHUNK : 1)) > 0)
		if (!s->bulk && write(c, buf, 1) != 1)
			break;
	if (c >= 0 && s->bulk && write(c, "k", 1) != 1)
		fail("bulk answer", errno);
	if (c >= 0)
		close(c);
	free(buf);
	return NULL;
}

/* The client's side of one run: transactions/s (rr) or Gbit/s (bulk), or -1. */
static double drive(int c, int bulk, double seconds)
{
	char *buf = calloc(1, BULK_CHUNK), byte = 'x';
	double t0 = now_ms(), end = t0 + seconds * 1e3, ms;
	long long count = 0;
	int ok = buf != NULL;

	while (ok && now_ms() < end) {
		if (bulk) {
			ok = write(c, buf, BULK_CHUNK) == BULK_CHUNK;
			count += BULK_CHUNK;
			continue;
		}
		for (int i = 0; ok && i < 64; i++, count++)
			ok = write(c, &byte, 1) == 1 && read(c, &byte, 1) == 1;
	}
	/* Bulk is counted when the receiver has read it all: EOF, then its one-byte answer. */
	shutdown(c, SHUT_WR);
	if (ok && bulk)
		ok = read(c, &byte, 1) == 1;
	ms = now_ms() - t0;
	free(buf);
	if (!ok)
		return fail(bulk ? "bulk transfer" : "request/response", errno ? errno : EPIPE);
	return bulk ? count * 8.0 / (ms * 1e6) : count / (ms / 1e3);
}

/* One run from a socket in client_ns to server_ip:port in server_ns. */
static double run_once(int client_ns, int server_ns, const char *server_ip, int port, int bulk, double seconds)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct server s = { .lsock = socket_in(server_ns), .bulk = bulk };
	int c = socket_in(client_ns);
	double result = -1;

	inet_pton(AF_INET, server_ip, &sa.sin_addr);
	if (s.lsock < 0 || c < 0)
		goto out;
	setsockopt(s.lsock, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(s.lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s.lsock, 1) < 0) {
		fail("listen", errno);
		goto out;
	}
	if (pthread_create(&s.th, NULL, serve, &s) != 0) {
		fail("server thread", EAGAIN);
		goto out;
	}
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("connect", errno);
	else
		result = drive(c, bulk, seconds);
	/* The server ends at EOF (drive shuts down the write side), or its accept fails once the
	 * listener is shut down (a connect that never arrived). */
	shutdown(c, SHUT_RDWR);
	shutdown(s.lsock, SHUT_RDWR);
	pthread_join(s.th, NULL);
out:
	if (c >= 0)
		close(c);
	if (s.lsock >= 0)
		close(s.lsock);
	return result;
}

struct path {
	int client, server;
	const char *server_ip;
};

/* Rounds alternate the two paths, so a noisy moment hits both, and which goes first alternates
 * too (a warm cache or a quiet moment favours neither); the median of each is reported. */
static int compare(const struct opts *o, const struct path *base, const struct path *skiff, int bulk)
{
	double *b = calloc((size_t)o->rounds, sizeof(double)), *s = calloc((size_t)o->rounds, sizeof(double));
	double mb, ms;
	int ok = b && s;

	for (int r = 0; ok && r < o->rounds; r++) {
		if (r % 2)
			s[r] = run_once(skiff->client, skiff->server, skiff->server_ip, 7001 + 2 * r, bulk, o->seconds);
		b[r] = run_once(base->client, base->server, base->server_ip, 7000 + 2 * r, bulk, o->seconds);
		if (r % 2 == 0)
			s[r] = run_once(skiff->client, skiff->server, skiff->server_ip, 7001 + 2 * r, bulk, o->seconds);
		ok = b[r] >= 0 && s[r] >= 0;
	}
	if (!ok) {
		free(b);
		free(s);
		return -1;
	}
	/* Each round's pair too (the rounds' spread; percentile() sorts, so printed first). */
	printf("%s_rounds", bulk ? "bulk" : "rr");
	for (int r = 0; r < o->rounds; r++)
		printf(" %.*f/%.*f", bulk ? 2 : 0, s[r], bulk ? 2 : 0, b[r]);
	printf("\n");
	mb = percentile(b, (size_t)o->rounds, 0.5);
	ms = percentile(s, (size_t)o->rounds, 0.5);
	printf("%s base=%.*f skiff=%.*f ratio=%.3f rounds=%d seconds=%.1f\n", bulk ? "bulk_gbps" : "rr_per_s",
	       bulk ? 2 : 0, mb, bulk ? 2 : 0, ms, ms / mb, o->rounds, o->seconds);
	free(b);
	free(s);
	return 0;
}

static json_object *node_json(const char *name, const char *cidr, const char *ip)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"podCIDR\":\"%s\"},"
		 "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"%s\"}]}}",
		 name, cidr, ip);
	return json_tokener_parse(buf);
}

/* Two node namespaces on a fabric veth, each with its pod network and the other's route. */
static int two_nodes(const struct opts *o, int n1, int n2, struct pod_network **ret1, struct pod_network **ret2)
{
	json_object *items = json_object_new_array();
	char state[4096];
	int r;

	r = wire(n1, "fab0", "192.168.77.1", n2, "fab0", "192.168.77.2");
	snprintf(state, sizeof(state), "%s/n1", o->state);
	if (r >= 0 && !(*ret1 = network_in(n1, state, "bench-n1", "10.244.1.0/24")))
		r = -1;
	snprintf(state, sizeof(state), "%s/n2", o->state);
	if (r >= 0 && !(*ret2 = network_in(n2, state, "bench-n2", "10.244.2.0/24")))
		r = -1;
	/* As the agent: on unless turned off; a kernel that cannot run it is a failed bench. */
	if (r >= 0 && (pod_network_set_fastpath(*ret1, o->fastpath) < 0 || pod_network_set_fastpath(*ret2, o->fastpath) < 0))
		r = fail("pod fast path", ENOTSUP);
	json_object_array_add(items, node_json("bench-n1", "10.244.1.0/24", "192.168.77.1"));
	json_object_array_add(items, node_json("bench-n2", "10.244.2.0/24", "192.168.77.2"));
	if (r >= 0 && (pod_network_node_watch_ops.relist(*ret1, items) < 0 ||
		       pod_network_node_watch_ops.relist(*ret2, items) < 0))
		r = fail("node routes", EINVAL);
	json_object_put(items);
	return r;
}

/* What the fast path's programs did: evidence that the pod path was the agent's real one. */
static void fastpath_report(struct pod_network *net1, struct pod_network *net2)
{
	struct net_fastpath_stats a, b;

	if (pod_network_fastpath_stats(net1, &a) < 0 || pod_network_fastpath_stats(net2, &b) < 0) {
		printf("fastpath on=0\n");
		return;
	}
	printf("fastpath on=1 remote=%llu in=%llu local=%llu pass=%llu\n", (unsigned long long)(a.remote + b.remote),
	       (unsigned long long)(a.in + b.in), (unsigned long long)(a.local + b.local),
	       (unsigned long long)(a.pass + b.pass));
}

static int bench_traffic(const struct opts *o)
{
	int ns[6], r = 0; /* bare a, bare b, node 1, node 2, pod a, pod b */
	struct pod_network *net1 = NULL, *net2 = NULL;
	char ip_b[INET_ADDRSTRLEN], uid[40];
	struct in_addr ip;

	for (int i = 0; i < 6; i++)
		if ((ns[i] = r < 0 ? -1 : netns_new()) < 0)
			r = -1;
	if (r >= 0)
		r = wire(ns[0], "base0", "10.10.0.1", ns[1], "base1", "10.10.0.2");
	if (r >= 0)
		r = two_nodes(o, ns[2], ns[3], &net1, &net2);
	uid_of(1, uid);
	if (r >= 0 && (r = pod_network_pod_setup(net1, uid, ns[4], &ip)) < 0)
		fail("pod a", r);
	uid_of(2, uid);
	if (r >= 0 && (r = pod_network_pod_setup(net2, uid, ns[5], &ip)) < 0)
		fail("pod b", r);
	inet_ntop(AF_INET, &ip, ip_b, sizeof(ip_b));
	cpus_pick();
	pin(bench_cpu[0]); /* the client: this thread */
	printf("placement client_cpu=%d server_cpu=%d\n", bench_cpu[0], bench_cpu[1]);
	if (r >= 0)
		r = compare(o, &(struct path){ ns[0], ns[1], "10.10.0.2" }, &(struct path){ ns[4], ns[5], ip_b }, 0);
	if (r >= 0)
		r = compare(o, &(struct path){ ns[0], ns[1], "10.10.0.2" }, &(struct path){ ns[4], ns[5], ip_b }, 1);
	if (r >= 0)
		fastpath_report(net1, net2);
	if (net1)
		pod_network_remove_all(net1);
	if (net2)
		pod_network_remove_all(net2);
	pod_network_free(net1);
	pod_network_free(net2);
	for (int i = 0; i < 6; i++)
		if (ns[i] >= 0)
			close(ns[i]);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "pods", required_argument, NULL, 'p' },
						  { "seconds", required_argument, NULL, 's' },
						  { "rounds", required_argument, NULL, 'r' },
						  { "fastpath", required_argument, NULL, 'f' },
						  { 0 } };
	struct opts o = { .pods = 100, .rounds = 3, .seconds = 1.0, .fastpath = true };
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'p')
			o.pods = atoi(optarg);
		else if (c == 's')
			o.seconds = atof(optarg);
		else if (c == 'r')
			o.rounds = atoi(optarg);
		else if (c == 'f' && (strcmp(optarg, "on") == 0 || strcmp(optarg, "off") == 0))
			o.fastpath = strcmp(optarg, "on") == 0;
		else
			return 2;
	}
	if (optind != argc - 1 || o.pods < 1 || o.pods > 250 || o.rounds < 1 || o.seconds <= 0) {
		fprintf(stderr, "usage: bench_net STATE_DIR [--pods 1..250] [--seconds S] [--rounds R] [--fastpath on|off]\n");
		return 2;
	}
	o.state = argv[optind];
	log_set_level(SKIFF_LOG_WARN);
	/* Everything below lives in namespaces of this process: nothing outlives it. */
	if (unshare(CLONE_NEWNET) < 0) {
		fail("unshare(CLONE_NEWNET) (needs CAP_SYS_ADMIN)", errno);
		return 1;
	}
	if (bench_setup(&o) < 0 || bench_traffic(&o) < 0)
		return 1;
	return 0;
}
