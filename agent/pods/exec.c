/* pod_exec_run (see exec.h): a process forked into a running container's pid namespace that
 * joins its other namespaces and cgroup, takes the container's env, ids, working dir and
 * capabilities from its spec, and execs the command. As in container.c the child only makes
 * plain syscalls over what the parent prepared: the agent is threaded. */
#include "pods/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "pods/cgroup.h"
#include "pods/image.h"
#include "pods/mounts.h"
#include "pods/podspec.h"
#include "pods/runtime_internal.h"
#include "pods/runtime_state.h"
#include "pods/sandbox.h"
#include "pods/seccomp.h"

extern char **environ;

enum { NS_MNT, NS_PID, NS_NET, NS_IPC, NS_UTS, NS_COUNT };
static const char *const ns_names[NS_COUNT] = { "mnt", "pid", "net", "ipc", "uts" };

/* What the child needs, all prepared before fork. */
struct exec_child {
	int ns[NS_COUNT];
	int stdio[3];
	const struct podspec_container *pc;
	char *const *argv;
	int syncfd, errfd;
	const struct sock_fprog *filter; /* the container's seccomp filter; NULL: none */
};

static json_object *find_container(json_object *pod, const char *name)
{
	static const char *const lists[] = { "spec.containers", "spec.initContainers" };

	for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
		json_object *arr = json_get_path(pod, lists[l]);

		for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
			json_object *c = json_object_array_get_idx(arr, i);

			if (strcmp(json_get_string(c, "name") ?: "", name) == 0)
				return c;
		}
	}
	return NULL;
}

int pod_exec_state(struct pod_runtime *rt, const char *uid, json_object **ret_state)
{
	json_object *state;

	if (rt_uid_check(uid) < 0)
		return -ENOENT;
	/* Under the lock: starts and stops rewrite the file. */
	pthread_mutex_lock(&rt->lock);
	state = rstate_load(rt->run_dir, uid);
	pthread_mutex_unlock(&rt->lock);
	if (!state)
		return errno ? -errno : -ENOENT;
	*ret_state = state;
	return 0;
}

/* The pod's state, the container's spec and its running process. */
static int load_target(struct pod_runtime *rt, const char *uid, const char *container, json_object **ret_state,
		       json_object **ret_spec, struct proc_id *ret_proc)
{
	json_object *state = NULL, *spec, *cs;
	struct proc_id id;
	int r;

	r = pod_exec_state(rt, uid, &state);
	if (r < 0)
		return r;
	spec = find_container(json_get_path(state, "pod"), container);
	if (!spec) {
		json_object_put(state);
		return -ENOENT;
	}
	cs = json_get_path(json_get_path(state, "containers"), container);
	if (!cs || strcmp(json_get_string(cs, "state") ?: "", "running") != 0 || rstate_get_proc(cs, &id) < 0 ||
	    !proc_id_alive(&id)) {
		json_object_put(state);
		return -ESRCH;
	}
	*ret_state = state;
	*ret_spec = spec;
	*ret_proc = id;
	return 0;
}

/* cgroup.procs of the container's cgroup, open for writing; -1 (no error) when the container
 * shares the agent's own cgroup (a runtime without cgroup hooks): nothing to join then. */
static int open_cgroup_procs(pid_t pid, int *ret_fd)
{
	_cleanup_free_ char *mine = NULL, *theirs = NULL, *mnt = NULL, *path = NULL;
	char file[64];
	const char *p;
	int r;

	*ret_fd = -1;
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	r = fs_read_file(file, &theirs);
	if (r >= 0)
		r = fs_read_file("/proc/self/cgroup", &mine);
	if (r < 0)
		return r;
	p = strstr(theirs, "0::");
	if (!p || (strstr(mine, "0::") && strcmp(strstr(mine, "0::"), p) == 0))
		return 0;
	p += 3;
	r = cgroup_find_mount(&mnt);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s%.*s/cgroup.procs", mnt, (int)strcspn(p, "\n"), p) < 0)
		return -ENOMEM;
	*ret_fd = open(path, O_WRONLY | O_CLOEXEC);
	return *ret_fd < 0 ? -errno : 0;
}

static _Noreturn void child_fail(int errfd, int code)
{
	int e = errno ?: EIO;

	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(code);
	_exit(code);
}

static void child_say(int fd, const char *a, const char *b, const char *c)
{
	if (write(fd, a, strlen(a)) < 0 || write(fd, b, strlen(b)) < 0 || write(fd, c, strlen(c)) < 0)
		return;
}

static _Noreturn void child_main(const struct exec_child *x)
{
	const struct podspec_container *pc = x->pc;
	char go;

	if (read(x->syncfd, &go, 1) != 1)
		child_fail(x->errfd, 126);
	proc_reset_signals();
	setsid();
	/* The mount namespace last: after it, paths are the container's. */
	if (setns(x->ns[NS_NET], CLONE_NEWNET) < 0 || setns(x->ns[NS_IPC], CLONE_NEWIPC) < 0 ||
	    setns(x->ns[NS_UTS], CLONE_NEWUTS) < 0 || setns(x->ns[NS_MNT], CLONE_NEWNS) < 0)
		child_fail(x->errfd, 126);
	if (chdir(pc->cwd) < 0 && chdir("/") < 0)
		child_fail(x->errfd, 126);
	for (int i = 0; i < 3; i++)
		if (dup2(x->stdio[i], i) < 0)
			child_fail(x->errfd, 126);
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* The container's own filter (or exec would be a way around it), installed while
	 * CAP_SYS_ADMIN is still held, as in container.c. */
	if (x->filter && seccomp_install(x->filter) < 0)
		child_fail(x->errfd, 126);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 || container_drop_caps(pc->privileged, pc->caps) < 0)
		child_fail(x->errfd, 126);
	if (pc->set_gid && (setgroups(1, &pc->gid) < 0 || setresgid(pc->gid, pc->gid, pc->gid) < 0))
		child_fail(x->errfd, 126);
	if (pc->set_uid && setresuid(pc->uid, pc->uid, pc->uid) < 0)
		child_fail(x->errfd, 126);
	if (!pc->privileged && !pc->allow_privilege_escalation && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(x->errfd, 126);
	/* execvpe searches the PATH of environ: the container's. */
	environ = pc->envp;
	execvpe(x->argv[0], x->argv, pc->envp);
	if (errno == ENOENT) {
		child_say(STDERR_FILENO, "exec: \"", x->argv[0], "\": executable file not found in $PATH\n");
		_exit(127);
	}
	child_say(STDERR_FILENO, "exec: \"", x->argv[0], "\": permission denied or not executable\n");
	_exit(126);
}

/* Waits for the child: SIGKILL past timeout_ms (-ETIMEDOUT) or once cancel_fd is readable
 * (-ECANCELED); else its exit code as a shell gives it. */
static int wait_child(pid_t pid, int timeout_ms, int cancel_fd, int *ret_code)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = cancel_fd, .events = POLLIN } };
	int status, r = 0;

	if ((timeout_ms > 0 || cancel_fd >= 0) && pidfd >= 0) {
		do
			r = poll(p, 2, timeout_ms > 0 ? timeout_ms : -1);
		while (r < 0 && errno == EINTR);
		if (r == 0 || (r > 0 && !p[0].revents)) {
			kill(pid, SIGKILL);
			r = r == 0 ? -ETIMEDOUT : -ECANCELED;
		} else {
			r = 0;
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (r < 0)
		return r;
	*ret_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

/* Forks into the container, places the child in its cgroup, lets it go, and waits. */
static int spawn_and_wait(struct exec_child *x, int cgroup_procs, int timeout_ms, int cancel_fd, int *ret_code)
{
	int syncp[2] = { -1, -1 }, errp[2] = { -1, -1 }, err = 0, r;
	char buf[32];
	pid_t pid;
	ssize_t n;

	if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	x->syncfd = syncp[0];
	x->errfd = errp[1];
	pid = sandbox_fork_pidns(x->ns[NS_PID]);
	if (pid == 0)
		child_main(x);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	close(TAKE_FD(errp[1]));
	r = 0;
	if (cgroup_procs >= 0) {
		n = snprintf(buf, sizeof(buf), "%d", pid);
		r = write(cgroup_procs, buf, (size_t)n) < 0 ? -errno : 0;
	}
	if (r < 0 || write(syncp[1], "g", 1) != 1) {
		r = r < 0 ? r : -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	close(TAKE_FD(syncp[1]));
	r = wait_child(pid, timeout_ms, cancel_fd, ret_code);
	/* An errno from the child: it failed before exec. */
	if (r >= 0 && read(errp[0], &err, sizeof(err)) == (ssize_t)sizeof(err) && err > 0)
		r = -err;
out:
	for (int i = 0; i < 2; i++) {
		if (syncp[i] >= 0)
			close(syncp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

/* The container's env, ids, cwd and capabilities as it was started with them. */
static int build_spec(struct pod_runtime *rt, json_object *state, json_object *c, struct podspec_container *ret)
{
	json_object *pod = json_get_path(state, "pod");
	_cleanup_free_ char *lower = NULL, *err = NULL;
	_cleanup_free_ char *poddir = rt_pod_path(rt, false, json_get_string(pod, "metadata.uid") ?: "", NULL);
	_cleanup_json_ json_object *img = NULL;
	struct podspec_context ctx = { .pod_dir = poddir, .pod_ip = json_get_string(state, "podIP") ?: "",
				       .node_name = rt->node_name };
	int r;

	if (!poddir)
		return -ENOMEM;
	r = image_lookup(rt->root_dir, json_get_string(c, "image") ?: "", &lower, &img);
	if (r < 0)
		return r;
	r = podspec_container_build(pod, c, img, &ctx, ret, &err);
	if (r < 0)
		log_debug("exec: container spec: %s", err ? err : strerror(-r));
	return r;
}

int pod_exec_run(struct pod_runtime *rt, const char *uid, const char *container, char *const argv[], int stdin_fd,
		 int stdout_fd, int stderr_fd, int timeout_ms, int *ret_exit_code)
{
	return pod_exec_run_cancel(rt, uid, container, argv, stdin_fd, stdout_fd, stderr_fd, timeout_ms, -1,
				   ret_exit_code);
}

int pod_exec_run_cancel(struct pod_runtime *rt, const char *uid, const char *container, char *const argv[],
			int stdin_fd, int stdout_fd, int stderr_fd, int timeout_ms, int cancel_fd, int *ret_exit_code)
{
	_cleanup_json_ json_object *state = NULL;
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), procs = -1;
	struct podspec_container pc = { 0 };
	struct exec_child x = { .argv = argv, .pc = &pc };
	json_object *spec;
	struct proc_id id;
	int r, code = 0;

	for (int i = 0; i < NS_COUNT; i++)
		x.ns[i] = -1;
	if (!argv || !argv[0] || !container)
		return -EINVAL;
	if (devnull < 0)
		return -errno;
	r = load_target(rt, uid, container, &state, &spec, &id);
	if (r < 0)
		return r;
	r = build_spec(rt, state, spec, &pc);
	for (int i = 0; r >= 0 && i < NS_COUNT; i++) {
		x.ns[i] = sandbox_ns_open(&id, ns_names[i]);
		r = x.ns[i] < 0 ? x.ns[i] : 0;
	}
	if (r >= 0)
		r = open_cgroup_procs(id.pid, &procs);
	/* Built before the fork: libseccomp allocates, and the agent has other threads. */
	if (r >= 0 && !pc.privileged && !pc.seccomp_unconfined)
		r = seccomp_default_program(&x.filter);
	if (r >= 0) {
		x.stdio[0] = stdin_fd >= 0 ? stdin_fd : devnull;
		x.stdio[1] = stdout_fd >= 0 ? stdout_fd : devnull;
		x.stdio[2] = stderr_fd >= 0 ? stderr_fd : devnull;
		r = spawn_and_wait(&x, procs, timeout_ms, cancel_fd, &code);
	}
	for (int i = 0; i < NS_COUNT; i++)
		if (x.ns[i] >= 0)
			close(x.ns[i]);
	podspec_container_done(&pc);
	if (r < 0)
		return r;
	*ret_exit_code = code;
	return 0;
}
