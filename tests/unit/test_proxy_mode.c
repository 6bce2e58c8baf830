/* Proxy mode: parsing, auto's choice, BPF mode's pair (socket hooks + NodePort-only nftables
 * table) and nftables mode clearing what a BPF run pinned. Private mount + network namespaces,
 * a bpffs on a temp dir and a test cgroup, all removed at the end. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pods/cgroup.h"
#include "proxy/bpf_lb.h"
#include "proxy/mode.h"

static char *pin_root, *pin_dir, *cg_path;

/* A worker killed mid-test (a sanitizer abort) skips teardown: remove what dead runs left. */
static void reap_dead_runs(const char *mnt)
{
	DIR *d = opendir(mnt);
	struct dirent *e;
	char path[PATH_MAX];
	int pid;

	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, "skiff-test-proxy-mode-%d", &pid) != 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d", pid);
		if (access(path, F_OK) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", mnt, e->d_name);
		rmdir(path);
		snprintf(path, sizeof(path), "/tmp/skiff-test-proxy-mode-%d", pid);
		rmdir(path);
	}
	if (d)
		closedir(d);
}

static void setup(void)
{
	char *mnt = NULL;

	cr_assert_eq(unshare(CLONE_NEWNS | CLONE_NEWNET), 0, "unshare mount+net namespaces (needs root): %s",
		     strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "make / private: %s", strerror(errno));
	cr_assert_eq(cgroup_find_mount(&mnt), 0, "no cgroup2 mount in /proc/self/mountinfo");
	reap_dead_runs(mnt);
	cr_assert(asprintf(&pin_root, "/tmp/skiff-test-proxy-mode-%d", getpid()) > 0);
	cr_assert_eq(mkdir(pin_root, 0700), 0, "mkdir %s: %s", pin_root, strerror(errno));
	cr_assert_eq(mount("bpf", pin_root, "bpf", 0, NULL), 0, "mount bpffs on %s: %s", pin_root, strerror(errno));
	cr_assert(asprintf(&pin_dir, "%s/skiff/n1", pin_root) > 0);
	cr_assert_eq(system("ip link set lo up"), 0);
	cr_assert(asprintf(&cg_path, "%s/skiff-test-proxy-mode-%d", mnt, getpid()) > 0);
	free(mnt);
	cr_assert_eq(mkdir(cg_path, 0755), 0, "mkdir %s: %s", cg_path, strerror(errno));
}

static void teardown(void)
{
	if (pin_dir)
		bpf_lb_detach(pin_dir, cg_path);
	if (cg_path)
		cr_expect_eq(rmdir(cg_path), 0, "rmdir %s: %s", cg_path, strerror(errno));
	if (pin_root) {
		umount2(pin_root, MNT_DETACH);
		cr_expect_eq(rmdir(pin_root), 0, "rmdir %s: %s", pin_root, strerror(errno));
	}
	free(pin_root);
	free(pin_dir);
	free(cg_path);
}

TestSuite(proxy_mode, .init = setup, .fini = teardown);

static char *nft_table(void)
{
	char *out = calloc(1, 1 << 16);
	FILE *p = popen("nft list table ip skiff 2>&1", "r");
	size_t n;

	cr_assert(p && out);
	n = fread(out, 1, (1 << 16) - 1, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

static bool pinned(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0;
}

Test(proxy_mode, parse)
{
	enum proxy_mode m;

	cr_assert_eq(proxy_mode_parse("nftables", &m), 0);
	cr_assert_eq(m, PROXY_MODE_NFTABLES);
	cr_assert_eq(proxy_mode_parse("bpf", &m), 0);
	cr_assert_eq(m, PROXY_MODE_BPF);
	cr_assert_eq(proxy_mode_parse("auto", &m), 0);
	cr_assert_eq(m, PROXY_MODE_AUTO);
	cr_assert_eq(proxy_mode_parse("iptables", &m), -EINVAL);
	cr_assert_str_eq(proxy_mode_name(PROXY_MODE_NFTABLES), "nftables");
}

Test(proxy_mode, bpf_pairs_hooks_with_a_nodeport_only_table_and_nftables_clears_them)
{
	const struct lb_backend be = { htonl(0x0af40005) /* 10.244.0.5 */, 8080 };
	struct lb_service s[2] = {
		{ .vip = htonl(0x0a60000a) /* 10.96.0.10 */, .port = 80, .proto = IPPROTO_TCP, .n_backends = 1, .backends = &be,
		  .name = "default/web:http" },
		{ .port = 30080, .proto = IPPROTO_TCP, .node_port = true, .n_backends = 1, .backends = &be,
		  .name = "default/web:http" },
	};
	struct proxy_dp dp;
	char *out;

	cr_assert(bpf_lb_supported(cg_path), "this kernel cannot attach the skiff_lb programs to %s", cg_path);
	cr_assert_eq(proxy_dp_open(PROXY_MODE_AUTO, pin_dir, cg_path, "10.96.0.0/12", &dp), 0);
	cr_assert_eq(dp.mode, PROXY_MODE_BPF, "auto picked %s though BPF works", proxy_mode_name(dp.mode));
	cr_assert_eq(dp.ops->begin(dp.dp), 0);
	cr_assert_eq(dp.ops->upsert(dp.dp, &s[0]), 0);
	cr_assert_eq(dp.ops->upsert(dp.dp, &s[1]), 0);
	cr_assert_eq(dp.ops->commit(dp.dp, true), 0);
	out = nft_table();
	cr_assert(strstr(out, "tcp . 30080 : goto np-default-web-http"), "no NodePort DNAT in BPF mode:\n%s", out);
	cr_assert_null(strstr(out, "svc-default-web-http"), "BPF mode's table has a ClusterIP chain:\n%s", out);
	cr_assert_null(strstr(out, "hook output"), "BPF mode's table hooks output:\n%s", out);
	free(out);
	proxy_dp_close(&dp);
	cr_assert(pinned(pin_dir), "closing BPF mode must keep its pins (%s) for re-adoption", pin_dir);

	cr_assert_eq(proxy_dp_open(PROXY_MODE_NFTABLES, pin_dir, cg_path, NULL, &dp), 0);
	cr_assert_eq(dp.mode, PROXY_MODE_NFTABLES);
	cr_assert_not(pinned(pin_dir), "nftables mode left the BPF pins in %s", pin_dir);
	cr_assert_eq(dp.ops->begin(dp.dp), 0);
	cr_assert_eq(dp.ops->upsert(dp.dp, &s[0]), 0);
	cr_assert_eq(dp.ops->commit(dp.dp, true), 0);
	out = nft_table();
	cr_assert(strstr(out, "10.96.0.10 . tcp . 80 : goto svc-default-web-http"), "%s", out);
	cr_assert(strstr(out, "hook output"), "%s", out);
	free(out);
	proxy_dp_close(&dp);
}
