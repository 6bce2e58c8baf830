/* The images every node gets: busybox from the host's static /bin/busybox (Debian's
 * busybox-static) with a link per applet, so pods can run sh, httpd, wget..., plus --image ones. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "cluster.h"
#include "pods/image.h"

#define HOST_BUSYBOX "/bin/busybox"

static int copy_file(const char *from, const char *to, mode_t mode)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
	struct stat st;
	off_t off = 0;

	if (in < 0 || fstat(in, &st) < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		return -errno;
	while (off < st.st_size)
		if (sendfile(out, in, &off, (size_t)(st.st_size - off)) <= 0)
			return errno ? -errno : -EIO;
	return 0;
}

/* One symlink bin/<applet> -> busybox per line of `busybox --list`. */
static int link_applets(const char *bin_dir)
{
	char *argv[] = { (char *)HOST_BUSYBOX, (char *)"--list", NULL };
	_cleanup_free_ char *list = NULL;
	char *save = NULL;
	int r = proc_capture(argv, &list);

	if (r < 0)
		return r;
	for (char *name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *path = NULL;

		if (strcmp(name, "busybox") == 0 || strchr(name, '/'))
			continue;
		if (asprintf(&path, "%s/%s", bin_dir, name) < 0)
			return -ENOMEM;
		if (symlink("busybox", path) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

/* <state>/busybox-rootfs, made once and reused for every node. */
static int busybox_rootfs(const struct cluster *c, char **ret)
{
	_cleanup_free_ char *root = cluster_path(c, "busybox-rootfs"), *bin = NULL, *exe = NULL, *tmp = NULL;
	int r;

	if (!root || asprintf(&bin, "%s/bin", root) < 0 || asprintf(&exe, "%s/busybox", bin) < 0 ||
	    asprintf(&tmp, "%s/tmp", root) < 0)
		return -ENOMEM;
	if (access(exe, X_OK) == 0) {
		*ret = TAKE_PTR(root);
		return 0;
	}
	if ((mkdir(root, 0755) < 0 && errno != EEXIST) || (mkdir(bin, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(tmp, 0755) < 0 && errno != EEXIST) || chmod(tmp, 01777) < 0)
		return -errno;
	r = copy_file(HOST_BUSYBOX, exe, 0755);
	if (r < 0)
		return log_error_errno(r, "copy " HOST_BUSYBOX " to %s: %m (make deps installs busybox-static)", exe);
	r = link_applets(bin);
	if (r < 0)
		return log_error_errno(r, "busybox applet links in %s: %m", bin);
	*ret = TAKE_PTR(root);
	return 0;
}

int cluster_import_images(const struct cluster *c, unsigned i, const struct cluster_image *images, size_t n)
{
	static const char *const cmd[] = { "sh", NULL };
	static const char *const env[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", NULL };
	struct image_import_options bb = { .cmd = cmd, .env = env }, plain = { 0 };
	_cleanup_free_ char *rootfs = NULL, *root = cluster_path(c, "node-%u/root", i);
	int r;

	if (!root)
		return -ENOMEM;
	r = busybox_rootfs(c, &rootfs);
	if (r < 0)
		return r;
	r = image_import(root, "busybox", rootfs, &bb);
	if (r < 0)
		return log_error_errno(r, "node %u: import busybox from %s into %s: %m", i, rootfs, root);
	for (size_t k = 0; k < n; k++) {
		r = image_import(root, images[k].name, images[k].path, &plain);
		if (r < 0)
			return log_error_errno(r, "node %u: import image %s from %s into %s: %m", i, images[k].name,
					       images[k].path, root);
	}
	return 0;
}
