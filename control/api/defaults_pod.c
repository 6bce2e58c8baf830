/* Pod defaults: SetDefaults_Pod/PodSpec/Container/Probe of core/v1, the
 * DefaultTolerationSeconds and Priority admission defaults, and the status a new pod
 * starts with (phase Pending, its QoS class). */
#include "api/defaults.h"

#include <errno.h>
#include <string.h>

#include <skiff/json.h>

#include "api/quantity.h"

/* parsers.ParseImageName: no tag and no digest means "latest". */
static bool image_is_latest(const char *image)
{
	const char *slash = strrchr(image, '/'), *name = slash ? slash + 1 : image;
	const char *colon = strrchr(name, ':');

	if (strchr(image, '@'))
		return colon && strchr(name, '@') > colon && strncmp(colon + 1, "latest@", 7) == 0;
	return !colon || strcmp(colon + 1, "latest") == 0;
}

static void probe_defaults(json_object *probe)
{
	json_object *http = json_member(probe, "httpGet", json_type_object);

	if (!probe)
		return;
	defaults_set(probe, "timeoutSeconds", json_object_new_int(1));
	defaults_set(probe, "periodSeconds", json_object_new_int(10));
	defaults_set(probe, "successThreshold", json_object_new_int(1));
	defaults_set(probe, "failureThreshold", json_object_new_int(3));
	if (http) {
		defaults_set(http, "path", json_object_new_string("/"));
		defaults_set(http, "scheme", json_object_new_string("HTTP"));
	}
}

static void container_defaults(json_object *c)
{
	json_object *image = json_member(c, "image", json_type_string);
	json_object *ports = json_member(c, "ports", json_type_array);

	defaults_set(c, "terminationMessagePath", json_object_new_string("/dev/termination-log"));
	defaults_set(c, "terminationMessagePolicy", json_object_new_string("File"));
	/* Like parsers.ParseImageName, an empty or unparsable image has no tag: IfNotPresent. */
	defaults_set(c, "imagePullPolicy",
		     json_object_new_string(image && *json_object_get_string(image) &&
						    image_is_latest(json_object_get_string(image))
					    ? "Always"
					    : "IfNotPresent"));
	for (size_t i = 0; ports && i < json_object_array_length(ports); i++)
		defaults_set(json_object_array_get_idx(ports, i), "protocol", json_object_new_string("TCP"));
	probe_defaults(json_member(c, "livenessProbe", json_type_object));
	probe_defaults(json_member(c, "readinessProbe", json_type_object));
	probe_defaults(json_member(c, "startupProbe", json_type_object));
}

/* A volume that names no source is an emptyDir. */
static void volume_defaults(json_object *v)
{
	if (v && json_object_object_length(v) == 1 && json_member(v, "name", json_type_string))
		json_object_object_add(v, "emptyDir", json_object_new_object());
}

static void for_each(json_object *spec, const char *key, void (*fn)(json_object *))
{
	json_object *list = json_member(spec, key, json_type_array);

	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		fn(json_object_array_get_idx(list, i));
}

void defaults_pod_spec(json_object *spec)
{
	if (!spec)
		return;
	defaults_set(spec, "restartPolicy", json_object_new_string("Always"));
	defaults_set(spec, "dnsPolicy", json_object_new_string("ClusterFirst"));
	defaults_set(spec, "terminationGracePeriodSeconds", json_object_new_int(30));
	defaults_set(spec, "schedulerName", json_object_new_string("default-scheduler"));
	defaults_set(spec, "securityContext", json_object_new_object());
	defaults_set(spec, "enableServiceLinks", json_object_new_boolean(1));
	for_each(spec, "containers", container_defaults);
	for_each(spec, "initContainers", container_defaults);
	for_each(spec, "volumes", volume_defaults);
}

/* Requests default to limits, key by key. */
static void requests_from_limits(json_object *c)
{
	json_object *res = json_member(c, "resources", json_type_object);
	json_object *limits = json_member(res, "limits", json_type_object);
	json_object *requests;

	if (!limits || json_object_object_length(limits) == 0)
		return;
	requests = json_ensure_object(res, "requests");
	json_object_object_foreach(limits, k, v) {
		json_object *copy = NULL;

		if (!json_object_object_get_ex(requests, k, NULL) && json_object_deep_copy(v, &copy, NULL) == 0)
			json_object_object_add(requests, k, copy);
	}
}

/* DefaultTolerationSeconds: 300s on not-ready and unreachable nodes unless the pod says otherwise. */
static void default_toleration(json_object *spec, const char *key)
{
	json_object *list = json_member(spec, "tolerations", json_type_array), *t;

	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *have = json_object_array_get_idx(list, i);
		json_object *k = json_member(have, "key", json_type_string), *e = json_member(have, "effect", json_type_string);
		const char *ks = k ? json_object_get_string(k) : "", *es = e ? json_object_get_string(e) : "";

		if ((!*ks || strcmp(ks, key) == 0) && (!*es || strcmp(es, "NoExecute") == 0))
			return;
	}
	if (!list) {
		list = json_object_new_array();
		json_object_object_add(spec, "tolerations", list);
	}
	t = json_object_new_object();
	json_object_object_add(t, "key", json_object_new_string(key));
	json_object_object_add(t, "operator", json_object_new_string("Exists"));
	json_object_object_add(t, "effect", json_object_new_string("NoExecute"));
	json_object_object_add(t, "tolerationSeconds", json_object_new_int(300));
	json_object_array_add(list, t);
}

/* Thousandths of a unit, wide enough for exabytes of memory. */
static bool quantity_milli_wide(json_object *v, __int128 *ret)
{
	const char *s = json_object_get_string(v);
	int64_t n;
	int r;

	if (!s)
		return false;
	r = quantity_parse_milli(s, &n);
	if (r == 0) {
		*ret = n;
		return true;
	}
	if (r == -ERANGE && quantity_parse_value(s, &n) == 0) {
		*ret = (__int128)n * 1000;
		return true;
	}
	return false;
}

struct qos_sums {
	__int128 requests[2], limits[2]; /* cpu, memory */
	bool has_request[2], has_limit[2];
	bool guaranteed;
};

/* Adds one container's positive cpu/memory amounts (GetPodQOS). */
static void qos_add(json_object *c, struct qos_sums *q)
{
	static const char *const names[2] = { "cpu", "memory" };
	json_object *res = json_member(c, "resources", json_type_object);
	json_object *req = json_member(res, "requests", json_type_object), *lim = json_member(res, "limits", json_type_object);
	bool found[2] = { false, false };

	for (int i = 0; i < 2; i++) {
		json_object *v;
		__int128 m;

		if (req && json_object_object_get_ex(req, names[i], &v) && quantity_milli_wide(v, &m) && m > 0) {
			q->requests[i] += m;
			q->has_request[i] = true;
		}
		if (lim && json_object_object_get_ex(lim, names[i], &v) && quantity_milli_wide(v, &m) && m > 0) {
			q->limits[i] += m;
			q->has_limit[i] = found[i] = true;
		}
	}
	if (!found[0] || !found[1])
		q->guaranteed = false;
}

const char *defaults_pod_qos(json_object *spec)
{
	struct qos_sums q = { .guaranteed = true };
	static const char *const lists[] = { "containers", "initContainers" };

	for (size_t l = 0; l < 2; l++) {
		json_object *list = json_member(spec, lists[l], json_type_array);

		for (size_t i = 0; list && i < json_object_array_length(list); i++)
			qos_add(json_object_array_get_idx(list, i), &q);
	}
	if (!q.has_request[0] && !q.has_request[1] && !q.has_limit[0] && !q.has_limit[1])
		return "BestEffort";
	for (int i = 0; i < 2 && q.guaranteed; i++)
		if (q.has_request[i] && (!q.has_limit[i] || q.limits[i] != q.requests[i]))
			q.guaranteed = false;
	/* Guaranteed also needs as many requested resources as limited ones. */
	if (q.guaranteed && q.has_request[0] + q.has_request[1] == q.has_limit[0] + q.has_limit[1])
		return "Guaranteed";
	return "Burstable";
}

void defaults_pod(json_object *pod)
{
	json_object *spec = json_ensure_object(pod, "spec"), *status;
	json_object *containers = json_member(spec, "containers", json_type_array);

	for (size_t i = 0; containers && i < json_object_array_length(containers); i++)
		requests_from_limits(json_object_array_get_idx(containers, i));
	containers = json_member(spec, "initContainers", json_type_array);
	for (size_t i = 0; containers && i < json_object_array_length(containers); i++)
		requests_from_limits(json_object_array_get_idx(containers, i));
	defaults_pod_spec(spec);
	default_toleration(spec, "node.kubernetes.io/not-ready");
	default_toleration(spec, "node.kubernetes.io/unreachable");
	defaults_set(spec, "priority", json_object_new_int(0));
	status = json_ensure_object(pod, "status");
	defaults_set(status, "phase", json_object_new_string("Pending"));
	defaults_set(status, "qosClass", json_object_new_string(defaults_pod_qos(spec)));
}
