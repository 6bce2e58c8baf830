/* The RC controller's pure parts: which pods go first on scale-down, and the status counts. */
#include "controllers/rc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

#include "controllers/ctrl.h"

static bool scheduled(json_object *pod)
{
	const char *node = json_get_string(pod, "spec.nodeName");

	return node && *node;
}

static int phase_rank(json_object *pod)
{
	const char *p = json_get_string(pod, "status.phase");

	if (p && strcmp(p, "Running") == 0)
		return 2;
	if (p && strcmp(p, "Unknown") == 0)
		return 1;
	return 0;
}

static int64_t restarts(json_object *pod)
{
	json_object *cs = json_get_path(pod, "status.containerStatuses");
	int64_t max = 0;

	for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
		json_object *r = json_get_path(json_object_array_get_idx(cs, i), "restartCount");

		if (r && json_object_get_int64(r) > max)
			max = json_object_get_int64(r);
	}
	return max;
}

/* <0 when a should be deleted before b. */
static int cmp_delete_first(const void *pa, const void *pb)
{
	json_object *a = *(json_object *const *)pa, *b = *(json_object *const *)pb;
	const char *ta, *tb;
	int c;

	if (scheduled(a) != scheduled(b))
		return scheduled(a) ? 1 : -1;
	if (phase_rank(a) != phase_rank(b))
		return phase_rank(a) - phase_rank(b);
	if (pod_is_ready(a) != pod_is_ready(b))
		return pod_is_ready(a) ? 1 : -1;
	if (restarts(a) != restarts(b))
		return restarts(a) > restarts(b) ? -1 : 1;
	/* RFC 3339 UTC strings order as the times do: the newer (greater) goes first. */
	ta = json_get_string(a, "metadata.creationTimestamp") ?: "";
	tb = json_get_string(b, "metadata.creationTimestamp") ?: "";
	c = strcmp(tb, ta);
	if (c)
		return c;
	return strcmp(json_get_string(a, "metadata.name") ?: "", json_get_string(b, "metadata.name") ?: "");
}

void rc_sort_for_deletion(json_object **pods, size_t n)
{
	if (n > 1)
		qsort(pods, n, sizeof(*pods), cmp_delete_first);
}

static bool labels_cover(json_object *labels, json_object *want)
{
	if (!want)
		return true;
	json_object_object_foreach(want, k, v)
	{
		json_object *have = labels ? json_get_path(labels, k) : NULL;

		if (!have || strcmp(json_object_get_string(have), json_object_get_string(v)) != 0)
			return false;
	}
	return true;
}

static int64_t ready_since(json_object *pod)
{
	json_object *conds = json_get_path(pod, "status.conditions");

	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *t = json_get_string(c, "type");

		if (t && strcmp(t, "Ready") == 0)
			return ctrl_parse_time(json_get_string(c, "lastTransitionTime"));
	}
	return -1;
}

void rc_count(json_object *rc, json_object **active, size_t n, int64_t now, struct rc_counts *ret)
{
	json_object *want = json_get_path(rc, "spec.template.metadata.labels");
	json_object *mrs = json_get_path(rc, "spec.minReadySeconds");
	int64_t min_ready = mrs ? json_object_get_int64(mrs) : 0;

	*ret = (struct rc_counts){ .replicas = (int64_t)n };
	for (size_t i = 0; i < n; i++) {
		json_object *pod = active[i];

		if (labels_cover(json_get_path(pod, "metadata.labels"), want))
			ret->fully_labeled++;
		if (!pod_is_ready(pod))
			continue;
		ret->ready++;
		if (min_ready <= 0 || (ready_since(pod) >= 0 && now - ready_since(pod) >= min_ready))
			ret->available++;
	}
}
