/* The cluster's daemons as processes: started detached inside a network namespace, known by
 * pid + start time (a pid alone may be reused), stopped SIGTERM-then-SIGKILL, and found by their
 * namespace when the state file is gone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "cluster.h"

#define POLL_MS 50

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Field 3 (state) and field 22 (start time); the comm field may hold spaces and parentheses. */
static int proc_stat(pid_t pid, char *ret_state, unsigned long long *ret_start)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 ret_state, ret_start) != 2)
		return -EIO;
	return 0;
}

int proc_read_start_time(pid_t pid, unsigned long long *ret)
{
	char state;

	return proc_stat(pid, &state, ret);
}

bool proc_alive(const struct cluster_proc *p)
{
	unsigned long long start;
	char state;

	if (p->pid <= 0 || proc_stat(p->pid, &state, &start) < 0)
		return false;
	return start == p->start_time && state != 'Z' && state != 'X';
}

static void child_exec(int ns_fd, char *const argv[], const char *log_path, int errfd)
{
	int fd, err;

	if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) < 0)
		goto fail;
	if (setsid() < 0 || chdir("/") < 0)
		goto fail;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		goto fail;
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		goto fail;
	execv(argv[0], argv);
fail:
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

/* A child with a CLOEXEC pipe between us: the pid (0 in the child), or -errno. */
static pid_t fork_with_pipe(int pipefd[2])
{
	pid_t pid;
	int r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	return pid;
}

int proc_spawn(int ns_fd, char *const argv[], const char *log_path, struct cluster_proc *ret)
{
	int pipefd[2], err = 0;
	ssize_t n;
	pid_t pid;

	pid = fork_with_pipe(pipefd);
	if (pid < 0)
		return pid;
	if (pid == 0) {
		close(pipefd[0]);
		child_exec(ns_fd, argv, log_path, pipefd[1]);
	}
	close(pipefd[1]);
	/* The pipe closes on exec (success) or carries the errno of the step that failed. */
	do
		n = read(pipefd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(err)) {
		waitpid(pid, NULL, 0);
		return -err;
	}
	ret->pid = pid;
	return proc_read_start_time(pid, &ret->start_time);
}

/* Our own children must be reaped or they stay zombies that still answer kill(pid, 0). */
static void reap(pid_t pid)
{
	waitpid(pid, NULL, WNOHANG);
}

static bool wait_gone(const struct cluster_proc *p, int timeout_ms)
{
	for (int waited = 0;; waited += POLL_MS) {
		reap(p->pid);
		if (!proc_alive(p))
			return true;
		if (waited >= timeout_ms)
			return false;
		sleep_ms(POLL_MS);
	}
}

int proc_stop(struct cluster_proc *p, int timeout_ms)
{
	if (!proc_alive(p))
		return 0;
	if (kill(p->pid, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	if (!wait_gone(p, timeout_ms)) {
		log_warn("pid %d still running %d ms after SIGTERM: SIGKILL", (int)p->pid, timeout_ms);
		if (kill(p->pid, SIGKILL) < 0 && errno != ESRCH)
			return -errno;
		if (!wait_gone(p, 5000))
			return -ETIMEDOUT;
	}
	p->pid = 0;
	return 0;
}

static bool same_netns(pid_t pid, const struct stat *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, &st) == 0 && st.st_ino == ns->st_ino && st.st_dev == ns->st_dev;
}

int proc_kill_netns(const char *netns_name)
{
	_cleanup_close_ int ns_fd = netns_open(netns_name);
	struct dirent *de;
	struct stat ns;
	DIR *d;
	int n = 0;

	if (ns_fd < 0)
		return ns_fd == -ENOENT ? 0 : ns_fd;
	if (fstat(ns_fd, &ns) < 0)
		return -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid() || !same_netns((pid_t)pid, &ns))
			continue;
		if (kill((pid_t)pid, SIGKILL) == 0)
			n++;
		reap((pid_t)pid);
	}
	closedir(d);
	return n;
}

/* Runs argv to completion and returns what it wrote on stdout (caller frees). */
int proc_capture(char *const argv[], char **ret_out)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *out = NULL;
	size_t len = 0;
	int pipefd[2], status, r = 0;
	pid_t pid;

	pid = fork_with_pipe(pipefd);
	if (pid < 0)
		return pid;
	if (pid == 0) {
		if (dup2(pipefd[1], STDOUT_FILENO) >= 0)
			execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	f = open_memstream(&out, &len);
	if (f) {
		char buf[4096];
		ssize_t n;

		while ((n = read(pipefd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
			if (n > 0)
				fwrite(buf, 1, (size_t)n, f);
	} else {
		r = -ENOMEM;
	}
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		r = -errno;
	else if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = -ECHILD;
	if (r < 0 || fflush(f) != 0)
		return r < 0 ? r : -ENOMEM;
	fclose(TAKE_PTR(f));
	*ret_out = TAKE_PTR(out);
	return 0;
}
