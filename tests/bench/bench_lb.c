/* bench_lb: what Service routing costs a connect(), and how fast the eBPF maps (or the nftables
 * table) are programmed,
 * in a private mount + network namespace (backend 10.200.0.1:8080 on a veth there) and a cgroup
 * of its own (skiff-bench-lb-<pid>), all removed at the end. Prints key=value lines for
 * tests/bench/section_lb.sh.
 *   bench_lb connect bpf|nft|iptables SERVICES [PER_COMMIT]   connect()+close() to a VIP vs the
 *                                                backend (Services loaded in one commit, or PER_COMMIT a commit)
 *   bench_lb program SERVICES ENDPOINTS SAMPLES [bpf|nft]   cold sync, then one-endpoint updates */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pods/cgroup.h"
#include "proxy/bpf_lb.h"
#include "proxy/nft_lb.h"
#include "bench_stats.h"

#define BACKEND_ADDR 0x0ac80001u /* 10.200.0.1 */
#define BACKEND_PORT 8080
#define VIP_BASE 0x0a600001u /* service i: 10.96.0.1 + i, port 80 */
#define PAIRS_MAX 20000

struct bench {
	char tmp[64], pin_dir[128], cg_path[256];
	pid_t server;
	void *dp;
	const struct lb_ops *ops;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		fprintf(stderr, "bench_lb: \"%s\" failed (%d)\n", cmd, r);
	return r == 0 ? 0 : -EIO;
}

/* The backend: accepts and closes as fast as it can, in the netns but outside the cgroup. */
static int server_start(struct bench *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(BACKEND_ADDR),
				  .sin_port = htons(BACKEND_PORT) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0)
		return -errno;
	b->server = fork();
	if (b->server < 0)
		return -errno;
	if (b->server == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the bench */
		for (;;) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
				close(c);
		}
	}
	close(fd);
	return 0;
}

static int setup(struct bench *b)
{
	char *mnt = NULL;
	int r;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	/* The pid in the names lets section_lb.sh sweep what a killed run (timeout) left. */
	snprintf(b->tmp, sizeof(b->tmp), "/tmp/skiff-bench-lb-%d-XXXXXX", getpid());
	if (!mkdtemp(b->tmp))
		return -errno;
	if (mount("bpf", b->tmp, "bpf", 0, NULL) < 0)
		return -errno;
	snprintf(b->pin_dir, sizeof(b->pin_dir), "%s/skiff/bench", b->tmp);
	r = sh("ip link set lo up && ip link add skiffva type veth peer name skiffvb && ip link set skiffva up && "
	       "ip link set skiffvb up && ip addr add 10.200.0.1/24 dev skiffva && "
	       /* nftables and iptables DNAT after routing: the Service range needs a route, as on a node */
	       "ip route add 10.96.0.0/12 dev skiffvb");
	if (r < 0)
		return r;
	r = cgroup_find_mount(&mnt);
	if (r < 0)
		return r;
	snprintf(b->cg_path, sizeof(b->cg_path), "%s/skiff-bench-lb-%d", mnt, getpid());
	free(mnt);
	if (mkdir(b->cg_path, 0755) < 0)
		return -errno;
	return server_start(b);
}

static void teardown(struct bench *b)
{
	if (b->dp)
		b->ops->close(b->dp);
	if (b->pin_dir[0])
		bpf_lb_detach(b->pin_dir, b->cg_path);
	if (b->server > 0) {
		kill(b->server, SIGKILL);
		waitpid(b->server, NULL, 0);
	}
	if (b->cg_path[0])
		rmdir(b->cg_path);
	if (b->tmp[0]) {
		umount2(b->tmp, MNT_DETACH);
		rmdir(b->tmp);
	}
}

static struct lb_service service(uint32_t i, struct lb_backend *be, size_t n)
{
	return (struct lb_service){ .vip = htonl(VIP_BASE + i), .port = 80, .proto = IPPROTO_TCP,
				    .n_backends = n, .backends = be };
}

/* N services of one backend each, per_commit to a commit (0: all in one, as the agent's full
 * resync after a start or a reconnect loads them). */
static int load_lb(struct bench *b, uint32_t n, uint32_t per_commit)
{
	struct lb_backend be = { htonl(BACKEND_ADDR), BACKEND_PORT };
	int r = 0;

	if (per_commit == 0)
		per_commit = n;
	for (uint32_t i = 0; r == 0 && i < n; i++) {
		struct lb_service s = service(i, &be, 1);

		if (i % per_commit == 0)
			r = b->ops->begin(b->dp);
		if (r == 0)
			r = b->ops->upsert(b->dp, &s);
		if (r == 0 && (i % per_commit == per_commit - 1 || i == n - 1))
			r = b->ops->commit(b->dp, false);
	}
	return r;
}

/* kube-proxy's iptables mode in miniature: one DNAT rule per Service in KUBE-SERVICES, walked
 * in order (iptables-nft, inside the private netns). */
static int load_iptables(struct bench *b, uint32_t n)
{
	char path[128], cmd[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s.rules", b->tmp);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "*nat\n:KUBE-SERVICES - [0:0]\n-A OUTPUT -j KUBE-SERVICES\n");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = VIP_BASE + i;

		fprintf(f, "-A KUBE-SERVICES -d %u.%u.%u.%u/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.200.0.1:%d\n",
			v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255, BACKEND_PORT);
	}
	fprintf(f, "COMMIT\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "iptables-nft-restore < %s", path);
	int r = sh(cmd);

	unlink(path);
	return r;
}

/* Seconds for one connect()+close(); the close resets (no TIME_WAIT to run out of ports). */
static double connect_once(uint32_t addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr) };
	struct linger lg = { 1, 0 };
	double t0 = now_s();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_port = htons(addr == BACKEND_ADDR ? BACKEND_PORT : 80);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bench_lb: connect %08x: %s\n", addr, strerror(errno));
		_exit(5);
	}
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return now_s() - t0;
}

/* In a child inside the cgroup: direct and VIP connects alternate one by one (order flipped
 * every pair, so load from elsewhere hits both alike); the results are the medians. The VIP
 * is the last Service loaded. */
static void client_main(const struct bench *b, uint32_t vip, int out)
{
	static double d[PAIRS_MAX], v[PAIRS_MAX];
	char path[300], line[256];
	double est = 0;
	int cg, n, len;

	snprintf(path, sizeof(path), "%s/cgroup.procs", b->cg_path);
	cg = open(path, O_WRONLY | O_CLOEXEC);
	if (cg < 0 || write(cg, "0", 1) != 1)
		_exit(3);
	close(cg);
	for (int i = 0; i < 50; i++) /* warm up, and size the run to about a second */
		est += connect_once(BACKEND_ADDR) + connect_once(vip);
	n = (int)(50 / est);
	n = n < 50 ? 50 : n > PAIRS_MAX ? PAIRS_MAX : n;
	for (int i = 0; i < n; i++) {
		if (i % 2) {
			d[i] = connect_once(BACKEND_ADDR);
			v[i] = connect_once(vip);
		} else {
			v[i] = connect_once(vip);
			d[i] = connect_once(BACKEND_ADDR);
		}
	}
	qsort(d, n, sizeof(double), cmp_double);
	qsort(v, n, sizeof(double), cmp_double);
	len = snprintf(line, sizeof(line), "direct_us=%.2f vip_us=%.2f ratio=%.3f pairs=%d\n", d[n / 2] * 1e6,
		       v[n / 2] * 1e6, v[n / 2] / d[n / 2], n);
	_exit(write(out, line, (size_t)len) == len ? 0 : 4);
}

static int measure(const struct bench *b, uint32_t vip, char *ret, size_t size)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		client_main(b, vip, p[1]);
	close(p[1]);
	n = read(p[0], ret, size - 1);
	close(p[0]);
	waitpid(pid, &status, 0);
	if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	ret[n] = '\0';
	return 0;
}

static int bench_connect(struct bench *b, const char *mode, uint32_t n, uint32_t per_commit)
{
	char result[256];
	double t0 = now_s();
	int r = 0;

	if (strcmp(mode, "bpf") == 0) {
		b->ops = &bpf_lb_ops;
		r = bpf_lb_open(b->pin_dir, b->cg_path, &b->dp);
	} else if (strcmp(mode, "nft") == 0) {
		b->ops = &nft_lb_ops;
		b->dp = nft_lb_new(false);
		r = b->dp ? 0 : -errno;
	} else if (strcmp(mode, "iptables") == 0) {
		r = load_iptables(b, n);
	} else {
		return -EINVAL;
	}
	if (r == 0 && b->dp)
		r = load_lb(b, n, per_commit);
	if (r < 0)
		return r;
	t0 = now_s() - t0;
	fprintf(stderr, "bench_lb: %s: %u services loaded in %.2f s\n", mode, n, t0);
	r = measure(b, VIP_BASE + n - 1, result, sizeof(result));
	if (r == 0)
		printf("mode=%s services=%u load_s=%.2f %s", mode, n, t0, result);
	return r;
}

/* Cold sync of n Services x e endpoints, then samples single-endpoint changes, each timed from
 * the call to its return (the maps are updated when upsert returns). */
static int bench_program(struct bench *b, uint32_t n, uint32_t e, uint32_t samples, const char *mode)
{
	struct lb_backend *be = calloc(e, sizeof(*be));
	double *lat = calloc(samples, sizeof(double)), t0, t1, cold, prune;
	bool nft = strcmp(mode, "nft") == 0;
	int r;

	b->ops = nft ? &nft_lb_ops : &bpf_lb_ops;
	if (!be || !lat)
		r = -ENOMEM;
	else if (nft)
		r = (b->dp = nft_lb_new(false)) ? 0 : -errno;
	else
		r = bpf_lb_open(b->pin_dir, b->cg_path, &b->dp);
	t0 = now_s();
	if (r == 0)
		r = b->ops->begin(b->dp);
	for (uint32_t i = 0; r == 0 && i < n; i++) {
		struct lb_service s = service(i, be, e);

		for (uint32_t k = 0; k < e; k++)
			be[k] = (struct lb_backend){ htonl(0x0ac80000u + (i * e + k) % 65000 + 1), BACKEND_PORT };
		r = b->ops->upsert(b->dp, &s);
	}
	t1 = now_s();
	if (r == 0)
		r = b->ops->commit(b->dp, true);
	cold = now_s() - t0;
	prune = now_s() - t1;
	srandom(1);
	for (uint32_t j = 0; r == 0 && j < samples; j++) {
		uint32_t i = (uint32_t)random() % n;
		struct lb_service s = service(i, be, e);

		for (uint32_t k = 0; k < e; k++)
			be[k] = (struct lb_backend){ htonl(0x0ac80000u + (i * e + k) % 65000 + 1), BACKEND_PORT };
		be[j % e].addr = htonl(0x0ac90000u + j % 65000 + 1); /* one endpoint replaced */
		t0 = now_s();
		r = b->ops->upsert(b->dp, &s);
		lat[j] = now_s() - t0;
	}
	if (r == 0) {
		qsort(lat, samples, sizeof(double), cmp_double);
		printf("mode=%s services=%u endpoints=%u cold_sync_s=%.3f prune_s=%.3f update_p50_ms=%.3f update_p99_ms=%.3f "
		       "samples=%u\n", mode, n, e, cold, prune, lat[samples / 2] * 1e3, lat[samples * 99 / 100] * 1e3, samples);
	}
	free(be);
	free(lat);
	return r;
}

int main(int argc, char **argv)
{
	struct bench b = { .server = -1 };
	int r;

	if (argc < 4 || (strcmp(argv[1], "connect") != 0 && strcmp(argv[1], "program") != 0) ||
	    (strcmp(argv[1], "program") == 0 && argc < 5)) {
		fprintf(stderr, "usage: bench_lb connect bpf|nft|iptables SERVICES [PER_COMMIT]\n"
				"       bench_lb program SERVICES ENDPOINTS SAMPLES [bpf|nft]\n");
		return 2;
	}
	r = setup(&b);
	if (r < 0)
		fprintf(stderr, "bench_lb: private netns, bpffs and cgroup: %s\n", strerror(-r));
	else if (strcmp(argv[1], "connect") == 0)
		r = bench_connect(&b, argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
				  argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0);
	else
		r = bench_program(&b, (uint32_t)strtoul(argv[2], NULL, 10), (uint32_t)strtoul(argv[3], NULL, 10),
				  (uint32_t)strtoul(argv[4], NULL, 10), argc > 5 ? argv[5] : "bpf");
	if (r < 0)
		fprintf(stderr, "bench_lb %s: %s\n", argv[1], strerror(-r));
	teardown(&b);
	return r < 0 ? 1 : 0;
}
