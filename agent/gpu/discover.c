/* GPU discovery: nvidia<N> character devices from a directory scan or an explicit list, plus the
 * driver's control nodes. */
#include "gpu/discover.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "skiff/cleanup.h"

static const char *const control_names[] = { "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset" };

int gpu_device_copy(const struct gpu_device *src, struct gpu_device *ret)
{
	char *path = strdup(src->path);

	if (!path)
		return -ENOMEM;
	*ret = *src;
	ret->path = path;
	return 0;
}

void gpu_devices_free(struct gpu_device *devs, size_t n)
{
	for (size_t i = 0; devs && i < n; i++)
		free(devs[i].path);
	free(devs);
}

void gpu_set_clear(struct gpu_set *set)
{
	if (!set)
		return;
	gpu_devices_free(set->gpus, set->n_gpus);
	gpu_devices_free(set->controls, set->n_controls);
	*set = (struct gpu_set){ .major = GPU_NVIDIA_MAJOR };
}

/* N of "nvidia<N>", or -1 when name is not a GPU node (nvidiactl, nvidia-uvm, ...). */
static int gpu_name_index(const char *name)
{
	const char *p = name + 6;

	if (strncmp(name, "nvidia", 6) != 0 || !*p || strlen(p) > 6)
		return -1;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	return atoi(p);
}

/* Appends path to a device array if it is a character device. */
static int device_add(const char *path, struct gpu_device **devs, size_t *n)
{
	_cleanup_free_ char *copy = NULL;
	struct gpu_device *grown;
	struct stat st;
	int idx;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENODEV;
	grown = realloc(*devs, (*n + 1) * sizeof(**devs));
	if (!grown)
		return -ENOMEM;
	*devs = grown;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	idx = gpu_name_index(strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	grown[(*n)++] = (struct gpu_device){
		.path = TAKE_PTR(copy),
		.index = idx >= 0 ? (unsigned)idx : minor(st.st_rdev),
		.major = major(st.st_rdev),
		.minor = minor(st.st_rdev),
	};
	return 0;
}

static int scan_dir(const char *dir, struct gpu_set *set)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	while (r >= 0 && (e = readdir(d))) {
		_cleanup_free_ char *path = NULL;

		if (gpu_name_index(e->d_name) < 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			r = -ENOMEM;
		else
			r = device_add(path, &set->gpus, &set->n_gpus);
		if (r == -ENODEV) /* a stray file of that name is not a GPU */
			r = 0;
	}
	closedir(d);
	return r;
}

static int parse_list(const char *spec, struct gpu_set *set)
{
	_cleanup_free_ char *copy = strdup(spec);
	char *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); r >= 0 && tok; tok = strtok_r(NULL, ",", &save))
		r = device_add(tok, &set->gpus, &set->n_gpus);
	return r;
}

static int controls_find(const char *dir, struct gpu_set *set)
{
	for (size_t i = 0; i < ELEMENTSOF(control_names); i++) {
		_cleanup_free_ char *path = NULL;
		int r;

		if (asprintf(&path, "%s/%s", dir, control_names[i]) < 0)
			return -ENOMEM;
		r = device_add(path, &set->controls, &set->n_controls);
		if (r < 0 && r != -ENOENT && r != -ENODEV)
			return r;
	}
	return 0;
}

static int by_index(const void *a, const void *b)
{
	const struct gpu_device *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

int gpu_discover(const char *spec, const char *dev_dir, struct gpu_set *ret)
{
	struct gpu_set set = { .major = GPU_NVIDIA_MAJOR };
	_cleanup_free_ char *dir = NULL;
	int r = 0;

	if (!dev_dir)
		dev_dir = "/dev";
	if (!spec || !*spec) {
		*ret = set;
		return 0;
	}
	if (strcmp(spec, "auto") == 0) {
		r = scan_dir(dev_dir, &set);
		dir = strdup(dev_dir);
	} else {
		r = parse_list(spec, &set);
		dir = strndup(spec, strcspn(spec, ","));
		if (dir && strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		else if (dir) {
			free(dir);
			dir = strdup(".");
		}
	}
	if (r >= 0 && !dir)
		r = -ENOMEM;
	if (r >= 0)
		r = controls_find(dir, &set);
	for (size_t i = 0; r >= 0 && i < set.n_gpus; i++) {
		if (i == 0)
			set.major = set.gpus[0].major;
		else if (set.gpus[i].major != set.major)
			r = -EINVAL;
	}
	if (r < 0) {
		gpu_set_clear(&set);
		return r;
	}
	if (set.n_gpus > 1)
		qsort(set.gpus, set.n_gpus, sizeof(*set.gpus), by_index);
	*ret = set;
	return 0;
}
