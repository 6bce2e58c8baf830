/* The Node object: host fact parsers, GPU discovery over mknod'ed device nodes, capacity and
 * allocatable math, conditions from the runtime health check, status diffing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <skiff/json.h>

#include "node/facts.h"
#include "node/health.h"
#include "node/object.h"

#define MIB (1024ULL * 1024)

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/skiff-test-agentnode-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	/* Only our mkdtemp dir, which holds plain files and device nodes. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void write_at(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

static void mknod_at(const char *name, mode_t type, unsigned minor)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_eq(mknod(p, type | 0600, makedev(195, minor)), 0, "mknod %s: %s", p, strerror(errno));
}

TestSuite(agent_node, .init = setup, .fini = teardown);

Test(agent_node, meminfo_total)
{
	char p[128];
	uint64_t b = 0;

	write_at("meminfo", "MemFree:  100 kB\nMemTotal:       16384000 kB\nSwapTotal: 0 kB\n");
	snprintf(p, sizeof(p), "%s/meminfo", dir);
	cr_assert_eq(node_meminfo_total(p, &b), 0);
	cr_assert_eq(b, 16384000ULL * 1024);
	write_at("meminfo", "MemFree: 1 kB\n");
	cr_assert_eq(node_meminfo_total(p, &b), -ENODATA);
}

Test(agent_node, os_release_pretty_name)
{
	char p[128], *img = NULL;

	write_at("os-release", "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n");
	snprintf(p, sizeof(p), "%s/os-release", dir);
	cr_assert_eq(node_os_image(p, &img), 0);
	cr_assert_str_eq(img, "Debian GNU/Linux 12 (bookworm)");
	free(img);
	write_at("os-release", "ID=x\n");
	cr_assert_eq(node_os_image(p, &img), 0);
	cr_assert_str_eq(img, "Linux");
	free(img);
}

Test(agent_node, gpu_auto_counts_nvidia_char_devices_only)
{
	mknod_at("nvidia0", S_IFCHR, 0);
	mknod_at("nvidia1", S_IFCHR, 1);
	mknod_at("nvidia12", S_IFCHR, 12);
	mknod_at("nvidiactl", S_IFCHR, 255);  /* control node, not a GPU */
	mknod_at("nvidia-uvm", S_IFCHR, 254); /* neither */
	mknod_at("nvidia3", S_IFBLK, 3);      /* not a character device */
	write_at("nvidia4", "a plain file\n");
	cr_assert_eq(node_gpu_count("auto", dir), 3);
	cr_assert_eq(node_gpu_count("", dir), 0, "empty means none");
	cr_assert_eq(node_gpu_count(NULL, dir), 0);
}

Test(agent_node, gpu_explicit_list)
{
	char spec[512];

	mknod_at("nvidia0", S_IFCHR, 0);
	mknod_at("nvidia1", S_IFCHR, 1);
	write_at("nvidia2", "x");
	snprintf(spec, sizeof(spec), "%s/nvidia0,%s/nvidia1", dir, dir);
	cr_assert_eq(node_gpu_count(spec, NULL), 2);
	snprintf(spec, sizeof(spec), "%s/nvidia0,%s/nvidia2", dir, dir);
	cr_assert_eq(node_gpu_count(spec, NULL), -ENODEV, "a listed path must be a character device");
	snprintf(spec, sizeof(spec), "%s/nvidia0,%s/missing", dir, dir);
	cr_assert_eq(node_gpu_count(spec, NULL), -ENOENT, "a missing path is named as missing");
	cr_assert_eq(node_gpu_count("auto", "/nonexistent-dev-dir"), -ENOENT);
}

Test(agent_node, default_ip_falls_back_without_a_default_route)
{
	char p[128], *ip = NULL;

	write_at("route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
			  "lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n");
	snprintf(p, sizeof(p), "%s/route", dir);
	cr_assert_eq(node_default_ip(p, &ip), 0);
	cr_assert_not_null(ip);
	cr_assert(strchr(ip, '.'), "an IPv4 address: %s", ip);
	free(ip);
	write_at("route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
			  "lo\t00000000\t00000000\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
	cr_assert_eq(node_default_ip(p, &ip), 0);
	cr_assert_str_eq(ip, "127.0.0.1", "the default route's interface decides");
	free(ip);
}

Test(agent_node, arch_names)
{
	cr_assert_str_eq(node_arch_name("x86_64"), "amd64");
	cr_assert_str_eq(node_arch_name("aarch64"), "arm64");
	cr_assert_str_eq(node_arch_name("mips"), "mips");
}

Test(agent_node, memory_reserve)
{
	cr_assert_eq(node_memory_reserve(16384 * MIB), 1024 * MIB, "capped at 1 GiB");
	cr_assert_eq(node_memory_reserve(4096 * MIB), 409 * MIB + (4096 * MIB / 10 - 409 * MIB), "a tenth");
	cr_assert_eq(node_memory_reserve(512 * MIB), 100 * MIB, "at least 100 MiB");
	cr_assert_eq(node_memory_reserve(128 * MIB), 64 * MIB, "never more than half");
}

/* A key with dots in it ("nvidia.com/gpu"), which json_get_string would split. */
static const char *key(json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

static struct node_facts facts(int gpus)
{
	return (struct node_facts){ .name = "n1", .cpus = 4, .mem_bytes = 8192 * MIB, .max_pods = 110,
				    .gpus = gpus, .internal_ip = "10.1.2.3", .hostname = "host-1",
				    .kernel_version = "6.18.0", .os_image = "Debian GNU/Linux 12 (bookworm)",
				    .architecture = "amd64" };
}

static const char *cond(json_object *status, const char *type, const char *field)
{
	json_object *a = json_get_path(status, "conditions");

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);

		if (strcmp(json_get_string(c, "type"), type) == 0)
			return json_get_string(c, field);
	}
	return NULL;
}

Test(agent_node, object_capacity_allocatable_and_info)
{
	struct node_facts f = facts(2);
	struct node_health h = { .runtime_ok = true, .missing = "cpu, memory, pids" };
	json_object *n = node_object_build(&f, &h, "2026-11-28T10:00:00Z"), *st = json_get_path(n, "status");

	cr_assert_str_eq(json_get_string(n, "metadata.name"), "n1");
	cr_assert_str_eq(json_get_string(n, "kind"), "Node");
	cr_assert_str_eq(key(json_get_path(n, "metadata.labels"), "kubernetes.io/hostname"), "n1");
	cr_assert_str_eq(json_get_string(st, "capacity.cpu"), "4");
	cr_assert_str_eq(json_get_string(st, "capacity.memory"), "8388608Ki");
	cr_assert_str_eq(json_get_string(st, "capacity.pods"), "110");
	cr_assert_str_eq(key(json_get_path(st, "capacity"), "nvidia.com/gpu"), "2");
	cr_assert_str_eq(json_get_string(st, "allocatable.memory"), "7549747Ki", "8 GiB less 819.2 MiB");
	cr_assert_str_eq(key(json_get_path(st, "allocatable"), "nvidia.com/gpu"), "2");
	cr_assert_str_eq(json_get_string(st, "nodeInfo.kubeletVersion"), "v1.32.0-skiff");
	cr_assert_str_eq(json_get_string(st, "nodeInfo.containerRuntimeVersion"), "skiff://0.1.0");
	cr_assert_str_eq(json_get_string(st, "nodeInfo.osImage"), "Debian GNU/Linux 12 (bookworm)");
	cr_assert_str_eq(json_get_string(st, "nodeInfo.kernelVersion"), "6.18.0");
	cr_assert_str_eq(json_get_string(st, "nodeInfo.operatingSystem"), "linux");
	cr_assert_str_eq(json_get_string(st, "nodeInfo.architecture"), "amd64");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(json_get_path(st, "addresses"), 0), "type"),
			 "InternalIP");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(json_get_path(st, "addresses"), 0), "address"),
			 "10.1.2.3");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(json_get_path(st, "addresses"), 1), "address"),
			 "host-1");
	cr_assert_str_eq(cond(st, "Ready", "status"), "True");
	cr_assert_str_eq(cond(st, "CgroupControllersMissing", "status"), "True");
	cr_assert_str_eq(cond(st, "CgroupControllersMissing", "message"),
			 "cpu, memory, pids not available on this host's cgroup2: limits are not enforced");
	json_object_put(n);
}

Test(agent_node, no_gpus_no_gpu_resource_and_not_ready_says_why)
{
	struct node_facts f = facts(0);
	struct node_health h = { .runtime_ok = false, .not_ready = "pause binary /x is missing" };
	json_object *st = node_status_build(&f, &h, "2026-11-28T10:00:00Z");

	cr_assert_null(json_object_object_get(json_get_path(st, "capacity"), "nvidia.com/gpu"));
	cr_assert_str_eq(cond(st, "Ready", "status"), "False");
	cr_assert_str_eq(cond(st, "Ready", "reason"), "KubeletNotReady");
	cr_assert_str_eq(cond(st, "Ready", "message"), "pause binary /x is missing");
	cr_assert_str_eq(cond(st, "CgroupControllersMissing", "status"), "False");
	json_object_put(st);
}

Test(agent_node, status_diff_ignores_heartbeats_and_transitions_carry)
{
	struct node_facts f = facts(0);
	struct node_health ok = { .runtime_ok = true }, bad = { .runtime_ok = false, .not_ready = "no cgroup" };
	json_object *a = node_status_build(&f, &ok, "2026-11-28T10:00:00Z");
	json_object *b = node_status_build(&f, &ok, "2026-11-28T10:00:05Z");
	json_object *c = node_status_build(&f, &bad, "2026-11-28T10:00:10Z");

	cr_assert_not(node_status_differs(a, b), "only the timestamps moved");
	cr_assert(node_status_differs(a, c));
	cr_assert(node_status_differs(a, NULL));
	f.cpus = 8;
	json_object *d = node_status_build(&f, &ok, "2026-11-28T10:00:05Z");
	cr_assert(node_status_differs(a, d), "capacity changed");

	node_status_carry_transitions(b, a);
	cr_assert_str_eq(cond(b, "Ready", "lastTransitionTime"), "2026-11-28T10:00:00Z");
	cr_assert_str_eq(cond(b, "Ready", "lastHeartbeatTime"), "2026-11-28T10:00:05Z");
	node_status_carry_transitions(c, a);
	cr_assert_str_eq(cond(c, "Ready", "lastTransitionTime"), "2026-11-28T10:00:10Z", "status changed: now");
	cr_assert_str_eq(node_condition_status(c, "Ready"), "False");
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
	json_object_put(d);
}

Test(agent_node, time_formats)
{
	char t[40], m[40];

	node_time_format(t, sizeof(t), false);
	node_time_format(m, sizeof(m), true);
	cr_assert_eq(strlen(t), 20, "%s", t);
	cr_assert_eq(t[19], 'Z');
	cr_assert_eq(strlen(m), 27, "MicroTime %s", m);
	cr_assert_eq(m[19], '.');
}

Test(agent_node, join_names)
{
	const char *const three[] = { "cpu", "memory", "pids", NULL }, *const none[] = { NULL };
	char *s = NULL;

	cr_assert_eq(node_join_names(three, &s), 0);
	cr_assert_str_eq(s, "cpu, memory, pids");
	free(s);
	cr_assert_eq(node_join_names(none, &s), 0);
	cr_assert_null(s);
}

/* The real check on this host: the cgroup parent is made under the cgroup2 mount; the
 * controllers this host's cgroup2 lacks are named; the pause binary decides Ready. */
Test(agent_node, health_check_on_this_host)
{
	char parent[64], pause[128];
	struct node_health h;

	snprintf(parent, sizeof(parent), "skiff-test-health-%d", (int)getpid());
	snprintf(pause, sizeof(pause), "%s/pause", dir);
	write_at("pause", "#!/bin/sh\n");
	cr_assert_eq(chmod(pause, 0755), 0);
	cr_assert_eq(node_health_check(NULL, parent, pause, &h), 0);
	cr_assert_not_null(h.cgroup_path);
	struct stat st;
	int made = stat(h.cgroup_path, &st);
	char *path = strdup(h.cgroup_path);

	cr_assert(h.runtime_ok, "not ready: %s", h.not_ready ? h.not_ready : "");
	node_health_done(&h);
	cr_assert_eq(made, 0, "cgroup parent %s exists", path);
	cr_assert_eq(node_health_check(NULL, parent, "/nonexistent/skiff-pause", &h), 0);
	cr_assert_not(h.runtime_ok);
	cr_assert_not_null(strstr(h.not_ready, "/nonexistent/skiff-pause"), "%s", h.not_ready);
	node_health_done(&h);
	cr_assert_eq(rmdir(path), 0, "rmdir %s: %s", path, strerror(errno));
	free(path);
}

Test(agent_node, register_with_taints)
{
	json_object *t = NULL;

	cr_assert_eq(node_taints_parse("e2e=agent:NoSchedule,dedicated:NoExecute", &t), 0);
	cr_assert_eq(json_object_array_length(t), 2);
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(t, 0), "key"), "e2e");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(t, 0), "value"), "agent");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(t, 0), "effect"), "NoSchedule");
	cr_assert_null(json_get_path(json_object_array_get_idx(t, 1), "value"));
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(t, 1), "effect"), "NoExecute");
	json_object_put(t);
	cr_assert_eq(node_taints_parse(NULL, &t), 0);
	cr_assert_eq(json_object_array_length(t), 0);
	json_object_put(t);
	t = NULL;
	cr_assert_eq(node_taints_parse("k=v:Sometimes", &t), -EINVAL);
	cr_assert_eq(node_taints_parse("novalue", &t), -EINVAL);
	cr_assert_eq(node_taints_parse(":NoSchedule", &t), -EINVAL);
	cr_assert_null(t, "nothing returned on failure");
}
