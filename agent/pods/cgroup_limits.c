/* Pure limit math for pod cgroups: Kubernetes' cpu quota/shares/weight mapping, memory and pids
 * maxima, limits read from a pod spec, and the oom_kill counter of memory.events. */
#include "pods/cgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/quantity.h"
#include "skiff/json.h"

#define CPU_PERIOD_US 100000
#define CPU_MIN_QUOTA_US 1000 /* Kubernetes' MinQuotaPeriod */
#define CPU_MIN_SHARES 2
#define CPU_MAX_SHARES 262144
#define CPU_MAX_WEIGHT 10000

void cgroup_cpu_max_format(int64_t limit_milli, char *buf, size_t size)
{
	int64_t quota;

	if (limit_milli <= 0) {
		snprintf(buf, size, "max %d", CPU_PERIOD_US);
		return;
	}
	quota = limit_milli > INT64_MAX / 100 ? INT64_MAX : limit_milli * CPU_PERIOD_US / 1000;
	if (quota < CPU_MIN_QUOTA_US)
		quota = CPU_MIN_QUOTA_US;
	snprintf(buf, size, "%" PRId64 " %d", quota, CPU_PERIOD_US);
}

uint64_t cgroup_cpu_weight(int64_t request_milli)
{
	uint64_t shares;

	if (request_milli <= 0)
		shares = CPU_MIN_SHARES;
	else if (request_milli > INT64_MAX / 1024)
		shares = CPU_MAX_SHARES;
	else
		shares = (uint64_t)request_milli * 1024 / 1000;
	if (shares < CPU_MIN_SHARES)
		shares = CPU_MIN_SHARES;
	if (shares > CPU_MAX_SHARES)
		shares = CPU_MAX_SHARES;
	/* The runc/Kubernetes conversion of cgroup v1 shares [2, 262144] to v2 weight [1, 10000]. */
	return 1 + (shares - CPU_MIN_SHARES) * (CPU_MAX_WEIGHT - 1) / (CPU_MAX_SHARES - CPU_MIN_SHARES);
}

void cgroup_max_format(int64_t value, char *buf, size_t size)
{
	if (value <= 0)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRId64, value);
}

/* A quantity at resources.<kind>.<name> (a string, or a bare JSON number); 0 when absent. */
static int resource_get(json_object *container, const char *kind, const char *name, bool milli,
			int64_t *ret)
{
	json_object *resources = json_get_path(container, "resources");
	json_object *group, *q;
	const char *s;
	int64_t v = 0;
	int r;

	if (!resources || !json_object_object_get_ex(resources, kind, &group) ||
	    !json_object_object_get_ex(group, name, &q) || !q) {
		*ret = 0;
		return 0;
	}
	s = json_object_get_string(q);
	if (!s)
		return -EINVAL;
	r = milli ? quantity_parse_milli(s, &v) : quantity_parse_value(s, &v);
	if (r < 0)
		return r;
	if (v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cgroup_limits_from_container(json_object *container, struct cgroup_limits *ret)
{
	struct cgroup_limits l = { 0 };
	int r;

	r = resource_get(container, "limits", "cpu", true, &l.cpu_limit_milli);
	if (r < 0)
		return r;
	r = resource_get(container, "requests", "cpu", true, &l.cpu_request_milli);
	if (r < 0)
		return r;
	r = resource_get(container, "limits", "memory", false, &l.memory_limit_bytes);
	if (r < 0)
		return r;
	if (l.cpu_request_milli == 0)
		l.cpu_request_milli = l.cpu_limit_milli;
	*ret = l;
	return 0;
}

/* Adds b to *a, or makes *a 0 (unlimited) for good once any container is unlimited. */
static void limit_add(int64_t *a, int64_t b, bool *unlimited)
{
	if (b <= 0)
		*unlimited = true;
	if (*unlimited)
		*a = 0;
	else
		*a = b > INT64_MAX - *a ? INT64_MAX : *a + b;
}

int cgroup_limits_from_pod(json_object *pod, int64_t pod_pids_max, struct cgroup_limits *ret)
{
	json_object *containers = json_get_path(pod, "spec.containers");
	struct cgroup_limits sum = { .pids_max = pod_pids_max > 0 ? pod_pids_max : 0 };
	bool cpu_unlimited = false, mem_unlimited = false;
	size_t n = containers && json_object_is_type(containers, json_type_array)
			   ? json_object_array_length(containers)
			   : 0;

	for (size_t i = 0; i < n; i++) {
		struct cgroup_limits c;
		int r = cgroup_limits_from_container(json_object_array_get_idx(containers, i), &c);

		if (r < 0)
			return r;
		limit_add(&sum.cpu_limit_milli, c.cpu_limit_milli, &cpu_unlimited);
		limit_add(&sum.memory_limit_bytes, c.memory_limit_bytes, &mem_unlimited);
		if (c.cpu_request_milli > INT64_MAX - sum.cpu_request_milli)
			sum.cpu_request_milli = INT64_MAX;
		else
			sum.cpu_request_milli += c.cpu_request_milli;
	}
	*ret = sum;
	return 0;
}

int cgroup_parse_oom_kill(const char *memory_events, uint64_t *ret)
{
	const char *p = memory_events;

	while (p && *p) {
		unsigned long long v;

		if (strncmp(p, "oom_kill ", 9) == 0 && sscanf(p + 9, "%llu", &v) == 1) {
			*ret = v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}
