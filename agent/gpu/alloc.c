/* GPU allocation state: { "version": 1, "allocations": { "<device path>": { "pod", "container" } } }
 * Every change is made on a copy, written to disk atomically, and only then becomes the state. */
#include "gpu/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff/cleanup.h"
#include "skiff/json.h"

struct gpu_allocator {
	char *dir;
	char *file;
	struct gpu_set gpus;
	json_object *allocs; /* device path -> { pod, container } */
};

static int devices_copy(const struct gpu_device *src, size_t n, struct gpu_device **ret)
{
	struct gpu_device *devs;

	*ret = NULL;
	if (n == 0)
		return 0;
	devs = calloc(n, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r = gpu_device_copy(&src[i], &devs[i]);

		if (r < 0) {
			gpu_devices_free(devs, i);
			return r;
		}
	}
	*ret = devs;
	return 0;
}

static int state_load(struct gpu_allocator *a)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *allocs;

	if (access(a->file, F_OK) < 0) {
		if (errno != ENOENT)
			return -errno;
		a->allocs = json_object_new_object();
		return a->allocs ? 0 : -ENOMEM;
	}
	root = json_object_from_file(a->file);
	if (!root || !json_object_object_get_ex(root, "allocations", &allocs) ||
	    !json_object_is_type(allocs, json_type_object))
		return -EINVAL;
	a->allocs = json_object_get(allocs);
	return 0;
}

struct gpu_allocator *gpu_allocator_new(const char *root_dir, const struct gpu_set *gpus)
{
	struct gpu_allocator *a = calloc(1, sizeof(*a));
	int r = -ENOMEM;

	if (!a)
		return NULL;
	a->gpus.major = gpus->major;
	a->gpus.n_gpus = gpus->n_gpus;
	a->gpus.n_controls = gpus->n_controls;
	a->dir = strdup(root_dir);
	if (a->dir && asprintf(&a->file, "%s/%s", root_dir, GPU_ALLOC_FILE) < 0)
		a->file = NULL;
	if (a->dir && a->file)
		r = devices_copy(gpus->gpus, gpus->n_gpus, &a->gpus.gpus);
	if (r >= 0)
		r = devices_copy(gpus->controls, gpus->n_controls, &a->gpus.controls);
	if (r >= 0)
		r = state_load(a);
	if (r < 0) {
		gpu_allocator_free(a);
		errno = -r;
		return NULL;
	}
	return a;
}

void gpu_allocator_free(struct gpu_allocator *a)
{
	if (!a)
		return;
	gpu_set_clear(&a->gpus);
	json_putp(&a->allocs);
	free(a->file);
	free(a->dir);
	free(a);
}

/* temp file + fsync + rename + fsync of the directory: the old or the new state, never half. */
static int state_write(const struct gpu_allocator *a, json_object *allocs)
{
	_cleanup_json_ json_object *root = json_object_new_object();
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	const char *text;
	size_t len;

	if (!root || asprintf(&tmp, "%s.tmp", a->file) < 0)
		return -ENOMEM;
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "allocations", json_object_get(allocs));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 || rename(tmp, a->file) < 0) {
		int r = errno ? -errno : -EIO;

		unlink(tmp);
		return r;
	}
	dfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return -errno;
	return 0;
}

/* Makes allocs the state once it is on disk; takes allocs in both cases. */
static int state_commit(struct gpu_allocator *a, json_object *allocs)
{
	int r = state_write(a, allocs);

	if (r < 0) {
		json_object_put(allocs);
		return r;
	}
	json_object_put(a->allocs);
	a->allocs = allocs;
	return 0;
}

static bool held_by(json_object *rec, const char *pod_uid, const char *container)
{
	const char *pod = json_get_string(rec, "pod");
	const char *c = json_get_string(rec, "container");

	return pod && strcmp(pod, pod_uid) == 0 && (!container || (c && strcmp(c, container) == 0));
}

static size_t held_count(json_object *allocs, const char *pod_uid, const char *container)
{
	size_t n = 0;

	json_object_object_foreach(allocs, path, rec) {
		(void)path;
		n += held_by(rec, pod_uid, container);
	}
	return n;
}

size_t gpu_held_count(const struct gpu_allocator *a, const char *pod_uid, const char *container)
{
	return held_count(a->allocs, pod_uid, container);
}

const struct gpu_set *gpu_allocator_set(const struct gpu_allocator *a)
{
	return &a->gpus;
}

size_t gpu_free_count(const struct gpu_allocator *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->gpus.n_gpus; i++)
		n += !json_object_object_get_ex(a->allocs, a->gpus.gpus[i].path, NULL);
	return n;
}

int gpu_allocate(struct gpu_allocator *a, const char *pod_uid, const char *container, size_t n)
{
	json_object *next;
	size_t held = held_count(a->allocs, pod_uid, container), given = 0;

	if (held > 0 || n == 0)
		return held == n ? 0 : -EINVAL;
	if (gpu_free_count(a) < n)
		return -ENOSPC;
	next = NULL; /* json_object_deep_copy wants an empty destination */
	if (json_object_deep_copy(a->allocs, &next, NULL) < 0) {
		json_putp(&next);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->gpus.n_gpus && given < n; i++) {
		const char *path = a->gpus.gpus[i].path;
		json_object *rec;

		if (json_object_object_get_ex(next, path, NULL))
			continue;
		rec = json_object_new_object();
		if (!rec) {
			json_object_put(next);
			return -ENOMEM;
		}
		json_object_object_add(rec, "pod", json_object_new_string(pod_uid));
		json_object_object_add(rec, "container", json_object_new_string(container));
		json_object_object_add(next, path, rec);
		given++;
	}
	return state_commit(a, next);
}

int gpu_release_pod(struct gpu_allocator *a, const char *pod_uid)
{
	json_object *next = json_object_new_object();

	if (!next)
		return -ENOMEM;
	if (held_count(a->allocs, pod_uid, NULL) == 0) {
		json_object_put(next);
		return 0;
	}
	/* Rebuilt rather than deleted from, since json-c's foreach must not see its map change. */
	json_object_object_foreach(a->allocs, path, rec) {
		if (!held_by(rec, pod_uid, NULL))
			json_object_object_add(next, path, json_object_get(rec));
	}
	return state_commit(a, next);
}

int gpu_container_devices(const struct gpu_allocator *a, const char *pod_uid, const char *container,
			  struct gpu_device **ret, size_t *ret_n)
{
	size_t max = a->gpus.n_gpus + a->gpus.n_controls, n = 0;
	struct gpu_device *devs;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (max == 0)
		return 0;
	devs = calloc(max, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < a->gpus.n_gpus; i++) {
		json_object *rec;

		if (json_object_object_get_ex(a->allocs, a->gpus.gpus[i].path, &rec) &&
		    held_by(rec, pod_uid, container))
			r = gpu_device_copy(&a->gpus.gpus[i], &devs[n++]);
	}
	for (size_t i = 0; r >= 0 && n > 0 && i < a->gpus.n_controls; i++)
		r = gpu_device_copy(&a->gpus.controls[i], &devs[n++]);
	if (r < 0 || n == 0) {
		gpu_devices_free(devs, n); /* a failed copy left its slot zeroed */
		return r;
	}
	*ret = devs;
	*ret_n = n;
	return 0;
}

int gpu_visible_devices(const struct gpu_allocator *a, const char *pod_uid, const char *container,
			char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < a->gpus.n_gpus; i++) {
		json_object *rec;

		if (json_object_object_get_ex(a->allocs, a->gpus.gpus[i].path, &rec) &&
		    held_by(rec, pod_uid, container))
			fprintf(f, "%s%u", size ? "," : "", a->gpus.gpus[i].index);
		fflush(f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	if (size == 0) {
		free(buf);
		buf = strdup("void");
		if (!buf)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(buf);
	return 0;
}
