/* GPUs: discovery from fake nvidia nodes (mknod 195:N in a temp dir), allocation that persists
 * across a reload and never hands a device out twice, and the device cgroup BPF program attached
 * for real to a test cgroup, checked through opens from a process inside it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu/alloc.h"
#include "gpu/device_filter.h"
#include "gpu/discover.h"
#include "gpu/pod.h"
#include "pods/cgroup.h"
#include "skiff/json.h"

static char dev_dir[64], root_dir[64];
static char *cg_dir;

static void node(const char *name, unsigned maj, unsigned min)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dev_dir, name);
	cr_assert_eq(mknod(path, S_IFCHR | 0666, makedev(maj, min)), 0, "mknod %s: %s", path, strerror(errno));
}

static void rm_files(const char *dir)
{
	char cmd[256];

	if (!dir[0])
		return;
	/* Only the two mkdtemp dirs of this test, never anything else. */
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static void gpu_init(void)
{
	char path[256];
	FILE *f;

	snprintf(dev_dir, sizeof(dev_dir), "/tmp/skiff-test-gpu-dev-XXXXXX");
	snprintf(root_dir, sizeof(root_dir), "/tmp/skiff-test-gpu-root-XXXXXX");
	cr_assert_not_null(mkdtemp(dev_dir));
	cr_assert_not_null(mkdtemp(root_dir));
	for (unsigned i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "nvidia%u", i);
		node(path, 195, i);
	}
	node("nvidiactl", 195, 255);
	node("nvidia-uvm", 510, 0);
	/* Not GPUs: a regular file with a GPU's name, and the control nodes' names. */
	snprintf(path, sizeof(path), "%s/nvidia9", dev_dir);
	f = fopen(path, "we");
	cr_assert_not_null(f);
	fclose(f);
}

static void gpu_fini(void)
{
	if (cg_dir) {
		/* A process left inside (after a failed assert) is killed first; the program goes with the cgroup. */
		char kill_path[4096];
		int fd;

		snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", cg_dir);
		fd = open(kill_path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0)
				perror("cgroup.kill");
			close(fd);
		}
		for (int i = 0; i < 500 && rmdir(cg_dir) < 0 && errno == EBUSY; i++)
			usleep(10000);
		free(cg_dir);
		cg_dir = NULL;
	}
	rm_files(dev_dir);
	rm_files(root_dir);
}

TestSuite(gpu, .init = gpu_init, .fini = gpu_fini);

static void discover(struct gpu_set *set)
{
	int r = gpu_discover("auto", dev_dir, set);

	cr_assert_eq(r, 0, "discover %s: %s", dev_dir, strerror(-r));
}

Test(gpu, discovers_fake_nvidia_nodes)
{
	struct gpu_set set;
	char path[256];

	discover(&set);
	cr_assert_eq(gpu_count(&set), 4);
	cr_expect_eq(set.major, 195);
	for (unsigned i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/nvidia%u", dev_dir, i);
		cr_expect_str_eq(set.gpus[i].path, path);
		cr_expect_eq(set.gpus[i].index, i);
		cr_expect_eq(set.gpus[i].major, 195);
		cr_expect_eq(set.gpus[i].minor, i);
	}
	cr_expect_eq(set.n_controls, 2, "nvidiactl and nvidia-uvm");
	gpu_set_clear(&set);

	snprintf(path, sizeof(path), "%s/nvidia3,%s/nvidia1", dev_dir, dev_dir);
	cr_assert_eq(gpu_discover(path, NULL, &set), 0);
	cr_assert_eq(gpu_count(&set), 2);
	cr_expect_eq(set.gpus[0].index, 1, "sorted by index");
	cr_expect_eq(set.gpus[1].index, 3);
	cr_expect_eq(set.n_controls, 2, "control nodes beside the listed devices");
	gpu_set_clear(&set);

	cr_assert_eq(gpu_discover("", dev_dir, &set), 0);
	cr_expect_eq(gpu_count(&set), 0);
	snprintf(path, sizeof(path), "%s/nvidia9", dev_dir);
	cr_expect_eq(gpu_discover(path, NULL, &set), -ENODEV, "a regular file is not a GPU");
	snprintf(path, sizeof(path), "%s/nvidia7", dev_dir);
	cr_expect_eq(gpu_discover(path, NULL, &set), -ENOENT);
}

static struct gpu_allocator *allocator(const struct gpu_set *set)
{
	struct gpu_allocator *a = gpu_allocator_new(root_dir, set);

	cr_assert_not_null(a, "gpu_allocator_new(%s): %s", root_dir, strerror(errno));
	return a;
}

static void expect_visible(struct gpu_allocator *a, const char *pod, const char *c, const char *want)
{
	char *v = NULL;

	cr_assert_eq(gpu_visible_devices(a, pod, c, &v), 0);
	cr_expect_str_eq(v, want, "%s/%s: NVIDIA_VISIBLE_DEVICES '%s', want '%s'", pod, c, v, want);
	free(v);
}

Test(gpu, allocation_persists_and_never_doubles)
{
	struct gpu_set set;
	struct gpu_allocator *a;

	discover(&set);
	a = allocator(&set);
	cr_expect_eq(gpu_free_count(a), 4);
	cr_assert_eq(gpu_allocate(a, "pod-a", "train", 2), 0);
	cr_assert_eq(gpu_allocate(a, "pod-b", "infer", 1), 0);
	cr_expect_eq(gpu_allocate(a, "pod-c", "big", 2), -ENOSPC, "only one is free");
	cr_expect_eq(gpu_allocate(a, "pod-a", "train", 2), 0, "same request again is a no-op");
	cr_expect_eq(gpu_allocate(a, "pod-a", "train", 3), -EINVAL);
	cr_expect_eq(gpu_allocate(a, "pod-a", "side", 0), 0);
	expect_visible(a, "pod-a", "train", "0,1");
	expect_visible(a, "pod-b", "infer", "2");
	expect_visible(a, "pod-a", "side", "void");
	gpu_allocator_free(a);

	/* A restart: the same devices stay with the same holders, nothing is handed out twice. */
	a = allocator(&set);
	cr_expect_eq(gpu_free_count(a), 1);
	expect_visible(a, "pod-a", "train", "0,1");
	expect_visible(a, "pod-b", "infer", "2");
	cr_expect_eq(gpu_allocate(a, "pod-c", "big", 2), -ENOSPC);
	cr_assert_eq(gpu_allocate(a, "pod-c", "one", 1), 0);
	expect_visible(a, "pod-c", "one", "3");
	cr_expect_eq(gpu_free_count(a), 0);

	cr_assert_eq(gpu_release_pod(a, "pod-a"), 0);
	cr_expect_eq(gpu_release_pod(a, "pod-a"), 0, "releasing twice is 0");
	cr_expect_eq(gpu_free_count(a), 2);
	expect_visible(a, "pod-a", "train", "void");
	gpu_allocator_free(a);

	a = allocator(&set);
	cr_expect_eq(gpu_free_count(a), 2, "the release was persisted");
	cr_assert_eq(gpu_allocate(a, "pod-d", "x", 2), 0);
	expect_visible(a, "pod-d", "x", "0,1");
	gpu_allocator_free(a);
	gpu_set_clear(&set);
}

Test(gpu, vanished_device_stays_held)
{
	struct gpu_set set, fewer;
	struct gpu_allocator *a;
	char path[256];

	discover(&set);
	a = allocator(&set);
	cr_assert_eq(gpu_allocate(a, "pod-a", "c", 2), 0);
	gpu_allocator_free(a);

	/* nvidia1 is not seen after this restart; its holder may still run, so it is not forgotten. */
	snprintf(path, sizeof(path), "%s/nvidia0,%s/nvidia2,%s/nvidia3", dev_dir, dev_dir, dev_dir);
	cr_assert_eq(gpu_discover(path, NULL, &fewer), 0);
	a = allocator(&fewer);
	cr_assert_eq(gpu_allocate(a, "pod-b", "c", 2), 0);
	expect_visible(a, "pod-b", "c", "2,3");
	gpu_allocator_free(a);

	a = allocator(&set);
	cr_expect_eq(gpu_free_count(a), 0, "nvidia1 is still pod-a's");
	expect_visible(a, "pod-a", "c", "0,1");
	gpu_allocator_free(a);
	gpu_set_clear(&fewer);
	gpu_set_clear(&set);
}

Test(gpu, container_devices_and_state_file)
{
	struct gpu_set set;
	struct gpu_allocator *a;
	struct gpu_device *devs = NULL;
	size_t n = 99;
	char path[256];
	FILE *f;

	discover(&set);
	a = allocator(&set);
	cr_assert_eq(gpu_allocate(a, "pod-a", "c", 1), 0);
	cr_assert_eq(gpu_allocate(a, "pod-b", "c", 1), 0);
	cr_assert_eq(gpu_container_devices(a, "pod-b", "c", &devs, &n), 0);
	cr_assert_eq(n, 3, "nvidia1, nvidiactl, nvidia-uvm");
	snprintf(path, sizeof(path), "%s/nvidia1", dev_dir);
	cr_expect_str_eq(devs[0].path, path);
	cr_expect_eq(devs[0].major, 195);
	cr_expect_eq(devs[0].minor, 1);
	cr_expect_eq(devs[1].minor, 255);
	cr_expect_eq(devs[2].major, 510);
	gpu_devices_free(devs, n);
	cr_assert_eq(gpu_container_devices(a, "pod-x", "c", &devs, &n), 0);
	cr_expect_eq(n, 0, "no GPU: no device nodes, not even the control ones");
	cr_expect_null(devs);
	gpu_allocator_free(a);

	{
		_cleanup_json_ json_object *state = NULL;

		snprintf(path, sizeof(path), "%s/%s", root_dir, GPU_ALLOC_FILE);
		state = json_object_from_file(path);
		cr_assert_not_null(state, "%s is not JSON", path);
		cr_expect_eq(json_object_object_length(json_get_path(state, "allocations")), 2);
	}
	snprintf(path, sizeof(path), "%s/%s", root_dir, GPU_ALLOC_FILE);
	f = fopen(path, "we");
	cr_assert_not_null(f);
	fputs("[1,2]", f);
	fclose(f);
	cr_expect_null(gpu_allocator_new(root_dir, &set), "a state file that is not ours is refused");
	cr_expect_eq(errno, EINVAL);
	gpu_set_clear(&set);
}

Test(gpu, pod_requests_all_or_nothing)
{
	_cleanup_json_ json_object *p1 = json_tokener_parse(
		"{\"metadata\":{\"uid\":\"p1\"},\"spec\":{\"containers\":["
		"{\"name\":\"a\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"2\"}}},"
		"{\"name\":\"b\",\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"1\"}}},"
		"{\"name\":\"cpu-only\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}");
	_cleanup_json_ json_object *p2 = json_tokener_parse(
		"{\"metadata\":{\"uid\":\"p2\"},\"spec\":{\"containers\":["
		"{\"name\":\"a\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}},"
		"{\"name\":\"b\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}");
	_cleanup_json_ json_object *bad = json_tokener_parse(
		"{\"name\":\"x\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"two\"}}}");
	struct gpu_set set;
	struct gpu_allocator *a;
	size_t n = 9;

	cr_assert(p1 && p2 && bad);
	cr_expect_eq(gpu_container_request(bad, &n), -EINVAL);
	discover(&set);
	a = allocator(&set);
	cr_assert_eq(gpu_allocate_pod(a, p1), 0);
	cr_assert_eq(gpu_allocate_pod(a, p1), 0, "again: the same GPUs, nothing more");
	cr_expect_eq(gpu_held_count(a, "p1", NULL), 3);
	expect_visible(a, "p1", "a", "0,1");
	expect_visible(a, "p1", "b", "2");
	expect_visible(a, "p1", "cpu-only", "void");
	/* p2 needs two, one is free: it gets none, not one. */
	cr_expect_eq(gpu_allocate_pod(a, p2), -ENOSPC);
	cr_expect_eq(gpu_held_count(a, "p2", NULL), 0);
	cr_expect_eq(gpu_free_count(a), 1);
	cr_assert_eq(gpu_release_pod(a, "p1"), 0);
	cr_assert_eq(gpu_allocate_pod(a, p2), 0);
	expect_visible(a, "p2", "b", "1");
	gpu_allocator_free(a);
	gpu_set_clear(&set);
}

/* --- the device cgroup program, for real --- */

struct open_case {
	const char *name; /* in dev_dir, or an absolute path */
	int want;         /* 0, or the errno open gives */
};

/* Runs inside the cgroup: opens each node and reports its errno (0 when it opened). */
static void child_opens(int ready_fd, int report_fd, const struct open_case *cases, size_t n)
{
	char go;

	if (read(ready_fd, &go, 1) != 1)
		_exit(2);
	for (size_t i = 0; i < n; i++) {
		char path[256];
		int fd, e = 0;

		if (cases[i].name[0] == '/')
			snprintf(path, sizeof(path), "%s", cases[i].name);
		else
			snprintf(path, sizeof(path), "%s/%s", dev_dir, cases[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			e = errno;
		else
			close(fd);
		if (write(report_fd, &e, sizeof(e)) != sizeof(e))
			_exit(3);
	}
	/* The container makes its own node of a GPU it was not given: mknod or open must fail. */
	{
		char path[256];
		int e = 0, fd;

		snprintf(path, sizeof(path), "%s/made-inside", dev_dir);
		if (mknod(path, S_IFCHR | 0666, makedev(195, 2)) < 0) {
			e = errno;
		} else {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			e = fd < 0 ? errno : 0;
			if (fd >= 0)
				close(fd);
		}
		if (write(report_fd, &e, sizeof(e)) != sizeof(e))
			_exit(3);
	}
	_exit(0);
}

Test(gpu, device_program_denies_other_gpus)
{
	static const struct open_case cases[] = {
		{ "/dev/null", 0 },	   { "/dev/zero", 0 },	    { "/dev/full", 0 },
		{ "nvidia1", ENXIO }, /* allowed: no driver behind the fake node */
		{ "nvidiactl", ENXIO },	   { "nvidia0", EPERM },    { "nvidia2", EPERM },
		{ "nvidia3", EPERM },
	};
	_cleanup_json_ json_object *pod = NULL;
	struct gpu_set set;
	struct gpu_allocator *a;
	char procs[4096], pidbuf[32], path[256], *mount = NULL;
	int ready[2], report[2], status, fd, e;
	pid_t pid;

	/* Outside the cgroup the fake nodes fail with ENXIO: an EPERM below is the program's. */
	snprintf(path, sizeof(path), "%s/nvidia0", dev_dir);
	cr_assert_eq(open(path, O_RDONLY | O_CLOEXEC), -1);
	cr_assert_eq(errno, ENXIO, "open %s outside the cgroup: %s", path, strerror(errno));

	discover(&set);
	a = allocator(&set);
	pod = json_tokener_parse("{\"metadata\":{\"uid\":\"pod-a\"},\"spec\":{\"containers\":["
				 "{\"name\":\"decoy\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}},"
				 "{\"name\":\"c\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":1}}}]}}");
	cr_assert_not_null(pod);
	cr_assert_eq(gpu_allocate_pod(a, pod), 0); /* decoy takes nvidia0, c gets nvidia1 */
	cr_assert_eq(cgroup_find_mount(&mount), 0, "no cgroup2 mount");
	cr_assert_gt(asprintf(&cg_dir, "%s/skiff-test-%d-gpu", mount, (int)getpid()), 0);
	free(mount);
	cr_assert_eq(mkdir(cg_dir, 0755), 0, "mkdir %s: %s", cg_dir, strerror(errno));
	e = gpu_container_prepare(a, cg_dir, pod, json_object_array_get_idx(json_get_path(pod, "spec.containers"), 1));
	cr_assert_eq(e, 0, "attach the device program to %s: %s", cg_dir, strerror(-e));
	gpu_allocator_free(a);
	gpu_set_clear(&set);

	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(report, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(ready[1]);
		close(report[0]);
		child_opens(ready[0], report[1], cases, sizeof(cases) / sizeof(cases[0]));
	}
	close(ready[0]);
	close(report[1]);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	cr_assert_eq(write(fd, pidbuf, strlen(pidbuf)), (ssize_t)strlen(pidbuf), "move %d into %s", (int)pid,
		     cg_dir);
	close(fd);
	cr_assert_eq(write(ready[1], "g", 1), 1);
	close(ready[1]);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(read(report[0], &e, sizeof(e)), (ssize_t)sizeof(e), "child died at %s", cases[i].name);
		cr_expect_eq(e, cases[i].want, "open %s inside: %s, want %s", cases[i].name, strerror(e),
			     strerror(cases[i].want));
	}
	cr_assert_eq(read(report[0], &e, sizeof(e)), (ssize_t)sizeof(e));
	cr_expect_eq(e, EPERM, "a node 195:2 made inside: %s, want EPERM", strerror(e));
	close(report[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
