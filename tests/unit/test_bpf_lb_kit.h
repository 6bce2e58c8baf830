/* Fixture of test_bpf_lb.c: private mount + network namespaces, a bpffs for the pins, backends
 * that answer with their identity, clients forked into a test cgroup. */
#ifndef SKIFF_TEST_BPF_LB_KIT_H
#define SKIFF_TEST_BPF_LB_KIT_H

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pods/cgroup.h"
#include "proxy/bpf_lb.h"

/* htonl() as a constant expression, for the static backend tables. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LBT_N(x) ((uint32_t)(((x) & 0xffu) << 24 | ((x) & 0xff00u) << 8 | ((x) >> 8 & 0xff00u) | (x) >> 24))
#else
#define LBT_N(x) ((uint32_t)(x))
#endif
#define LBT_VIP LBT_N(0x0a60000au)  /* 10.96.0.10 */
#define LBT_VIP2 LBT_N(0x0a60000bu) /* 10.96.0.11 */
#define LBT_BE(i) LBT_N(0x0ac80000u + (i)) /* 10.200.0.i, on the veth of the test netns */
#define LBT_SKIFFCTL "build/asan/bin/skiffctl"
#define LBT_NBE 3

struct lbt {
	char *pin_root, *pin_dir, *cg_path;
	void *dp;
	pid_t server;
};

struct lbt_client {
	uint32_t vip;
	uint16_t port;
	uint8_t proto;
	bool unconnected; /* UDP: sendto()/recvfrom() on an unconnected socket */
	int n;
};

/* Each backend i listens on 10.200.0.i: TCP 8080 writes "be<i>" and closes, UDP 5353 answers
 * every datagram with "be<i>". One process serves them all until fini kills it. */
static void lbt_serve(const int *fds, size_t n)
{
	struct pollfd p[2 * LBT_NBE];
	char id[8], buf[64];

	for (size_t i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	for (;;) {
		if (poll(p, n, -1) < 0)
			_exit(1);
		for (size_t i = 0; i < n; i++) {
			struct sockaddr_in src;
			socklen_t len = sizeof(src);
			int c;

			if (!(p[i].revents & POLLIN))
				continue;
			snprintf(id, sizeof(id), "be%zu", i % LBT_NBE + 1);
			if (i < LBT_NBE) {
				c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
				if (c >= 0 && write(c, id, strlen(id)) >= 0)
					close(c);
			} else if (recvfrom(fds[i], buf, sizeof(buf), 0, (struct sockaddr *)&src, &len) >= 0) {
				sendto(fds[i], id, strlen(id), 0, (struct sockaddr *)&src, len);
			}
		}
	}
}

static int lbt_socket(int type, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = addr, .sin_port = htons(port) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s:%u: %s", inet_ntoa(sa.sin_addr), port,
		     strerror(errno));
	if (type == SOCK_STREAM)
		cr_assert_eq(listen(fd, 512), 0);
	return fd;
}

static void lbt_start_servers(struct lbt *t)
{
	int fds[2 * LBT_NBE];

	for (int i = 0; i < LBT_NBE; i++) {
		fds[i] = lbt_socket(SOCK_STREAM, LBT_BE(i + 1), 8080);
		fds[LBT_NBE + i] = lbt_socket(SOCK_DGRAM, LBT_BE(i + 1), 5353);
	}
	t->server = fork();
	cr_assert_geq(t->server, 0);
	if (t->server == 0) {
		/* A test that crashes runs no fini: the server must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		lbt_serve(fds, 2 * LBT_NBE);
	}
	for (int i = 0; i < 2 * LBT_NBE; i++)
		close(fds[i]);
}

/* What a crashed test (no fini) left: its cgroup and its pin root, named by its pid. Its mounts
 * and netns went with its namespaces. */
static void lbt_sweep(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	int pid;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || sscanf(e->d_name + strlen(prefix), "%d", &pid) != 1)
			continue;
		if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rmdir(path);
	}
	if (d)
		closedir(d);
}

static void lbt_setup(struct lbt *t, const char *name)
{
	char *mnt = NULL, prefix[64];

	memset(t, 0, sizeof(*t));
	t->server = -1;
	cr_assert_eq(unshare(CLONE_NEWNS | CLONE_NEWNET), 0, "unshare mount+net namespaces (needs root): %s",
		     strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "make / private: %s", strerror(errno));
	cr_assert(asprintf(&t->pin_root, "/tmp/skiff-test-%s-%d-XXXXXX", name, getpid()) > 0);
	cr_assert(mkdtemp(t->pin_root), "mkdtemp: %s", strerror(errno));
	cr_assert_eq(mount("bpf", t->pin_root, "bpf", 0, NULL), 0, "mount bpffs on %s: %s", t->pin_root,
		     strerror(errno));
	cr_assert(asprintf(&t->pin_dir, "%s/skiff/node1", t->pin_root) > 0);
	/* The backends' addresses on a veth inside this test's own network namespace. */
	cr_assert_eq(system("ip link set lo up && ip link add skiffva type veth peer name skiffvb && "
			    "ip link set skiffva up && ip link set skiffvb up && "
			    "ip addr add 10.200.0.1/24 dev skiffva && ip addr add 10.200.0.2/24 dev skiffva && "
			    "ip addr add 10.200.0.3/24 dev skiffva"),
		     0, "veth with 10.200.0.1-3 in the test netns (needs iproute2 and veth)");
	cr_assert_eq(cgroup_find_mount(&mnt), 0, "no cgroup2 mount in /proc/self/mountinfo");
	lbt_sweep(mnt, "skiff-test-lb-");
	snprintf(prefix, sizeof(prefix), "skiff-test-%s-", name);
	lbt_sweep("/tmp", prefix);
	cr_assert(asprintf(&t->cg_path, "%s/skiff-test-lb-%d", mnt, getpid()) > 0);
	free(mnt);
	cr_assert_eq(mkdir(t->cg_path, 0755), 0, "mkdir %s: %s", t->cg_path, strerror(errno));
	lbt_start_servers(t);
}

static void lbt_teardown(struct lbt *t)
{
	if (t->dp)
		bpf_lb_ops.close(t->dp);
	if (t->pin_dir)
		bpf_lb_detach(t->pin_dir, t->cg_path);
	if (t->server > 0) {
		kill(t->server, SIGKILL);
		waitpid(t->server, NULL, 0);
	}
	if (t->cg_path)
		cr_expect_eq(rmdir(t->cg_path), 0, "rmdir %s: %s", t->cg_path, strerror(errno));
	if (t->pin_root) {
		umount2(t->pin_root, MNT_DETACH);
		cr_expect_eq(rmdir(t->pin_root), 0, "rmdir %s: %s", t->pin_root, strerror(errno));
	}
	free(t->pin_root);
	free(t->pin_dir);
	free(t->cg_path);
}

/* --- the client, in a forked child inside the cgroup: one line per try --- */

static void lbt_try(const struct lbt_client *c, FILE *out)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = c->vip, .sin_port = htons(c->port) };
	struct sockaddr_in peer = { 0 };
	socklen_t len = sizeof(peer);
	struct timeval tv = { .tv_sec = 5 };
	const char *step = "socket";
	char buf[16] = { 0 };
	ssize_t n = -1;
	int fd;

	fd = socket(AF_INET, (c->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (c->unconnected) {
		step = "sendto";
		if (sendto(fd, "q", 1, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			goto fail;
	} else {
		step = "connect";
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			goto fail;
		step = "getpeername";
		if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
			goto fail;
		step = "send";
		if (c->proto == IPPROTO_UDP && send(fd, "q", 1, 0) < 0)
			goto fail;
	}
	step = "recv";
	if (c->proto == IPPROTO_TCP)
		n = read(fd, buf, sizeof(buf) - 1);
	else
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&peer, &len);
	if (n <= 0)
		goto fail;
	fprintf(out, "%s %s:%u\n", buf, inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
	close(fd);
	return;
fail:
	fprintf(out, "err %s %s\n", step, n == 0 ? "EOF" : strerrorname_np(errno));
	if (fd >= 0)
		close(fd);
}

static void lbt_client_main(const struct lbt *t, const struct lbt_client *c, int wfd)
{
	char path[PATH_MAX], *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int cg;

	snprintf(path, sizeof(path), "%s/cgroup.procs", t->cg_path);
	cg = open(path, O_WRONLY | O_CLOEXEC);
	if (!out || cg < 0 || write(cg, "0", 1) != 1)
		_exit(3);
	close(cg);
	for (int i = 0; i < c->n; i++)
		lbt_try(c, out);
	fclose(out);
	/* All at once at the end: the parent may be busy (updating maps) until then. */
	for (size_t off = 0; off < size;) {
		ssize_t w = write(wfd, text + off, size - off);

		if (w <= 0)
			_exit(4);
		off += (size_t)w;
	}
	_exit(0);
}

static int lbt_start_in_cgroup(const struct lbt *t, const struct lbt_client *c, pid_t *ret_pid)
{
	int p[2];
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		lbt_client_main(t, c, p[1]);
	}
	close(p[1]);
	*ret_pid = pid;
	return p[0];
}

static bool lbt_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static char *lbt_finish(int fd, pid_t pid)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	char buf[4096];
	ssize_t n;
	int status;

	cr_assert(out);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	fclose(out);
	close(fd);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client exited with status %d (3: cannot join %s)",
		  status, "the cgroup");
	return text;
}

static char *lbt_in_cgroup(const struct lbt *t, const struct lbt_client *c)
{
	pid_t pid;
	int fd = lbt_start_in_cgroup(t, c, &pid);

	return lbt_finish(fd, pid);
}

/* --- inspection --- */

static int lbt_count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static unsigned lbt_attached(const struct lbt *t, enum bpf_attach_type type)
{
	int cg = open(t->cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	__u32 flags = 0, cnt = 0;

	cr_assert_geq(cg, 0);
	cr_assert_eq(bpf_prog_query(cg, type, 0, &flags, NULL, &cnt), 0, "prog query: %s", strerror(errno));
	close(cg);
	return cnt;
}

static int lbt_map_count(const struct lbt *t, const char *map)
{
	char path[PATH_MAX], key[64], next[64];
	int fd, n = 0;

	snprintf(path, sizeof(path), "%s/%s", t->pin_dir, map);
	fd = bpf_obj_get(path);
	cr_assert_geq(fd, 0, "%s not pinned: %s", path, strerror(errno));
	for (void *prev = NULL; bpf_map_get_next_key(fd, prev, next) == 0; prev = key, n++)
		memcpy(key, next, sizeof(key));
	close(fd);
	return n;
}

/* A command's stdout; it must exit 0. */
__attribute__((format(printf, 1, 2))) static char *lbt_run(const char *fmt, ...)
{
	char *cmd = NULL, *text = NULL, buf[4096];
	size_t size = 0, n;
	FILE *out = open_memstream(&text, &size), *p;
	va_list ap;
	int status;

	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert(p && out, "popen %s", cmd);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, out);
	status = pclose(p);
	fclose(out);
	cr_assert_eq(status, 0, "%s exited with %d:\n%s", cmd, status, text);
	free(cmd);
	return text;
}

#endif
