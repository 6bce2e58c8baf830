/* The image store: import from a rootfs dir and from a tarball (libarchive), config.json,
 * name handling, replacement, lookup of a missing image. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/json.h>

#include "lib/pods_kit.h"
#include "pods/image.h"

static char *root, *src;

static void setup(void)
{
	root = pods_kit_tempdir("image-root");
	src = pods_kit_tempdir("image-src");
	pods_kit_busybox_rootfs(src);
}

static void teardown(void)
{
	pods_kit_remove(root);
	pods_kit_remove(src);
	free(root);
	free(src);
	root = src = NULL;
}

TestSuite(agent_image, .init = setup, .fini = teardown);

static void check_busybox(const char *name)
{
	_cleanup_json_ json_object *cfg = NULL;
	char *rootfs = NULL, path[4096], link[64];
	struct stat st;
	ssize_t n;

	cr_assert_eq(image_lookup(root, name, &rootfs, &cfg), 0, "lookup %s", name);
	snprintf(path, sizeof(path), "%s/bin/busybox", rootfs);
	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_expect(st.st_mode & S_IXUSR);
	snprintf(path, sizeof(path), "%s/bin/sh", rootfs);
	n = readlink(path, link, sizeof(link) - 1);
	cr_assert_gt(n, 0, "%s not a symlink", path);
	link[n] = '\0';
	cr_expect_str_eq(link, "busybox");
	snprintf(path, sizeof(path), "%s/etc", rootfs);
	cr_expect_eq(stat(path, &st), 0);
	cr_expect(S_ISDIR(st.st_mode));
	cr_expect(json_get_path(cfg, "entrypoint"));
	free(rootfs);
}

Test(agent_image, import_dir_with_config)
{
	const char *const ep[] = { "/bin/sh", "-c", NULL };
	const char *const env[] = { "A=1", "PATH=/bin", NULL };
	struct image_import_options o = { .entrypoint = ep, .env = env, .working_dir = "/tmp" };
	_cleanup_json_ json_object *cfg = NULL;
	char *rootfs = NULL;

	cr_assert_eq(image_import(root, "busybox", src, &o), 0);
	check_busybox("busybox");
	check_busybox("busybox:latest");
	cr_assert_eq(image_lookup(root, "busybox", &rootfs, &cfg), 0);
	free(rootfs);
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(json_get_path(cfg, "entrypoint"), 1)), "-c");
	cr_expect_eq(json_object_array_length(json_get_path(cfg, "cmd")), 0);
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(json_get_path(cfg, "env"), 0)), "A=1");
	cr_expect_str_eq(json_get_string(cfg, "workingDir"), "/tmp");
}

Test(agent_image, import_tarball_and_replace)
{
	char tar[4096], cmd[8192], marker[4096];
	struct stat st;

	snprintf(tar, sizeof(tar), "%s.tar.gz", src);
	snprintf(cmd, sizeof(cmd), "tar -C '%s' -czf '%s' . && touch '%s/only-in-dir'", src, tar, src);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(image_import(root, "registry.local/tools/bb:1.0", src, NULL), 0);
	snprintf(marker, sizeof(marker), "%s/images/registry.local_tools_bb:1.0/rootfs/only-in-dir", root);
	cr_expect_eq(stat(marker, &st), 0, "dir import lacks %s", marker);
	/* The tarball import replaces the dir import whole. */
	cr_assert_eq(image_import(root, "registry.local/tools/bb:1.0", tar, NULL), 0);
	unlink(tar);
	check_busybox("registry.local/tools/bb:1.0");
	cr_expect_neq(stat(marker, &st), 0, "old image files survived the replacement");
	{
		/* ... but the old tree is kept aside for the containers that may still run on it. */
		snprintf(cmd, sizeof(cmd), "ls -d '%s'/images/.replaced/registry.local_tools_bb:1.0.*/image/rootfs/only-in-dir >/dev/null", root);
		cr_expect_eq(system(cmd), 0, "old tree not kept in .replaced");
	}
	cr_expect_eq(image_remove(root, "registry.local/tools/bb:1.0"), 0);
	cr_expect_eq(image_lookup(root, "registry.local/tools/bb:1.0", &(char *){ NULL }, &(json_object *){ NULL }),
		     -ENOENT);
}

Test(agent_image, missing_and_bad)
{
	char *rootfs = NULL;
	json_object *cfg = NULL;
	char notar[4096];

	cr_expect_eq(image_lookup(root, "nope", &rootfs, &cfg), -ENOENT);
	cr_expect_null(rootfs);
	cr_expect_eq(image_import(root, "../evil", src, NULL), -EINVAL);
	cr_expect_eq(image_import(root, "", src, NULL), -EINVAL);
	cr_expect_eq(image_import(root, "x", "/nonexistent/dir", NULL), -ENOENT);
	snprintf(notar, sizeof(notar), "%s/bin/busybox", src);
	cr_expect_lt(image_import(root, "x", notar, NULL), 0, "a binary is not an archive");
	cr_expect_eq(image_lookup(root, "x", &rootfs, &cfg), -ENOENT, "failed import left an image");
}
