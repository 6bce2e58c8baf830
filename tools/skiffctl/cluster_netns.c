/* Named network namespaces exactly as `ip netns add` keeps them (a bind mount of the namespace
 * on /run/netns/<name>, inside /run/netns made a shared mount of itself), so `ip netns exec`
 * and nsenter reach them and a later `ip netns add` never stacks a mount over ours. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "cluster.h"

#define NETNS_DIR "/run/netns"

static int netns_path(const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, NETNS_DIR "/%s", name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* iproute2's convention: /run/netns is a mount point with shared propagation, made once and
 * kept (ip netns never removes it either). Without it, the first `ip netns add` of anyone
 * binds /run/netns over itself and hides the namespaces mounted there before. */
static int netns_dir_prepare(void)
{
	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	return mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0 ? -errno : 0;
}

int netns_open(const char *name)
{
	char path[256];
	int r = netns_path(name, path, sizeof(path));

	if (r < 0)
		return r;
	r = open(path, O_RDONLY | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

/* The namespace comes from unshare() on this thread, mounted on the file, then the thread goes
 * back to where it was: the tool itself never stays in a new namespace. */
int netns_create(const char *name)
{
	_cleanup_close_ int self = -1, fd = -1;
	char path[256];
	int r = netns_path(name, path, sizeof(path));

	if (r < 0)
		return r;
	r = netns_dir_prepare();
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	r = mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Staying in the new namespace would put every later step in the wrong place. */
		r = log_error_errno(-errno, "netns %s: return to the original namespace: %m", name);
	}
	if (r < 0) {
		umount2(path, MNT_DETACH);
		unlink(path);
	}
	return r;
}

int netns_remove(const char *name)
{
	char path[256];
	int r = netns_path(name, path, sizeof(path));

	if (r < 0)
		return r;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int netns_run(int ns_fd, int (*fn)(void *), void *arg)
{
	_cleanup_close_ int self = -1;
	int r;

	if (ns_fd < 0)
		return fn(arg);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(ns_fd, CLONE_NEWNET) < 0)
		return -errno;
	r = fn(arg);
	if (setns(self, CLONE_NEWNET) < 0)
		r = log_error_errno(-errno, "return to the original network namespace: %m");
	return r;
}

struct sysctl_write {
	const char *path;
	const char *value;
};

static int sysctl_write_here(void *arg)
{
	const struct sysctl_write *w = arg;
	_cleanup_close_ int fd = open(w->path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(w->value);

	if (fd < 0)
		return -errno;
	if (write(fd, w->value, len) != (ssize_t)len)
		return -errno;
	return 0;
}

int netns_sysctl(int ns_fd, const char *path, const char *value)
{
	struct sysctl_write w = { path, value };

	/* /proc/sys/net follows the namespace of the task that opens the file. */
	if (ns_fd < 0)
		return -EINVAL;
	return netns_run(ns_fd, sysctl_write_here, &w);
}
