/* Pod networking, measured in network namespaces this process makes (all gone when it exits):
 * the agent's per-pod setup (veth, address, routes) one at a time and 100 at once, and pod-to-pod
 * TCP (1-byte request/response rate, bulk throughput) across two "nodes" joined by a veth (each
 * with its bridge, routed host-gw) against two bare namespaces joined by one veth pair.
 *   bench_net STATE_DIR [--pods N] [--seconds S] [--rounds R]
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

#define BULK_CHUNK (128 * 1024)

struct opts {
	const char *state;
	int pods, rounds;
	double seconds;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n values (sorted in place). */
static double percentile(double *v, size_t n, double p)
{
	size_t rank;

	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)(p * n + 0.999999);
	return v[rank ? rank - 1 : 0];
}

static int die(const char *what, int err)
{
	fprintf(stderr, "bench_net: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* A fresh network namespace as an fd; the calling thread stays where it is. */
static int netns_new(void)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd;

	if (saved < 0 || unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET)", errno);
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(saved, CLONE_NEWNET) < 0)
		die("back to the bench's namespace", errno);
	close(saved);
	return fd;
}

static void enter(int ns, int *saved)
{
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0 || setns(ns, CLONE_NEWNET) < 0)
		die("setns", errno);
}

static void leave(int saved)
{
	if (setns(saved, CLONE_NEWNET) < 0)
		die("setns back", errno);
	close(saved);
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
	enter(ns, &saved);
	n = pod_network_new(&c);
	if (!n)
		die("pod_network_new", errno);
	r = pod_network_set_pod_cidr(n, cidr);
	if (r < 0)
		die("pod_network_set_pod_cidr", r);
	leave(saved);
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

static void bench_setup(const struct opts *o)
{
	int node = netns_new(), *ns = calloc((size_t)o->pods, sizeof(int));
	double *t = calloc((size_t)o->pods, sizeof(double)), *d = calloc((size_t)o->pods, sizeof(double)), t0;
	char state[4096], uid[40];
	struct pod_network *n;
	struct burst b = { 0 };
	pthread_t th[4];
	struct in_addr ip;
	int r;

	if (!ns || !t || !d)
		die("calloc", ENOMEM);
	snprintf(state, sizeof(state), "%s/setup", o->state);
	n = network_in(node, state, "bench-n1", "10.244.0.0/24");
	for (int i = 0; i < o->pods; i++)
		ns[i] = netns_new();
	for (int i = 0; i < o->pods; i++) {
		uid_of(i, uid);
		t0 = now_ms();
		r = pod_network_pod_setup(n, uid, ns[i], &ip);
		t[i] = now_ms() - t0;
		if (r < 0)
			die("pod setup", r);
	}
	for (int i = 0; i < o->pods; i++) {
		uid_of(i, uid);
		t0 = now_ms();
		r = pod_network_pod_teardown(n, uid);
		d[i] = now_ms() - t0;
		if (r < 0)
			die("pod teardown", r);
	}
	printf("setup n=%d p50_ms=%.2f p99_ms=%.2f\n", o->pods, percentile(t, (size_t)o->pods, 0.5),
	       percentile(t, (size_t)o->pods, 0.99));
	printf("teardown n=%d p50_ms=%.2f p99_ms=%.2f\n", o->pods, percentile(d, (size_t)o->pods, 0.5),
	       percentile(d, (size_t)o->pods, 0.99));
	/* At once: four threads (the runtime starts pods in parallel) over the same namespaces, reused. */
	b = (struct burst){ .n = n, .ns = ns, .count = o->pods };
	t0 = now_ms();
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, burst_worker, &b);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	t0 = now_ms() - t0;
	if (b.err < 0)
		die("pod setup (burst)", b.err);
	printf("burst n=%d all_ms=%.1f per_pod_ms=%.2f\n", o->pods, t0, t0 / o->pods);
	pod_network_remove_all(n);
	pod_network_free(n);
	for (int i = 0; i < o->pods; i++)
		close(ns[i]);
	close(node);
	free(ns);
	free(t);
	free(d);
}

/* ---- traffic ---- */

static void nl_must(struct nl *nl, struct nlmsghdr *nlh, const char *what)
{
	int r = nl_talk(nl, nlh);

	if (r < 0)
		die(what, r);
}

/* A veth pair a (in ns_a, address ip_a/24) <-> b (in ns_b, ip_b/24), both up. */
static void wire(int ns_a, const char *a, const char *ip_a, int ns_b, const char *b, const char *ip_b)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl na = { 0 }, nb = { 0 };
	struct in_addr ia, ib;
	int ifa, ifb;

	inet_pton(AF_INET, ip_a, &ia);
	inet_pton(AF_INET, ip_b, &ib);
	if (nl_open(&na, ns_a) < 0 || nl_open(&nb, ns_b) < 0)
		die("netlink", errno);
	nl_must(&na, nl_msg_veth_add(buf, a, b, ns_b), "veth");
	ifa = nl_link_index(&na, a);
	ifb = nl_link_index(&nb, b);
	if (ifa < 0 || ifb < 0)
		die("veth index", ifa < 0 ? ifa : ifb);
	nl_must(&na, nl_msg_addr(buf, RTM_NEWADDR, ifa, ia, 24), "address");
	nl_must(&nb, nl_msg_addr(buf, RTM_NEWADDR, ifb, ib, 24), "address");
	nl_must(&na, nl_msg_link_set(buf, ifa, 0), "up");
	nl_must(&nb, nl_msg_link_set(buf, ifb, 0), "up");
	nl_close(&na);
	nl_close(&nb);
}

static int socket_in(int ns)
{
	int saved, s;

	enter(ns, &saved);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	leave(saved);
	if (s < 0)
		die("socket", errno);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	return s;
}

struct server {
	int lsock;
	int bulk; /* 0: echo one byte per request; 1: read until EOF, answer one byte */
	pthread_t th;
};

static void *serve(void *ud)
{
	struct server *s = ud;
	char *buf = malloc(BULK_CHUNK);
	int c = accept4(s->lsock, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;

	if (c < 0 || !buf)
		die("accept", errno);
	while ((n = read(c, buf, s->bulk ? BULK_CHUNK : 1)) > 0)
		if (!s->bulk && write(c, buf, 1) != 1)
			break;
	if (s->bulk && write(c, "k", 1) != 1)
		die("bulk ack", errno);
	close(c);
	free(buf);
	return NULL;
}

/* One run from a socket in client_ns to server_ip:port in server_ns: transactions/s (rr) or Gbit/s. */
static double run_once(int client_ns, int server_ns, const char *server_ip, int port, int bulk, double seconds)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct server s = { .lsock = socket_in(server_ns), .bulk = bulk };
	int c = socket_in(client_ns);
	char *buf = calloc(1, BULK_CHUNK), byte = 'x';
	double t0, end, result;
	long long count = 0;

	inet_pton(AF_INET, server_ip, &sa.sin_addr);
	setsockopt(s.lsock, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (!buf || bind(s.lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s.lsock, 1) < 0)
		die("listen", errno);
	pthread_create(&s.th, NULL, serve, &s);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect", errno);
	t0 = now_ms();
	end = t0 + seconds * 1e3;
	while (now_ms() < end) {
		if (bulk) {
			if (write(c, buf, BULK_CHUNK) != BULK_CHUNK)
				die("bulk write", errno);
			count += BULK_CHUNK;
			continue;
		}
		for (int i = 0; i < 64; i++, count++)
			if (write(c, &byte, 1) != 1 || read(c, &byte, 1) != 1)
				die("request/response", errno);
	}
	/* Bulk is counted when the receiver has read it all: EOF, then its one-byte answer. */
	shutdown(c, SHUT_WR);
	if (bulk && read(c, &byte, 1) != 1)
		die("bulk ack", errno);
	result = now_ms() - t0;
	result = bulk ? count * 8.0 / (result * 1e6) : count / (result / 1e3);
	pthread_join(s.th, NULL);
	close(c);
	close(s.lsock);
	free(buf);
	return result;
}

struct path {
	int client, server;
	const char *server_ip;
};

/* Rounds alternate the two paths, so a noisy moment hits both; the median of each is reported. */
static void compare(const struct opts *o, const struct path *base, const struct path *skiff, int bulk)
{
	double *b = calloc((size_t)o->rounds, sizeof(double)), *s = calloc((size_t)o->rounds, sizeof(double));
	double mb, ms;

	if (!b || !s)
		die("calloc", ENOMEM);
	for (int r = 0; r < o->rounds; r++) {
		b[r] = run_once(base->client, base->server, base->server_ip, 7000 + 2 * r, bulk, o->seconds);
		s[r] = run_once(skiff->client, skiff->server, skiff->server_ip, 7001 + 2 * r, bulk, o->seconds);
	}
	mb = percentile(b, (size_t)o->rounds, 0.5);
	ms = percentile(s, (size_t)o->rounds, 0.5);
	printf("%s base=%.*f skiff=%.*f ratio=%.3f rounds=%d seconds=%.1f\n", bulk ? "bulk_gbps" : "rr_per_s",
	       bulk ? 2 : 0, mb, bulk ? 2 : 0, ms, ms / mb, o->rounds, o->seconds);
	free(b);
	free(s);
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

static void bench_traffic(const struct opts *o)
{
	int ba = netns_new(), bb = netns_new(), n1 = netns_new(), n2 = netns_new(), pa = netns_new(), pb = netns_new();
	json_object *items = json_object_new_array();
	struct pod_network *net1, *net2;
	char state[4096], ip_b[INET_ADDRSTRLEN], uid[40];
	struct in_addr ip;
	int r;

	wire(ba, "base0", "10.10.0.1", bb, "base1", "10.10.0.2");
	wire(n1, "fab0", "192.168.77.1", n2, "fab0", "192.168.77.2");
	snprintf(state, sizeof(state), "%s/n1", o->state);
	net1 = network_in(n1, state, "bench-n1", "10.244.1.0/24");
	snprintf(state, sizeof(state), "%s/n2", o->state);
	net2 = network_in(n2, state, "bench-n2", "10.244.2.0/24");
	json_object_array_add(items, node_json("bench-n1", "10.244.1.0/24", "192.168.77.1"));
	json_object_array_add(items, node_json("bench-n2", "10.244.2.0/24", "192.168.77.2"));
	if (pod_network_node_watch_ops.relist(net1, items) < 0 || pod_network_node_watch_ops.relist(net2, items) < 0)
		die("node routes", EINVAL);
	uid_of(1, uid);
	if ((r = pod_network_pod_setup(net1, uid, pa, &ip)) < 0)
		die("pod a", r);
	uid_of(2, uid);
	if ((r = pod_network_pod_setup(net2, uid, pb, &ip)) < 0)
		die("pod b", r);
	inet_ntop(AF_INET, &ip, ip_b, sizeof(ip_b));
	compare(o, &(struct path){ ba, bb, "10.10.0.2" }, &(struct path){ pa, pb, ip_b }, 0);
	compare(o, &(struct path){ ba, bb, "10.10.0.2" }, &(struct path){ pa, pb, ip_b }, 1);
	pod_network_remove_all(net1);
	pod_network_remove_all(net2);
	pod_network_free(net1);
	pod_network_free(net2);
	json_object_put(items);
	for (int fd = 0, all[] = { ba, bb, n1, n2, pa, pb }; fd < 6; fd++)
		close(all[fd]);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "pods", required_argument, NULL, 'p' },
						  { "seconds", required_argument, NULL, 's' },
						  { "rounds", required_argument, NULL, 'r' },
						  { 0 } };
	struct opts o = { .pods = 100, .rounds = 3, .seconds = 1.0 };
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'p')
			o.pods = atoi(optarg);
		else if (c == 's')
			o.seconds = atof(optarg);
		else if (c == 'r')
			o.rounds = atoi(optarg);
		else
			return 2;
	}
	if (optind != argc - 1 || o.pods < 1 || o.pods > 250 || o.rounds < 1 || o.seconds <= 0) {
		fprintf(stderr, "usage: bench_net STATE_DIR [--pods 1..250] [--seconds S] [--rounds R]\n");
		return 2;
	}
	o.state = argv[optind];
	log_set_level(SKIFF_LOG_WARN);
	/* Everything below lives in namespaces of this process: nothing outlives it. */
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET) (needs CAP_SYS_ADMIN)", errno);
	bench_setup(&o);
	bench_traffic(&o);
	return 0;
}
