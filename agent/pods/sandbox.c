/* The pod sandbox (see sandbox.h): skiff-pause in fresh namespaces, loopback up over
 * rtnetlink (libmnl), and pid + start-time process identity. */
#include "pods/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/close_range.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "pods/mounts.h"

int proc_id_get(pid_t pid, struct proc_id *ret)
{
	_cleanup_free_ char *stat = NULL;
	char path[64];
	unsigned long long start;
	const char *p;
	char state;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	r = fs_read_file(path, &stat);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(stat, ')');
	if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			 &state, &start) != 2)
		return -EIO;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	ret->pid = pid;
	ret->start_time = start;
	return 0;
}

bool proc_id_alive(const struct proc_id *id)
{
	struct proc_id now;

	return id->pid > 0 && proc_id_get(id->pid, &now) == 0 && now.start_time == id->start_time;
}

/* fd (just opened for id's pid) if id is still that process: opened first, checked second,
 * so a matching start time means fd names our process and not a newer one on the pid. */
static int fd_if_alive(const struct proc_id *id, int fd)
{
	if (fd < 0)
		return -errno;
	if (!proc_id_alive(id)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static int pidfd_of(const struct proc_id *id)
{
	return fd_if_alive(id, (int)syscall(SYS_pidfd_open, id->pid, 0));
}

int proc_id_kill(const struct proc_id *id, int sig)
{
	_cleanup_close_ int fd = pidfd_of(id);

	if (fd == -ESRCH)
		return 0;
	if (fd < 0)
		return fd;
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

int proc_id_wait(const struct proc_id *id, int timeout_ms, int *ret_status)
{
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, id->pid, 0);
	int status = -1;

	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return -ETIMEDOUT;
	}
	if (waitpid(id->pid, &status, WNOHANG) <= 0)
		status = -1;
	if (ret_status)
		*ret_status = status;
	return 0;
}

/* glibc's sigaction() refuses the two real-time signals it keeps for itself (32, 33), but a
 * process above the agent may have left them ignored, and that is inherited: reset them with
 * the system call (x86-64 layout of the kernel's struct sigaction). */
static void reset_libc_reserved_signals(void)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} ksa = { .handler = SIG_DFL };

	for (int sig = 32; sig < SIGRTMIN; sig++)
		syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

void proc_reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* SIGKILL, SIGSTOP and unused numbers just fail */
	reset_libc_reserved_signals();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fork() that starts the child in cgroup_fd's cgroup: moving it in afterwards by cgroup.procs
 * waits for an RCU grace period (5-25 ms a process). No stack: it returns twice, like fork(). */
static pid_t clone_into_cgroup(int cgroup_fd)
{
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)cgroup_fd,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* The pre-5.7 way, for kernels without CLONE_INTO_CGROUP. */
static int cgroup_fd_attach(int cgroup_fd, pid_t pid)
{
	_cleanup_close_ int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%d", (int)pid);

	if (fd < 0)
		return -errno;
	return write(fd, buf, (size_t)len) == len ? 0 : (errno ? -errno : -EIO);
}

/* In the child right after the clone: 0. In the parent: the pid or -errno. */
static pid_t fork_maybe_cgroup(int cgroup_fd)
{
	pid_t pid;
	int r;

	if (cgroup_fd < 0) {
		pid = fork();
		return pid < 0 ? -errno : pid;
	}
	pid = clone_into_cgroup(cgroup_fd);
	if (pid >= 0)
		return pid;
	if (errno != ENOSYS && errno != EINVAL && errno != E2BIG)
		return -errno;
	pid = fork();
	if (pid <= 0)
		return pid < 0 ? -errno : 0;
	r = cgroup_fd_attach(cgroup_fd, pid);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	return pid;
}

pid_t sandbox_clone_pidns(int pidns_fd, int cgroup_fd)
{
	_cleanup_close_ int saved = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	pid_t pid;
	int r;

	if (saved < 0)
		return -errno;
	r = pidns_fd < 0 ? unshare(CLONE_NEWPID) : setns(pidns_fd, CLONE_NEWPID);
	if (r < 0)
		return -errno;
	pid = fork_maybe_cgroup(cgroup_fd);
	if (pid == 0)
		return 0;
	r = pid;
	if (setns(saved, CLONE_NEWPID) < 0 && r > 0) {
		/* This thread would fork every later child into the pod: never go on like that. */
		kill(pid, SIGKILL);
		r = -errno;
	}
	return r;
}

pid_t sandbox_fork_pidns(int pidns_fd)
{
	return sandbox_clone_pidns(pidns_fd, -1);
}

int sandbox_ns_open(const struct proc_id *id, const char *ns)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", id->pid, ns);
	return fd_if_alive(id, open(path, O_RDONLY | O_CLOEXEC));
}

int sandbox_loopback_up(int netns_fd)
{
	_cleanup_close_ int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	unsigned seq = (unsigned)time(NULL), portid;
	int r;

	if (saved < 0)
		return -errno;
	/* The socket belongs to the namespace it was made in: make it there, then come back. */
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	nl = mnl_socket_open(NETLINK_ROUTE);
	r = nl ? 0 : -errno;
	if (setns(saved, CLONE_NEWNET) < 0)
		abort(); /* this thread is stuck in a pod's network: nothing it did next would be right */
	if (r < 0)
		return r;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)if_nametoindex("lo") ?: 1; /* lo is 1 in every new namespace */
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	r = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (r < 0) {
		r = -errno;
		goto out;
	}
	r = mnl_cb_run(buf, (size_t)r, seq, portid, NULL, NULL);
	r = r < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

/* In the forked child: only syscalls from here to execve. A failure is written to errfd as
 * an errno; a successful execve closes errfd (O_CLOEXEC), which is the parent's signal. */
static void pause_child(const char *pause_path, const char *hostname, int ns_flags, int devnull, int errfd)
{
	char *argv[] = { (char *)"skiff-pause", NULL };
	char *envp[] = { NULL };
	int err;

	proc_reset_signals();
	if (unshare(ns_flags) < 0 || setsid() < 0)
		goto fail;
	if ((ns_flags & CLONE_NEWUTS) && sethostname(hostname, strlen(hostname)) < 0)
		goto fail;
	if (dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0 ||
	    dup2(devnull, STDERR_FILENO) < 0)
		goto fail;
	/* Whatever fd the agent's libraries left inheritable must not outlive the exec. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	execve(pause_path, argv, envp);
fail:
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

int sandbox_start(const char *pause_path, const char *hostname, int ns_flags, struct proc_id *ret)
{
	return sandbox_start_in(pause_path, hostname, ns_flags, -1, ret);
}

int sandbox_start_in(const char *pause_path, const char *hostname, int ns_flags, int cgroup_fd, struct proc_id *ret)
{
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int netns = -1;
	int errpipe[2], err = 0;
	struct proc_id id;
	ssize_t n;
	pid_t pid;
	int r;

	if (devnull < 0)
		return -errno;
	if (strlen(hostname) > 64)
		return -ENAMETOOLONG;
	if (access(pause_path, X_OK) < 0)
		return -errno;
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return -errno;
	pid = sandbox_clone_pidns(-1, cgroup_fd);
	if (pid == 0)
		pause_child(pause_path, hostname, ns_flags & SANDBOX_NS_ALL, devnull, errpipe[1]);
	close(errpipe[1]);
	if (pid < 0) {
		close(errpipe[0]);
		return pid;
	}
	do
		n = read(errpipe[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n > 0) {
		waitpid(pid, NULL, 0);
		return -(err ?: EIO);
	}
	r = proc_id_get(pid, &id);
	if (r < 0)
		goto fail;
	if (ns_flags & CLONE_NEWNET) {
		netns = sandbox_ns_open(&id, "net");
		r = netns < 0 ? netns : sandbox_loopback_up(netns);
		if (r < 0)
			goto fail;
	}
	*ret = id;
	return 0;
fail:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}
