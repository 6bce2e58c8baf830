/* Filesystem trees under the runtime's dirs (see mounts.h). */
#include "pods/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -errno : 0;
	if (flag == FTW_D || flag == FTW_DNR)
		return -EBUSY; /* FTW_DEPTH never reports FTW_D: this is a mount point FTW_MOUNT skipped */
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int fs_rm_rf(const char *path)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fs_has_mounts_below(path))
		return -EBUSY;
	r = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (r < 0)
		return errno ? -errno : -EIO;
	return r;
}

int fs_write_file(const char *path, const char *content, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	size_t len = strlen(content);
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp.%d", path, getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, content, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int fs_read_file(const char *path, char **ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *mem;

	if (!f)
		return -errno;
	mem = open_memstream(&buf, &size);
	if (!mem)
		return -ENOMEM;
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, mem);
	if (fclose(mem) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

bool fs_has_mounts_below(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	char real[PATH_MAX];
	size_t cap = 0, len;

	if (!f || !realpath(path, real))
		return false;
	len = strlen(real);
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX];

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape_octal(mnt);
		if (strncmp(mnt, real, len) == 0 && (mnt[len] == '\0' || mnt[len] == '/'))
			return true;
	}
	return false;
}
