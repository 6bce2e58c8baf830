/* The node's image store (see image.h): import through libarchive from a directory or a
 * tarball into a temp dir, then renamed into place; lookup by name. */
#include "pods/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "pods/mounts.h"

#define EXTRACT_FLAGS                                                                         \
	(ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |                \
	 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT | \
	 ARCHIVE_EXTRACT_UNLINK)

char *image_store_dir(const char *root_dir)
{
	char *dir;

	return asprintf(&dir, "%s/images", root_dir) < 0 ? NULL : dir;
}

int image_name_check(const char *name)
{
	if (!name || !*name || strlen(name) > 200 || name[0] == '.' || strstr(name, ".."))
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/@", *p))
			return -EINVAL;
	return 0;
}

/* "busybox:latest" and "busybox" name one image; '/' of a registry path becomes '_'. */
static char *image_dir(const char *root_dir, const char *name)
{
	_cleanup_free_ char *enc = strdup(name);
	const char *slash;
	char *dir;
	size_t len;

	if (!enc)
		return NULL;
	slash = strrchr(enc, '/');
	len = strlen(enc);
	if (len > 7 && strcmp(enc + len - 7, ":latest") == 0 && (!slash || slash < enc + len - 7))
		enc[len - 7] = '\0';
	for (char *p = enc; *p; p++)
		if (*p == '/')
			*p = '_';
	return asprintf(&dir, "%s/images/%s", root_dir, enc) < 0 ? NULL : dir;
}

static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK)
			return -EIO;
	return r == ARCHIVE_EOF ? 0 : -EIO;
}

/* Moves an entry under dest: a disk walk reports full source paths (strip src), a tarball
 * relative ones ("./bin/sh"). Hard-link targets move the same way. */
static int entry_rebase(struct archive_entry *e, const char *src, const char *dest)
{
	const char *fields[2] = { archive_entry_pathname(e), archive_entry_hardlink(e) };

	for (int i = 0; i < 2; i++) {
		const char *p = fields[i];
		_cleanup_free_ char *full = NULL;

		if (!p)
			continue;
		if (src) {
			size_t n = strlen(src);

			if (strncmp(p, src, n) != 0)
				return -EINVAL;
			p += n;
		}
		while (*p == '/' || (p[0] == '.' && (p[1] == '/' || p[1] == '\0')))
			p++;
		if (asprintf(&full, "%s/%s", dest, p) < 0)
			return -ENOMEM;
		if (i == 0)
			archive_entry_copy_pathname(e, full);
		else
			archive_entry_copy_hardlink(e, full);
	}
	return 0;
}

static int copy_archive(struct archive *in, const char *src, const char *dest, bool disk)
{
	struct archive *out = archive_write_disk_new();
	struct archive_entry *e = archive_entry_new();
	int r = 0, ar;

	if (!out || !e) {
		r = -ENOMEM;
		goto out;
	}
	archive_write_disk_set_options(out, EXTRACT_FLAGS);
	archive_write_disk_set_standard_lookup(out);
	for (;;) {
		archive_entry_clear(e);
		ar = archive_read_next_header2(in, e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			log_debug("image import: %s", archive_error_string(in));
			r = -EIO;
			goto out;
		}
		if (disk)
			archive_read_disk_descend(in);
		r = entry_rebase(e, disk ? src : NULL, dest);
		if (r < 0)
			goto out;
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			log_debug("image import: %s", archive_error_string(out));
			r = -EIO;
			goto out;
		}
		if (archive_entry_size(e) > 0 && (r = copy_data(in, out)) < 0)
			goto out;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			r = -EIO;
			goto out;
		}
	}
out:
	if (out) {
		if (archive_write_close(out) < ARCHIVE_WARN && r == 0)
			r = -EIO;
		archive_write_free(out);
	}
	archive_entry_free(e);
	return r;
}

static int extract(const char *source, const char *dest)
{
	struct stat st;
	struct archive *in;
	bool disk;
	int r;

	if (stat(source, &st) < 0)
		return -errno;
	disk = S_ISDIR(st.st_mode);
	in = disk ? archive_read_disk_new() : archive_read_new();
	if (!in)
		return -ENOMEM;
	if (disk) {
		archive_read_disk_set_symlink_physical(in);
		archive_read_disk_set_standard_lookup(in);
		r = archive_read_disk_open(in, source);
	} else {
		archive_read_support_filter_all(in);
		archive_read_support_format_all(in);
		r = archive_read_open_filename(in, source, 1 << 16);
	}
	if (r != ARCHIVE_OK) {
		log_debug("image import: open %s: %s", source, archive_error_string(in));
		r = -EINVAL;
	} else {
		r = copy_archive(in, source, dest, disk);
	}
	archive_read_free(in);
	return r;
}

static json_object *strv_to_json(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (; a && v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static int write_config(const char *dir, const struct image_import_options *opts)
{
	static const struct image_import_options none = { 0 };
	_cleanup_json_ json_object *cfg = json_object_new_object();
	_cleanup_free_ char *path = NULL;

	if (!opts)
		opts = &none;
	if (!cfg || asprintf(&path, "%s/config.json", dir) < 0)
		return -ENOMEM;
	json_object_object_add(cfg, "entrypoint", strv_to_json(opts->entrypoint));
	json_object_object_add(cfg, "cmd", strv_to_json(opts->cmd));
	json_object_object_add(cfg, "env", strv_to_json(opts->env));
	json_object_object_add(cfg, "workingDir",
			       json_object_new_string(opts->working_dir ? opts->working_dir : "/"));
	return fs_write_file(path, json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), 0644);
}

/* A replaced or removed image may still be the lower layer of running containers: its tree
 * is moved aside into images/.replaced, never deleted under them. */
static int image_retire(const char *root_dir, const char *dir)
{
	_cleanup_free_ char *aside = NULL, *slot = NULL, *target = NULL;
	const char *base = strrchr(dir, '/');
	struct stat st;
	int r;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (asprintf(&aside, "%s/images/.replaced", root_dir) < 0 ||
	    asprintf(&slot, "%s/%s.XXXXXX", aside, base ? base + 1 : dir) < 0)
		return -ENOMEM;
	r = fs_mkdir_p(aside, 0700);
	if (r < 0)
		return r;
	if (!mkdtemp(slot))
		return -errno;
	if (asprintf(&target, "%s/image", slot) < 0)
		return -ENOMEM;
	return rename(dir, target) < 0 ? -errno : 0;
}

int image_import(const char *root_dir, const char *name, const char *source,
		 const struct image_import_options *opts)
{
	_cleanup_free_ char *dir = NULL, *tmp = NULL, *rootfs = NULL;
	int r;

	if (image_name_check(name) < 0)
		return -EINVAL;
	dir = image_dir(root_dir, name);
	if (!dir || asprintf(&tmp, "%s.importing.%d", dir, getpid()) < 0 || asprintf(&rootfs, "%s/rootfs", tmp) < 0)
		return -ENOMEM;
	fs_rm_rf(tmp);
	r = fs_mkdir_p(rootfs, 0755);
	if (r < 0)
		return r;
	r = extract(source, rootfs);
	if (r >= 0)
		r = write_config(tmp, opts);
	if (r >= 0)
		r = image_retire(root_dir, dir);
	if (r >= 0 && rename(tmp, dir) < 0)
		r = -errno;
	if (r < 0)
		fs_rm_rf(tmp);
	return r;
}

int image_lookup(const char *root_dir, const char *name, char **ret_rootfs, json_object **ret_config)
{
	_cleanup_free_ char *dir = NULL, *rootfs = NULL, *cfg_path = NULL;
	json_object *cfg;
	struct stat st;

	if (image_name_check(name) < 0)
		return -ENOENT;
	dir = image_dir(root_dir, name);
	if (!dir || asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&cfg_path, "%s/config.json", dir) < 0)
		return -ENOMEM;
	if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	cfg = json_object_from_file(cfg_path);
	if (!cfg)
		return -ENOENT;
	*ret_rootfs = TAKE_PTR(rootfs);
	*ret_config = cfg;
	return 0;
}

int image_remove(const char *root_dir, const char *name)
{
	_cleanup_free_ char *dir = NULL;

	if (image_name_check(name) < 0)
		return -EINVAL;
	dir = image_dir(root_dir, name);
	if (!dir)
		return -ENOMEM;
	return image_retire(root_dir, dir);
}
