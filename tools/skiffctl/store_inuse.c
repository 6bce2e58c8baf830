/* Is a SQLite store in use? skiff-control keeps no lock or pid file, but holds store.db
 * (and its -wal/-shm) open as long as it runs: look for any other process with one open. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_migrate.h"

struct file_id {
	dev_t dev;
	ino_t ino;
};

/* Whether any fd of pid points at one of ids (stat follows the fd's link, so this works
 * across mount namespaces too). */
static bool pid_holds(const char *pid, const struct file_id *ids, size_t n)
{
	char dir[64], fd[320];
	DIR *d;
	struct dirent *de;
	bool found = false;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return false; /* gone, or not ours to read */
	while (!found && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", dir, de->d_name);
		if (stat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		for (size_t i = 0; i < n && !found; i++)
			found = st.st_dev == ids[i].dev && st.st_ino == ids[i].ino;
	}
	closedir(d);
	return found;
}

static size_t collect_ids(const char *path, struct file_id ids[3])
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char p[4096];
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		struct stat st;

		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		if (stat(p, &st) == 0)
			ids[n++] = (struct file_id){ st.st_dev, st.st_ino };
	}
	return n;
}

pid_t store_file_holder(const char *path)
{
	struct file_id ids[3];
	size_t n = collect_ids(path, ids);
	DIR *proc;
	struct dirent *de;
	pid_t self = getpid(), holder = 0;

	if (n == 0)
		return 0;
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!holder && (de = readdir(proc))) {
		if (!isdigit((unsigned char)de->d_name[0]) || atoi(de->d_name) == self)
			continue;
		if (pid_holds(de->d_name, ids, n))
			holder = atoi(de->d_name);
	}
	closedir(proc);
	return holder;
}
