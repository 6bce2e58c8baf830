/* Builds the Node JSON from host facts and health; compares statuses ignoring heartbeats. */
#include "node/object.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#define MIB (1024ULL * 1024)

uint64_t node_memory_reserve(uint64_t total)
{
	uint64_t r = total / 10;

	if (r < 100 * MIB)
		r = 100 * MIB;
	if (r > 1024 * MIB)
		r = 1024 * MIB;
	if (r > total / 2)
		r = total / 2;
	return r;
}

void node_time_format(char *buf, size_t size, bool micro)
{
	struct timeval tv;
	struct tm tm;
	char base[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(buf, size, "%s.%06ldZ", base, (long)tv.tv_usec);
	else
		snprintf(buf, size, "%sZ", base);
}

static void put_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static json_object *resources(const struct node_facts *f, uint64_t mem)
{
	json_object *o = json_object_new_object();
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", f->cpus);
	put_str(o, "cpu", buf);
	snprintf(buf, sizeof(buf), "%" PRIu64 "Ki", mem / 1024);
	put_str(o, "memory", buf);
	snprintf(buf, sizeof(buf), "%ld", f->max_pods);
	put_str(o, "pods", buf);
	if (f->gpus > 0) {
		snprintf(buf, sizeof(buf), "%d", f->gpus);
		put_str(o, "nvidia.com/gpu", buf);
	}
	return o;
}

static json_object *condition(const char *type, bool on, const char *reason, const char *msg, const char *now)
{
	json_object *c = json_object_new_object();

	put_str(c, "type", type);
	put_str(c, "status", on ? "True" : "False");
	put_str(c, "lastHeartbeatTime", now);
	put_str(c, "lastTransitionTime", now);
	put_str(c, "reason", reason);
	put_str(c, "message", msg);
	return c;
}

static json_object *conditions(const struct node_health *h, const char *now)
{
	json_object *a = json_object_new_array();
	_cleanup_free_ char *msg = NULL;

	json_object_array_add(a, h->runtime_ok ? condition("Ready", true, "KubeletReady", "skiff-agent is posting ready status", now)
					       : condition("Ready", false, "KubeletNotReady", h->not_ready, now));
	if (h->missing && asprintf(&msg, "%s not available on this host's cgroup2: limits are not enforced",
				   h->missing) < 0)
		msg = NULL;
	json_object_array_add(a, h->missing ? condition("CgroupControllersMissing", true, "ControllersUnavailable",
							msg, now)
					    : condition("CgroupControllersMissing", false, "ControllersAvailable",
							"cpu, memory and pids are available", now));
	return a;
}

static json_object *address(const char *type, const char *value)
{
	json_object *a = json_object_new_object();

	put_str(a, "type", type);
	put_str(a, "address", value);
	return a;
}

static json_object *node_info(const struct node_facts *f)
{
	json_object *i = json_object_new_object();

	put_str(i, "machineID", "");
	put_str(i, "systemUUID", "");
	put_str(i, "bootID", "");
	put_str(i, "kernelVersion", f->kernel_version);
	put_str(i, "osImage", f->os_image);
	put_str(i, "containerRuntimeVersion", NODE_RUNTIME_VERSION);
	put_str(i, "kubeletVersion", NODE_KUBELET_VERSION);
	put_str(i, "kubeProxyVersion", "");
	put_str(i, "operatingSystem", "linux");
	put_str(i, "architecture", f->architecture);
	return i;
}

json_object *node_status_build(const struct node_facts *f, const struct node_health *h, const char *now)
{
	json_object *s = json_object_new_object(), *addrs = json_object_new_array();
	uint64_t reserve = node_memory_reserve(f->mem_bytes);

	json_object_object_add(s, "capacity", resources(f, f->mem_bytes));
	json_object_object_add(s, "allocatable", resources(f, f->mem_bytes - reserve));
	json_object_object_add(s, "conditions", conditions(h, now));
	json_object_array_add(addrs, address("InternalIP", f->internal_ip));
	json_object_array_add(addrs, address("Hostname", f->hostname));
	json_object_object_add(s, "addresses", addrs);
	json_object_object_add(s, "nodeInfo", node_info(f));
	return s;
}

static int taint_parse(char *entry, json_object **ret)
{
	char *effect = strrchr(entry, ':'), *value;
	json_object *t;

	if (!effect || effect == entry)
		return -EINVAL;
	*effect++ = '\0';
	if (strcmp(effect, "NoSchedule") != 0 && strcmp(effect, "PreferNoSchedule") != 0 &&
	    strcmp(effect, "NoExecute") != 0)
		return -EINVAL;
	value = strchr(entry, '=');
	if (value)
		*value++ = '\0';
	if (!*entry)
		return -EINVAL;
	t = json_object_new_object();
	put_str(t, "key", entry);
	if (value && *value)
		put_str(t, "value", value);
	put_str(t, "effect", effect);
	*ret = t;
	return 0;
}

int node_taints_parse(const char *spec, json_object **ret)
{
	_cleanup_free_ char *copy = strdup(spec ? spec : "");
	_cleanup_json_ json_object *arr = json_object_new_array();
	char *save = NULL;

	if (!copy || !arr)
		return -ENOMEM;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		json_object *t;
		int r = taint_parse(e, &t);

		if (r < 0)
			return r;
		json_object_array_add(arr, t);
	}
	*ret = TAKE_PTR(arr);
	return 0;
}

json_object *node_object_build(const struct node_facts *f, const struct node_health *h, const char *now)
{
	json_object *n = json_object_new_object(), *meta = json_object_new_object(), *labels = json_object_new_object();

	put_str(n, "apiVersion", "v1");
	put_str(n, "kind", "Node");
	put_str(meta, "name", f->name);
	put_str(labels, "kubernetes.io/hostname", f->name);
	put_str(labels, "kubernetes.io/os", "linux");
	put_str(labels, "kubernetes.io/arch", f->architecture);
	json_object_object_add(meta, "labels", labels);
	json_object_object_add(n, "metadata", meta);
	json_object_object_add(n, "spec", json_object_new_object());
	json_object_object_add(n, "status", node_status_build(f, h, now));
	return n;
}

static json_object *find_condition(json_object *status, const char *type)
{
	json_object *a = json_get_path(status, "conditions");

	for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);
		const char *t = json_get_string(c, "type");

		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

const char *node_condition_status(json_object *status, const char *type)
{
	return json_get_string(find_condition(status, type), "status");
}

/* A copy without the conditions' timestamps, the part of a status that means something. */
static json_object *strip_times(json_object *status)
{
	json_object *c = json_clone(status), *a = json_get_path(c, "conditions");

	for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
		json_object_object_del(json_object_array_get_idx(a, i), "lastHeartbeatTime");
		json_object_object_del(json_object_array_get_idx(a, i), "lastTransitionTime");
	}
	return c;
}

bool node_status_differs(json_object *a, json_object *b)
{
	_cleanup_json_ json_object *x = NULL, *y = NULL;

	if (!a || !b)
		return a != b;
	x = strip_times(a);
	y = strip_times(b);
	return !json_object_equal(x, y);
}

void node_status_carry_transitions(json_object *status, json_object *old)
{
	json_object *a = json_get_path(status, "conditions");

	for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);
		json_object *o = find_condition(old, json_get_string(c, "type") ?: "");
		const char *st = json_get_string(c, "status"), *ost = json_get_string(o, "status");
		const char *when = json_get_string(o, "lastTransitionTime");

		if (st && ost && when && strcmp(st, ost) == 0)
			json_object_object_add(c, "lastTransitionTime", json_object_new_string(when));
	}
}
