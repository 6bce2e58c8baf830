/* Pod cgroups: the limit math as pure functions, then real cgroups under the cgroup2 mount
 * (skiff-test-<pid>-<n>, killed and removed in every test's fini): create, attach, missing
 * controllers, cgroup.kill of a process tree, bounded removal. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pods/cgroup.h"
#include "pods/runtime.h"
#include "pods/sandbox.h"
#include "skiff/json.h"

/* --- pure math --- */

Test(cgroup_limits, cpu_max)
{
	static const struct { int64_t milli; const char *want; } cases[] = {
		{ 0, "max 100000" },	     { 1000, "100000 100000" }, { 250, "25000 100000" },
		{ 1500, "150000 100000" },   { 5, "1000 100000" }, /* Kubernetes' 1 ms minimum quota */
		{ 10, "1000 100000" },	     { 11, "1100 100000" },	{ 64000, "6400000 100000" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cgroup_cpu_max_format(cases[i].milli, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].want, "%lldm: got '%s', want '%s'", (long long)cases[i].milli, buf,
				 cases[i].want);
	}
}

Test(cgroup_limits, cpu_weight_follows_kubernetes_shares)
{
	/* shares = m*1024/1000 clamped to [2, 262144]; weight = 1 + (shares-2)*9999/262142 */
	static const struct { int64_t milli; uint64_t want; } cases[] = {
		{ 0, 1 },   { 1, 1 },	  { 100, 4 },	      { 250, 10 },	   { 1000, 39 },
		{ 2000, 79 }, { 4000, 157 }, { 256000, 10000 }, { 1000000, 10000 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t w = cgroup_cpu_weight(cases[i].milli);

		cr_expect_eq(w, cases[i].want, "%lldm: got weight %llu, want %llu", (long long)cases[i].milli,
			     (unsigned long long)w, (unsigned long long)cases[i].want);
	}
}

Test(cgroup_limits, max_values)
{
	char buf[64];

	cgroup_max_format(0, buf, sizeof(buf));
	cr_expect_str_eq(buf, "max");
	cgroup_max_format(536870912, buf, sizeof(buf));
	cr_expect_str_eq(buf, "536870912");
	cgroup_max_format(1024, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1024");
}

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

Test(cgroup_limits, from_container_and_pod)
{
	_cleanup_json_ json_object *pod = parse(
		"{\"spec\":{\"containers\":["
		"{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"},"
		"\"requests\":{\"cpu\":\"100m\"}}},"
		"{\"name\":\"b\",\"resources\":{\"limits\":{\"cpu\":2,\"memory\":\"1G\"}}}]}}");
	_cleanup_json_ json_object *partial = parse(
		"{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}},"
		"{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"1Gi\"}}}]}}");
	_cleanup_json_ json_object *bad = parse(
		"{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"lots\"}}}]}}");
	json_object *containers = json_get_path(pod, "spec.containers");
	struct cgroup_limits l;

	cr_assert_eq(cgroup_limits_from_container(json_object_array_get_idx(containers, 0), &l), 0);
	cr_expect_eq(l.cpu_limit_milli, 500);
	cr_expect_eq(l.cpu_request_milli, 100);
	cr_expect_eq(l.memory_limit_bytes, 268435456);
	cr_expect_eq(l.pids_max, 0);
	/* No cpu request: it defaults to the limit. */
	cr_assert_eq(cgroup_limits_from_container(json_object_array_get_idx(containers, 1), &l), 0);
	cr_expect_eq(l.cpu_limit_milli, 2000);
	cr_expect_eq(l.cpu_request_milli, 2000);
	cr_expect_eq(l.memory_limit_bytes, 1000000000);

	cr_assert_eq(cgroup_limits_from_pod(pod, 1024, &l), 0);
	cr_expect_eq(l.cpu_limit_milli, 2500);
	cr_expect_eq(l.cpu_request_milli, 2100);
	cr_expect_eq(l.memory_limit_bytes, 268435456 + 1000000000LL);
	cr_expect_eq(l.pids_max, 1024);

	/* One container without a limit leaves the pod unlimited for that resource. */
	cr_assert_eq(cgroup_limits_from_pod(partial, 0, &l), 0);
	cr_expect_eq(l.cpu_limit_milli, 0);
	cr_expect_eq(l.memory_limit_bytes, 0);
	cr_expect_eq(l.cpu_request_milli, 1250);
	cr_expect_eq(l.pids_max, 0);

	cr_expect_eq(cgroup_limits_from_pod(bad, 0, &l), -EINVAL);
}

Test(cgroup_limits, oom_kill_counter)
{
	uint64_t v = 7;

	cr_assert_eq(cgroup_parse_oom_kill("low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\noom_group_kill 0\n", &v), 0);
	cr_expect_eq(v, 2);
	cr_assert_eq(cgroup_parse_oom_kill("oom_kill 0\n", &v), 0);
	cr_expect_eq(v, 0);
	cr_expect_eq(cgroup_parse_oom_kill("low 0\noom_group_kill 4\n", &v), -ENOENT);
	cr_expect_eq(cgroup_parse_oom_kill("", &v), -ENOENT);
}

/* --- real cgroups --- */

static char *mount_path;
static char parent[64];
static struct cgroup_manager *mgr;
static int test_seq;

/* Kills what the test left in its tree and removes the tree bottom-up: runs after failures too. */
static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char child[4096];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", dir, e->d_name);
		rm_tree(child);
	}
	closedir(d);
	for (int i = 0; i < 500 && rmdir(dir) < 0 && errno == EBUSY; i++)
		usleep(10000); /* killed processes leave the cgroup asynchronously */
}

static void cg_fini(void)
{
	char root[2048], kill_path[4096];
	int fd;

	cgroup_manager_free(mgr);
	mgr = NULL;
	if (!mount_path)
		return;
	snprintf(root, sizeof(root), "%s/%s", mount_path, parent);
	snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", root);
	fd = open(kill_path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			perror("cgroup.kill");
		close(fd);
	}
	rm_tree(root);
	free(mount_path);
	mount_path = NULL;
}

static void cg_init(void)
{
	struct cgroup_options opts;
	struct statfs st;

	cr_assert_eq(cgroup_find_mount(&mount_path), 0, "no cgroup2 mount in /proc/self/mountinfo");
	cr_assert_eq(statfs(mount_path, &st), 0);
	cr_assert_eq(st.f_type, CGROUP2_SUPER_MAGIC, "%s is not cgroup2", mount_path);
	snprintf(parent, sizeof(parent), "skiff-test-%d-%d", (int)getpid(), test_seq++);
	cgroup_options_init(&opts);
	opts.parent = parent;
	mgr = cgroup_manager_new(&opts);
	cr_assert_not_null(mgr, "cgroup_manager_new(%s): %s", parent, strerror(errno));
}

static bool controller_offered(const char *name)
{
	char path[4096], buf[512] = "";
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", mount_path);
	f = fopen(path, "re");
	cr_assert_not_null(f);
	if (fgets(buf, sizeof(buf), f))
		for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
			found |= strcmp(tok, name) == 0;
	fclose(f);
	return found;
}

static bool file_exists(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void expect_file(const char *dir, const char *name, const char *want)
{
	char path[4096], buf[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	cr_expect_str_eq(buf, want, "%s: got '%s', want '%s'", path, buf, want);
}

TestSuite(cgroup, .init = cg_init, .fini = cg_fini);

Test(cgroup, missing_controllers_match_the_kernel)
{
	const char *const *missing = cgroup_missing_controllers(mgr);
	static const char *const wanted[] = { "cpu", "memory", "pids" };
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		bool listed = false;

		for (size_t j = 0; missing[j]; j++)
			listed |= strcmp(missing[j], wanted[i]) == 0;
		cr_expect_eq(listed, !controller_offered(wanted[i]), "%s: listed missing %d, offered %d", wanted[i],
			     listed, controller_offered(wanted[i]));
		n += listed;
	}
	if (n)
		cr_log_info("cgroup2 at %s lacks %zu of cpu/memory/pids: their limits are proven by make vmtest",
			    mount_path, n);
}

Test(cgroup, limits_written_only_where_the_controller_exists)
{
	struct cgroup_limits pod = { .cpu_limit_milli = 1500, .cpu_request_milli = 1000,
				     .memory_limit_bytes = 64 << 20, .pids_max = 1024 };
	struct cgroup_limits c = { .cpu_limit_milli = 500, .cpu_request_milli = 250 };
	char *pod_dir = NULL, *c_dir = NULL;

	cr_assert_eq(cgroup_pod_create(mgr, "uid-1", &pod), 0);
	cr_assert_eq(cgroup_pod_create(mgr, "uid-1", &pod), 0, "pod create is idempotent");
	cr_assert_eq(cgroup_container_create(mgr, "uid-1", "web", &c), 0);
	cr_assert_eq(cgroup_path(mgr, "uid-1", NULL, &pod_dir), 0);
	cr_assert_eq(cgroup_path(mgr, "uid-1", "web", &c_dir), 0);
	cr_expect(file_exists(c_dir, "cgroup.procs"), "%s was not made", c_dir);
	if (controller_offered("cpu")) {
		expect_file(pod_dir, "cpu.max", "150000 100000");
		expect_file(pod_dir, "cpu.weight", "39");
		expect_file(c_dir, "cpu.max", "50000 100000");
		expect_file(c_dir, "cpu.weight", "10");
	} else {
		cr_expect(!file_exists(c_dir, "cpu.max"));
	}
	if (controller_offered("memory")) {
		expect_file(pod_dir, "memory.max", "67108864");
		expect_file(c_dir, "memory.max", "max");
	} else {
		cr_expect(!file_exists(c_dir, "memory.max"));
		cr_expect_eq(cgroup_container_oom_kills(mgr, "uid-1", "web", &(uint64_t){ 0 }), -EOPNOTSUPP);
	}
	if (controller_offered("pids"))
		expect_file(pod_dir, "pids.max", "1024");
	else
		cr_expect(!file_exists(pod_dir, "pids.max"));
	cr_expect_eq(cgroup_container_create(mgr, "uid-1", "../escape", &c), -EINVAL);
	cr_expect_eq(cgroup_container_create(mgr, "no-such-pod", "web", &c), -ENOENT);
	free(pod_dir);
	free(c_dir);
}

/* Forks a child that forks a grandchild; both sleep. Returns the child, the grandchild in *gpid. */
static pid_t spawn_tree(pid_t *gpid)
{
	int fds[2];
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pid_t g = fork();

		if (g == 0) {
			close(fds[0]);
			close(fds[1]);
			for (;;)
				pause();
		}
		if (write(fds[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	cr_assert_eq(read(fds[0], gpid, sizeof(*gpid)), (ssize_t)sizeof(*gpid));
	close(fds[0]);
	return pid;
}

static void expect_in_cgroup(pid_t pid, const char *rel)
{
	char path[64], line[4096] = "", want[4096];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) && strncmp(line, "0::", 3) != 0)
		;
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(want, sizeof(want), "0::/%s", rel);
	cr_expect_str_eq(line, want, "pid %d: got '%s', want '%s'", (int)pid, line, want);
}

Test(cgroup, attach_kill_tree_and_remove)
{
	struct cgroup_limits none = { 0 };
	char rel[256], *pod_dir = NULL;
	pid_t pid, gpid, sandbox;
	int status;

	/* Orphaned grandchildren come back to us, so their death can be waited for. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(cgroup_pod_create(mgr, "uid-2", &none), 0);
	cr_assert_eq(cgroup_container_create(mgr, "uid-2", "app", &none), 0);
	sandbox = fork();
	cr_assert_geq(sandbox, 0);
	if (sandbox == 0)
		for (;;)
			pause();
	cr_assert_eq(cgroup_attach(mgr, "uid-2", CGROUP_SANDBOX_NAME, sandbox), 0);
	pid = spawn_tree(&gpid);
	cr_assert_eq(cgroup_attach(mgr, "uid-2", "app", pid), 0);
	cr_assert_eq(cgroup_attach(mgr, "uid-2", "app", gpid), 0);
	snprintf(rel, sizeof(rel), "%s/pod-uid-2/app", parent);
	expect_in_cgroup(pid, rel);
	expect_in_cgroup(gpid, rel);
	snprintf(rel, sizeof(rel), "%s/pod-uid-2/%s", parent, CGROUP_SANDBOX_NAME);
	expect_in_cgroup(sandbox, rel);

	/* Still populated: removal gives up at its deadline and removes nothing. */
	cr_expect_eq(cgroup_pod_remove(mgr, "uid-2", 50), -EBUSY);
	cr_assert_eq(cgroup_path(mgr, "uid-2", NULL, &pod_dir), 0);
	cr_expect(file_exists(pod_dir, "cgroup.procs"));

	cr_assert_eq(cgroup_pod_kill(mgr, "uid-2"), 0);
	for (pid_t *p = (pid_t[]){ pid, gpid, sandbox, 0 }; *p; p++) {
		cr_assert_eq(waitpid(*p, &status, 0), *p);
		cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "pid %d not SIGKILLed", (int)*p);
	}
	cr_expect_eq(cgroup_pod_remove(mgr, "uid-2", 5000), 0);
	cr_expect(!file_exists(pod_dir, "."), "%s still exists", pod_dir);
	cr_expect_eq(cgroup_pod_remove(mgr, "uid-2", 10), 0, "removing a gone pod is 0");
	cr_expect_eq(cgroup_pod_kill(mgr, "uid-2"), 0, "killing a gone pod is 0");
	free(pod_dir);
}

struct prepare_seen {
	int calls;
	char dir[4096];
	char container[64];
};

static int record_prepare(void *userdata, const char *cgroup_dir, json_object *pod, json_object *container)
{
	struct prepare_seen *seen = userdata;

	(void)pod;
	seen->calls++;
	snprintf(seen->dir, sizeof(seen->dir), "%s", cgroup_dir);
	snprintf(seen->container, sizeof(seen->container), "%s", json_get_string(container, "name"));
	/* The process is not in yet: a device filter put on here binds it from its first exec. */
	return file_exists(cgroup_dir, "cgroup.procs") ? 0 : -ENOENT;
}

Test(cgroup, runtime_hooks)
{
	_cleanup_json_ json_object *pod = parse(
		"{\"metadata\":{\"uid\":\"uid-3\"},\"spec\":{\"containers\":[{\"name\":\"web\","
		"\"resources\":{\"limits\":{\"cpu\":\"2\",\"memory\":\"1Gi\"}}}]}}");
	json_object *web = json_object_array_get_idx(json_get_path(pod, "spec.containers"), 0);
	struct runtime_cgroup_hooks h;
	struct prepare_seen seen = { 0 };
	char rel[256], *c_dir = NULL;
	pid_t sandbox, pid;
	int status;

	cgroup_manager_set_container_prepare(mgr, record_prepare, &seen);
	cgroup_runtime_hooks(mgr, &h);
	cr_assert_eq(h.userdata, mgr);
	cr_assert_eq(h.pod_create(h.userdata, pod), 0);
	sandbox = fork();
	cr_assert_geq(sandbox, 0);
	if (sandbox == 0)
		for (;;)
			pause();
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		for (;;)
			pause();
	cr_expect_eq(h.sandbox_attach(h.userdata, "uid-3", sandbox), 0);
	cr_expect_eq(h.container_attach(h.userdata, pod, web, pid), 0);
	cr_assert_eq(cgroup_path(mgr, "uid-3", "web", &c_dir), 0);
	cr_expect_eq(seen.calls, 1);
	cr_expect_str_eq(seen.dir, c_dir);
	cr_expect_str_eq(seen.container, "web");
	snprintf(rel, sizeof(rel), "%s/pod-uid-3/web", parent);
	expect_in_cgroup(pid, rel);
	snprintf(rel, sizeof(rel), "%s/pod-uid-3/%s", parent, CGROUP_SANDBOX_NAME);
	expect_in_cgroup(sandbox, rel);
	if (controller_offered("cpu"))
		expect_file(c_dir, "cpu.max", "200000 100000");
	if (controller_offered("memory"))
		expect_file(c_dir, "memory.max", "1073741824");

	cr_expect_eq(h.pod_kill(h.userdata, "uid-3"), 0);
	cr_expect_eq(waitpid(pid, &status, 0), pid);
	cr_expect_eq(waitpid(sandbox, &status, 0), sandbox);
	cr_expect_eq(h.pod_remove(h.userdata, "uid-3"), 0);
	cr_expect(!file_exists(c_dir, "."));
	free(c_dir);
}

/* A child cloned by sandbox_clone_pidns into fd's cgroup: its first look at /proc/self/cgroup
 * (the "0::" line) goes into the pipe, then it waits to be killed. */
static pid_t clone_reporting(int cgroup_fd, int pipe_w)
{
	pid_t pid = sandbox_clone_pidns(-1, cgroup_fd);

	if (pid == 0) {
		char buf[4096];
		int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

		if (n > 0 && write(pipe_w, buf, (size_t)n) < 0)
			_exit(1);
		close(pipe_w);
		for (;;)
			pause();
	}
	return pid;
}

static void expect_born_in(int pipe_r, const char *rel)
{
	char buf[4096] = "", want[4096];
	ssize_t n = read(pipe_r, buf, sizeof(buf) - 1);
	char *line;

	cr_assert_gt(n, 0);
	buf[n] = '\0';
	line = strstr(buf, "0::");
	cr_assert_not_null(line, "no cgroup v2 line in %s", buf);
	line[strcspn(line, "\n")] = '\0';
	snprintf(want, sizeof(want), "0::/%s", rel);
	cr_expect_str_eq(line, want);
}

/* The clone hooks: made and prepared before the process exists, which starts inside (never
 * seen in the parent's cgroup, unlike a cgroup.procs move). */
Test(cgroup, runtime_hooks_clone_into)
{
	_cleanup_json_ json_object *pod = parse(
		"{\"metadata\":{\"uid\":\"uid-4\"},\"spec\":{\"containers\":[{\"name\":\"web\"}]}}");
	json_object *web = json_object_array_get_idx(json_get_path(pod, "spec.containers"), 0);
	struct runtime_cgroup_hooks h;
	struct prepare_seen seen = { 0 };
	char rel[256];
	int sfd, cfd, p[2], status;
	pid_t sandbox, pid;

	cgroup_manager_set_container_prepare(mgr, record_prepare, &seen);
	cgroup_runtime_hooks(mgr, &h);
	cr_assert_not_null(h.sandbox_cgroup);
	cr_assert_not_null(h.container_cgroup);
	cr_assert_eq(h.pod_create(h.userdata, pod), 0);
	sfd = h.sandbox_cgroup(h.userdata, "uid-4");
	cr_assert_geq(sfd, 0, "%s", strerror(-sfd));
	cfd = h.container_cgroup(h.userdata, pod, web);
	cr_assert_geq(cfd, 0, "%s", strerror(-cfd));
	cr_expect_eq(seen.calls, 1);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	sandbox = clone_reporting(sfd, p[1]);
	cr_assert_gt(sandbox, 0);
	snprintf(rel, sizeof(rel), "%s/pod-uid-4/%s", parent, CGROUP_SANDBOX_NAME);
	expect_born_in(p[0], rel);
	pid = clone_reporting(cfd, p[1]);
	cr_assert_gt(pid, 0);
	snprintf(rel, sizeof(rel), "%s/pod-uid-4/web", parent);
	expect_born_in(p[0], rel);
	close(p[0]);
	close(p[1]);
	close(sfd);
	close(cfd);

	cr_expect_eq(h.pod_kill(h.userdata, "uid-4"), 0);
	cr_expect_eq(waitpid(pid, &status, 0), pid);
	cr_expect_eq(waitpid(sandbox, &status, 0), sandbox);
	cr_expect_eq(h.pod_remove(h.userdata, "uid-4"), 0);
}

/* A container over its memory.max is OOM-killed and the counter says so. Only where the memory
 * controller exists: this host has none, make vmtest runs it on a pure cgroup v2 kernel. */
Test(cgroup, oom_kill_is_counted)
{
	struct cgroup_limits none = { 0 }, small = { .memory_limit_bytes = 16 << 20 };
	uint64_t kills = 99;
	int ready[2], status;
	pid_t pid;
	char go;

	if (!controller_offered("memory")) {
		cr_expect_eq(cgroup_container_oom_kills(mgr, "uid-4", "hog", &kills), -EOPNOTSUPP);
		cr_log_info("no memory controller on %s: OOM kills are proven by make vmtest", mount_path);
		return;
	}
	cr_assert_eq(cgroup_pod_create(mgr, "uid-4", &none), 0);
	cr_assert_eq(cgroup_container_create(mgr, "uid-4", "hog", &small), 0);
	cr_assert_eq(cgroup_container_oom_kills(mgr, "uid-4", "hog", &kills), 0);
	cr_expect_eq(kills, 0);
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(ready[1]);
		if (read(ready[0], &go, 1) != 1)
			_exit(2);
		for (size_t i = 0; i < 256; i++) { /* 256 MiB, touched page by page */
			char *p = malloc(1 << 20);

			if (!p)
				_exit(3);
			memset(p, 1, 1 << 20);
		}
		_exit(0);
	}
	close(ready[0]);
	cr_assert_eq(cgroup_attach(mgr, "uid-4", "hog", pid), 0);
	cr_assert_eq(write(ready[1], "g", 1), 1);
	close(ready[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the hog was not OOM-killed");
	cr_assert_eq(cgroup_container_oom_kills(mgr, "uid-4", "hog", &kills), 0);
	cr_expect_eq(kills, 1);
	cr_expect_eq(cgroup_pod_remove(mgr, "uid-4", 5000), 0);
}

Test(cgroup, container_cgroup_is_fresh_per_run)
{
	struct cgroup_limits none = { 0 };
	struct stat before, after;
	char *dir = NULL;
	pid_t pid;
	int status;

	cr_assert_eq(cgroup_pod_create(mgr, "uid-5", &none), 0);
	cr_assert_eq(cgroup_container_create(mgr, "uid-5", "app", &none), 0);
	cr_assert_eq(cgroup_path(mgr, "uid-5", "app", &dir), 0);
	cr_assert_eq(stat(dir, &before), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		for (;;)
			pause();
	cr_assert_eq(cgroup_attach(mgr, "uid-5", "app", pid), 0);
	cr_expect_eq(cgroup_container_create(mgr, "uid-5", "app", &none), -EBUSY, "its process still runs");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* A reaped process has left the cgroup: the next run gets a new one. */
	cr_assert_eq(cgroup_container_create(mgr, "uid-5", "app", &none), 0);
	cr_assert_eq(stat(dir, &after), 0);
	cr_expect_neq(before.st_ino, after.st_ino, "the old cgroup was reused");
	cr_expect_eq(cgroup_pod_remove(mgr, "uid-5", 5000), 0);
	free(dir);
}
