/* One container process (see container.h). Everything the child does between fork() and
 * execve() is a plain syscall over strings prepared by the parent: the agent is threaded, so
 * the child must not allocate or take locks. */
#include "pods/container.h"
#include "pods/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skiff/cleanup.h>

enum step {
	STEP_WAIT,
	STEP_SETNS,
	STEP_MOUNT_NS,
	STEP_OVERLAY,
	STEP_FIFOS,
	STEP_PROC,
	STEP_DEV,
	STEP_SYS,
	STEP_VOLUMES,
	STEP_PIVOT,
	STEP_CWD,
	STEP_STDIO,
	STEP_CAPS,
	STEP_IDS,
	STEP_NNP,
	STEP_SECCOMP,
	STEP_EXEC,
};

static const char *const step_names[] = {
	[STEP_WAIT] = "wait for parent", [STEP_SETNS] = "join sandbox namespaces",
	[STEP_MOUNT_NS] = "new mount namespace", [STEP_OVERLAY] = "mount overlay",
	[STEP_FIFOS] = "open log fifos", [STEP_PROC] = "mount /proc",
	[STEP_DEV] = "populate /dev", [STEP_SYS] = "mount /sys",
	[STEP_VOLUMES] = "mount volumes", [STEP_PIVOT] = "pivot_root",
	[STEP_CWD] = "workingDir", [STEP_STDIO] = "stdio",
	[STEP_CAPS] = "drop capabilities", [STEP_IDS] = "runAsUser/runAsGroup",
	[STEP_NNP] = "no_new_privs", [STEP_SECCOMP] = "seccomp filter", [STEP_EXEC] = "exec",
};

struct child_error {
	int step;
	int err;
};

static const int default_caps[] = {
	CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER,     CAP_FSETID, CAP_KILL,  CAP_SETGID,      CAP_SETUID,
	CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_MKNOD, CAP_AUDIT_WRITE, CAP_SETFCAP,
};

/* Index = capability number (linux/capability.h). */
static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

_Static_assert(ELEMENTSOF(cap_names) == CAP_LAST_CAP + 1, "cap_names misses capabilities");

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

unsigned long long container_default_caps(void)
{
	unsigned long long mask = 0;

	for (size_t i = 0; i < ELEMENTSOF(default_caps); i++)
		mask |= 1ULL << default_caps[i];
	return mask;
}

int container_cap_from_name(const char *name)
{
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (size_t i = 0; i < ELEMENTSOF(cap_names); i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

static _Noreturn void child_fail(int errfd, enum step step)
{
	struct child_error e = { .step = step, .err = errno ?: EIO };

	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

/* mkdir -p of a path relative to the cwd, in a stack buffer. */
static int child_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* Makes an empty file to bind a file over, its parent dirs too. */
static int child_touch(const char *path)
{
	char buf[4096];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(buf))
		return -1;
	strcpy(buf, path);
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (child_mkdir_p(buf, 0755) < 0)
			return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return errno == EISDIR ? 0 : -1;
	close(fd);
	return 0;
}

static int child_bind(const char *source, const char *target, bool readonly)
{
	struct stat st;

	if (stat(source, &st) < 0)
		return -1;
	if ((S_ISDIR(st.st_mode) ? child_mkdir_p(target, 0755) : child_touch(target)) < 0)
		return -1;
	if (mount(source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	if (readonly && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, NULL) < 0)
		return -1;
	return 0;
}

static int child_dev(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "dev/fd" },     { "/proc/self/fd/0", "dev/stdin" },
		{ "/proc/self/fd/1", "dev/stdout" }, { "/proc/self/fd/2", "dev/stderr" },
		{ "pts/ptmx", "dev/ptmx" },
	};
	char host[64], target[64];

	if (child_mkdir_p("dev", 0755) < 0 ||
	    mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
		return -1;
	for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
		/* Bind the host's nodes: works wherever mknod would be refused. */
		strcpy(host, "/dev/");
		strcat(host, dev_nodes[i]);
		strcpy(target, "dev/");
		strcat(target, dev_nodes[i]);
		if (child_bind(host, target, false) < 0)
			return -1;
	}
	if (mkdir("dev/pts", 0755) < 0 ||
	    mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
		return -1;
	if (mkdir("dev/shm", 01777) < 0 ||
	    mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0)
		return -1;
	for (size_t i = 0; i < ELEMENTSOF(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return -1;
	return 0;
}

/* What Docker hides from an unprivileged container: /proc entries that reach the host kernel
 * (sysctls are global and root-writable without any capability) read-only, the rest masked. */
static int child_proc_protect(void)
{
	static const char *const readonly[] = { "proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus", "proc/fs" };
	static const char *const files[] = { "proc/kcore", "proc/keys", "proc/timer_list", "proc/sched_debug",
					     "proc/latency_stats", "proc/timer_stats" };
	static const char *const dirs[] = { "proc/acpi", "proc/scsi", "sys/firmware" };

	for (size_t i = 0; i < ELEMENTSOF(readonly); i++) {
		if (access(readonly[i], F_OK) < 0)
			continue;
		if (mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(NULL, readonly[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return -1;
	}
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		if (access(files[i], F_OK) == 0 && mount("/dev/null", files[i], NULL, MS_BIND, NULL) < 0)
			return -1;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (access(dirs[i], F_OK) == 0 && mount("tmpfs", dirs[i], "tmpfs", MS_RDONLY, "size=0") < 0)
			return -1;
	return 0;
}

int container_drop_caps(bool privileged, unsigned long long keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (privileged)
		return 0;
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	}
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

static void child_exec(const struct container_spec *s)
{
	const char *file = s->argv[0], *p = s->path_env;
	char buf[4096];

	if (strchr(file, '/')) {
		execve(file, (char *const *)s->argv, (char *const *)s->envp);
		return;
	}
	while (p && *p) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);

		if (dlen + strlen(file) + 2 <= sizeof(buf)) {
			memcpy(buf, p, dlen);
			buf[dlen] = '/';
			strcpy(buf + dlen + 1, file);
			execve(buf, (char *const *)s->argv, (char *const *)s->envp);
		}
		p = *end ? end + 1 : end;
	}
	errno = ENOENT;
}

static _Noreturn void child_main(const struct container_spec *s, const char *overlay_opts, int syncfd, int errfd,
				 int devnull, const struct sock_fprog *filter)
{
	int outfd, errlogfd;
	char go;

	if (read(syncfd, &go, 1) != 1)
		child_fail(errfd, STEP_WAIT);
	proc_reset_signals();
	setsid(); /* out of the agent's session: its terminal's signals are not the pod's */
	if (setns(s->netns, CLONE_NEWNET) < 0 || setns(s->ipcns, CLONE_NEWIPC) < 0 ||
	    setns(s->utsns, CLONE_NEWUTS) < 0)
		child_fail(errfd, STEP_SETNS);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(errfd, STEP_MOUNT_NS);
	if (mount("overlay", s->rootfs, "overlay", 0, overlay_opts) < 0 || chdir(s->rootfs) < 0)
		child_fail(errfd, STEP_OVERLAY);
	/* O_RDWR: a container writing while the agent restarts blocks, never gets SIGPIPE. */
	outfd = open(s->stdout_fifo, O_RDWR | O_CLOEXEC);
	errlogfd = open(s->stderr_fifo, O_RDWR | O_CLOEXEC);
	if (outfd < 0 || errlogfd < 0)
		child_fail(errfd, STEP_FIFOS);
	if (child_mkdir_p("proc", 0555) < 0 ||
	    mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail(errfd, STEP_PROC);
	if (child_dev() < 0)
		child_fail(errfd, STEP_DEV);
	if (child_mkdir_p("sys", 0555) < 0 ||
	    mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | (s->privileged ? 0 : MS_RDONLY), NULL) < 0)
		child_fail(errfd, STEP_SYS);
	if (!s->privileged && child_proc_protect() < 0)
		child_fail(errfd, STEP_PROC);
	if (child_mkdir_p("tmp", 01777) < 0)
		child_fail(errfd, STEP_VOLUMES);
	for (size_t i = 0; i < s->n_mounts; i++) {
		const char *t = s->mounts[i].target;

		while (*t == '/')
			t++;
		if (child_bind(s->mounts[i].source, t, s->mounts[i].readonly) < 0)
			child_fail(errfd, STEP_VOLUMES);
	}
	/* Per mount, so the volumes and /etc files bound on top stay writable. */
	if (s->readonly_rootfs && mount(NULL, ".", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		child_fail(errfd, STEP_VOLUMES);
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail(errfd, STEP_PIVOT);
	if (child_mkdir_p(s->cwd, 0755) < 0 || chdir(s->cwd) < 0)
		child_fail(errfd, STEP_CWD);
	if (dup2(devnull, STDIN_FILENO) < 0 || dup2(outfd, STDOUT_FILENO) < 0 || dup2(errlogfd, STDERR_FILENO) < 0)
		child_fail(errfd, STEP_STDIO);
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* Before the capabilities go: without no_new_privs only CAP_SYS_ADMIN may install a filter.
	 * The steps left (capset, setres[ug]id) are ones the filter allows. */
	if (filter && seccomp_install(filter) < 0)
		child_fail(errfd, STEP_SECCOMP);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 || container_drop_caps(s->privileged, s->caps) < 0)
		child_fail(errfd, STEP_CAPS);
	if (s->set_gid && (setgroups(1, &s->gid) < 0 || setresgid(s->gid, s->gid, s->gid) < 0))
		child_fail(errfd, STEP_IDS);
	/* Changing to a non-zero uid clears the effective and permitted sets, as for Docker. */
	if (s->set_uid && setresuid(s->uid, s->uid, s->uid) < 0)
		child_fail(errfd, STEP_IDS);
	if (!s->privileged && !s->allow_privilege_escalation && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(errfd, STEP_NNP);
	child_exec(s);
	child_fail(errfd, STEP_EXEC);
}

/* overlayfs splits its options at ',' and lowerdir at ':' ("busybox:1.36" is an image
 * dir): a backslash makes them, and itself, plain characters. New string. */
static char *overlay_escape(const char *path)
{
	char *out = malloc(strlen(path) * 2 + 1), *w = out;

	if (!out)
		return NULL;
	for (const char *p = path; *p; p++) {
		if (*p == '\\' || *p == ':' || *p == ',')
			*w++ = '\\';
		*w++ = *p;
	}
	*w = '\0';
	return out;
}

static char *overlay_options(const struct container_spec *s)
{
	_cleanup_free_ char *lower = overlay_escape(s->lower), *upper = overlay_escape(s->upper);
	_cleanup_free_ char *work = overlay_escape(s->work);
	char *opts;

	if (!lower || !upper || !work || asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
		return NULL;
	return opts;
}

int container_spawn(const struct container_spec *s, struct proc_id *ret, const char **failed_step)
{
	_cleanup_free_ char *overlay_opts = NULL;
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int cgfd = -1;
	int syncp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct child_error e = { .step = STEP_WAIT };
	const struct sock_fprog *filter = NULL;
	struct proc_id id;
	ssize_t n;
	pid_t pid;
	int r;

	if (devnull < 0)
		return -errno;
	overlay_opts = overlay_options(s);
	if (!overlay_opts)
		return -ENOMEM;
	/* Built here, not in the child: libseccomp allocates, and the agent has other threads. */
	if (!s->privileged && !s->seccomp_unconfined && (r = seccomp_default_program(&filter)) < 0)
		return r;
	if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	if (s->cgroup_open) {
		cgfd = s->cgroup_open(s->userdata);
		if (cgfd < 0) {
			r = cgfd;
			goto out;
		}
	}
	pid = sandbox_clone_pidns(s->pidns, cgfd);
	if (pid == 0) {
		close(syncp[1]);
		close(errp[0]);
		child_main(s, overlay_opts, syncp[0], errp[1], devnull, filter);
	}
	if (pid < 0) {
		r = pid;
		goto out;
	}
	close(errp[1]);
	errp[1] = -1;
	r = proc_id_get(pid, &id);
	if (r >= 0 && s->attach && !s->cgroup_open)
		r = s->attach(s->userdata, pid);
	if (r < 0 || write(syncp[1], "g", 1) != 1) {
		r = r < 0 ? r : -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	do
		n = read(errp[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		waitpid(pid, NULL, 0);
		if (failed_step)
			*failed_step = step_names[e.step >= 0 && e.step <= STEP_EXEC ? e.step : STEP_EXEC];
		r = -(e.err ?: EIO);
		goto out;
	}
	*ret = id;
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (syncp[i] >= 0)
			close(syncp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}
