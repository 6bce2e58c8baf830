/* A pod's GPUs: requests read from the spec, allocation across its containers, and the device
 * filter put on each container's cgroup. */
#include "gpu/pod.h"

#include <errno.h>
#include <string.h>

#include "api/quantity.h"
#include "gpu/device_filter.h"
#include "skiff/json.h"

int gpu_container_request(json_object *container, size_t *ret)
{
	static const char *const kinds[] = { "limits", "requests" };
	json_object *resources = json_get_path(container, "resources");

	for (size_t i = 0; i < 2; i++) {
		json_object *group, *q;
		int64_t v;
		int r;

		if (!resources || !json_object_object_get_ex(resources, kinds[i], &group) ||
		    !json_object_object_get_ex(group, GPU_RESOURCE_NAME, &q))
			continue;
		r = quantity_parse_value(json_object_get_string(q) ?: "", &v);
		if (r < 0)
			return r;
		if (v < 0)
			return -EINVAL;
		*ret = (size_t)v;
		return 0;
	}
	*ret = 0;
	return 0;
}

/* GPUs the pod's containers still need beyond what they hold. */
static int pod_needed(struct gpu_allocator *a, json_object *pod, size_t *ret)
{
	json_object *containers = json_get_path(pod, "spec.containers");
	const char *uid = json_get_string(pod, "metadata.uid");
	size_t n = containers ? json_object_array_length(containers) : 0, need = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(containers, i);
		size_t want, held = gpu_held_count(a, uid, json_get_string(c, "name") ?: "");
		int r = gpu_container_request(c, &want);

		if (r < 0)
			return r;
		need += want > held ? want - held : 0;
	}
	*ret = need;
	return 0;
}

int gpu_allocate_pod(struct gpu_allocator *a, json_object *pod)
{
	json_object *containers = json_get_path(pod, "spec.containers");
	const char *uid = json_get_string(pod, "metadata.uid");
	size_t n = containers ? json_object_array_length(containers) : 0, need;
	int r;

	if (!uid)
		return -EINVAL;
	r = pod_needed(a, pod, &need);
	if (r < 0)
		return r;
	if (need > gpu_free_count(a))
		return -ENOSPC;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_object *c = json_object_array_get_idx(containers, i);
		const char *name = json_get_string(c, "name");
		size_t want;

		r = name ? gpu_container_request(c, &want) : -EINVAL;
		if (r >= 0)
			r = gpu_allocate(a, uid, name, want);
	}
	return r;
}

int gpu_container_prepare(void *allocator, const char *cgroup_dir, json_object *pod, json_object *container)
{
	struct gpu_allocator *a = allocator;
	const struct gpu_set *set = gpu_allocator_set(a);
	struct gpu_device *devs = NULL;
	size_t n = 0;
	int r;

	if (set->n_gpus == 0)
		return 0;
	r = gpu_container_devices(a, json_get_string(pod, "metadata.uid") ?: "",
				  json_get_string(container, "name") ?: "", &devs, &n);
	if (r < 0)
		return r;
	r = gpu_device_filter_attach(cgroup_dir, set->major, devs, n);
	gpu_devices_free(devs, n);
	return r;
}

int gpu_container_rules(void *allocator, json_object *container, struct device_rule *ret, size_t cap,
			size_t *ret_n)
{
	const struct gpu_set *set = gpu_allocator_set(allocator);
	size_t want = 0, n = 0;
	int r = gpu_container_request(container, &want);

	*ret_n = 0;
	if (r < 0 || want == 0)
		return r < 0 ? r : 0;
	if (set->n_gpus + set->n_controls > cap)
		return -E2BIG;
	for (size_t i = 0; i < set->n_gpus; i++)
		ret[n++] = (struct device_rule){ 'c', set->gpus[i].major, set->gpus[i].minor };
	for (size_t i = 0; i < set->n_controls; i++)
		ret[n++] = (struct device_rule){ 'c', set->controls[i].major, set->controls[i].minor };
	*ret_n = n;
	return 0;
}
