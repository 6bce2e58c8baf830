/* The default device policy on a real cgroup: a process in it may make any device node, open
 * the defaults (/dev/null) and the extra rules (a fake GPU node: ENXIO, no driver), but gets
 * EPERM opening anything else — a block device it made itself, another char device. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pods/cgroup.h"
#include "pods/device_policy.h"

static char *cg_dir;
static char dev_dir[] = "/tmp/skiff-test-devpol.XXXXXX";

static void teardown(void)
{
	char cmd[512];

	if (cg_dir) {
		rmdir(cg_dir);
		free(cg_dir);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dev_dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dev_dir);
}

/* In the child: the errno of each attempt (0 = it worked), written to fd. */
static void child(int go, int fd)
{
	const struct { const char *name; char type; unsigned major, minor; } nodes[] = {
		{ "sda", 'b', 8, 0 }, { "gpu1", 'c', 195, 1 }, { "gpu2", 'c', 195, 2 }, { "kmsg", 'c', 1, 11 },
	};
	char c, path[256];
	int e;

	if (read(go, &c, 1) != 1)
		_exit(2);
	e = open("/dev/null", O_RDWR) < 0 ? errno : 0;
	if (write(fd, &e, sizeof(e)) != sizeof(e))
		_exit(3);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		int fdn;

		snprintf(path, sizeof(path), "%s/%s", dev_dir, nodes[i].name);
		e = mknod(path, (nodes[i].type == 'b' ? S_IFBLK : S_IFCHR) | 0600, makedev(nodes[i].major, nodes[i].minor)) < 0
			    ? errno
			    : 0;
		if (write(fd, &e, sizeof(e)) != sizeof(e))
			_exit(3);
		fdn = open(path, O_RDONLY);
		e = fdn < 0 ? errno : 0;
		if (fdn >= 0)
			close(fdn);
		if (write(fd, &e, sizeof(e)) != sizeof(e))
			_exit(3);
	}
	_exit(0);
}

Test(device_policy, defaults_and_extras_only, .fini = teardown)
{
	const struct device_rule extra[] = { { 'c', 195, 1 } };
	/* /dev/null; then per node: mknod, open. */
	const int want[] = { 0, 0, EPERM, 0, ENXIO, 0, EPERM, 0, EPERM };
	char *mount = NULL, procs[512], pid_s[32];
	int go[2], rep[2], st, e, fd;
	pid_t pid;

	cr_assert_not_null(mkdtemp(dev_dir));
	cr_assert_eq(cgroup_find_mount(&mount), 0, "no cgroup2 mount");
	cr_assert_gt(asprintf(&cg_dir, "%s/skiff-test-%d-devpol", mount, (int)getpid()), 0);
	free(mount);
	cr_assert_eq(mkdir(cg_dir, 0755), 0, "mkdir %s: %s", cg_dir, strerror(errno));
	cr_assert_eq(device_policy_attach(cg_dir, extra, 1), 0);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(rep), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(go[1]);
		close(rep[0]);
		child(go[0], rep[1]);
	}
	close(go[0]);
	close(rep[1]);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_dir);
	fd = open(procs, O_WRONLY);
	cr_assert_geq(fd, 0);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	cr_assert_eq(write(fd, pid_s, strlen(pid_s)), (ssize_t)strlen(pid_s));
	close(fd);
	cr_assert_eq(write(go[1], "g", 1), 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(read(rep[0], &e, sizeof(e)), (ssize_t)sizeof(e), "child died at step %zu", i);
		cr_expect_eq(e, want[i], "step %zu: %s, want %s", i, strerror(e), strerror(want[i]));
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	close(rep[0]);
	close(go[1]);
}
