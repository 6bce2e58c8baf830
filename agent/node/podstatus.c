/* Pod status assembly (phase, conditions, IPs, container statuses) and its diff. */
#include "node/podstatus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

static void put_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static json_object *condition(const char *type, bool on, const char *reason, const char *msg, const char *now)
{
	json_object *c = json_object_new_object();

	put_str(c, "type", type);
	put_str(c, "status", on ? "True" : "False");
	json_object_object_add(c, "lastProbeTime", NULL);
	put_str(c, "lastTransitionTime", now);
	if (reason)
		put_str(c, "reason", reason);
	if (msg)
		put_str(c, "message", msg);
	return c;
}

/* Every spec container waiting for the reason given. */
static json_object *waiting_statuses(json_object *pod, const char *reason, const char *msg)
{
	json_object *out = json_object_new_array(), *cs = json_get_path(pod, "spec.containers");

	for (size_t i = 0; json_object_is_type(cs, json_type_array) && i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i), *s = json_object_new_object();
		json_object *state = json_object_new_object(), *w = json_object_new_object();

		put_str(s, "name", json_get_string(c, "name"));
		put_str(s, "image", json_get_string(c, "image"));
		put_str(s, "imageID", "");
		json_object_object_add(s, "ready", json_object_new_boolean(0));
		json_object_object_add(s, "restartCount", json_object_new_int(0));
		json_object_object_add(s, "started", json_object_new_boolean(0));
		put_str(w, "reason", reason);
		if (msg)
			put_str(w, "message", msg);
		json_object_object_add(state, "waiting", w);
		json_object_object_add(s, "state", state);
		json_object_array_add(out, s);
	}
	return out;
}

/* "containers with unready status: [a b]", or NULL when all are ready (and there is one). */
static char *unready_message(json_object *statuses)
{
	char buf[1024] = "";
	size_t n = json_object_is_type(statuses, json_type_array) ? json_object_array_length(statuses) : 0;
	bool any = n == 0;

	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(statuses, i);

		if (json_object_get_boolean(json_get_path(s, "ready")))
			continue;
		any = true;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? " " : "",
			 json_get_string(s, "name") ?: "");
	}
	if (!any)
		return NULL;
	char *m;

	return asprintf(&m, "containers with unready status: [%s]", buf) < 0 ? NULL : m;
}

static void add_ips(json_object *st, const char *field, const char *list_field, const char *ip)
{
	json_object *arr, *e;

	if (!ip || !*ip)
		return;
	arr = json_object_new_array();
	e = json_object_new_object();
	put_str(e, "ip", ip);
	json_object_array_add(arr, e);
	put_str(st, field, ip);
	json_object_object_add(st, list_field, arr);
}

static void add_conditions(json_object *st, const char *phase, json_object *statuses, const char *now)
{
	json_object *a = json_object_new_array();
	_cleanup_free_ char *msg = unready_message(statuses);
	bool done = strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
	bool ready = !msg && strcmp(phase, "Running") == 0;
	const char *reason = done ? "PodCompleted" : ready ? NULL : "ContainersNotReady";

	json_object_array_add(a, condition("PodScheduled", true, NULL, NULL, now));
	json_object_array_add(a, condition("Initialized", true, done ? "PodCompleted" : NULL, NULL, now));
	json_object_array_add(a, condition("ContainersReady", ready, reason, ready || done ? NULL : msg, now));
	json_object_array_add(a, condition("Ready", ready, reason, ready || done ? NULL : msg, now));
	json_object_object_add(st, "conditions", a);
}

json_object *pod_status_build(const struct pod_status_input *in)
{
	json_object *st = json_object_new_object(), *statuses;
	const char *phase = json_get_string(in->runtime, "phase") ?: "Pending";
	const char *pod_ip = json_get_string(in->runtime, "podIP");
	const char *start = json_get_string(in->runtime, "startTime") ?: json_get_string(in->pod, "status.startTime");

	if (json_object_get_boolean(json_get_path(in->pod, "spec.hostNetwork")))
		pod_ip = in->host_ip;
	put_str(st, "phase", phase);
	add_ips(st, "hostIP", "hostIPs", in->host_ip);
	add_ips(st, "podIP", "podIPs", pod_ip);
	put_str(st, "startTime", start ? start : in->now);
	statuses = json_get_path(in->runtime, "containerStatuses");
	statuses = statuses ? json_object_get(statuses)
			    : waiting_statuses(in->pod, in->wait_reason ? in->wait_reason : "ContainerCreating",
					       in->wait_message);
	add_conditions(st, phase, statuses, in->now);
	json_object_object_add(st, "containerStatuses", statuses);
	return st;
}

static json_object *strip_times(json_object *status)
{
	json_object *c = json_clone(status), *a = json_get_path(c, "conditions");

	for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
		json_object_object_del(json_object_array_get_idx(a, i), "lastTransitionTime");
		json_object_object_del(json_object_array_get_idx(a, i), "lastProbeTime");
	}
	return c;
}

bool pod_status_differs(json_object *want, json_object *have)
{
	_cleanup_json_ json_object *w = NULL, *h = NULL;

	if (!have)
		return true;
	w = strip_times(want);
	h = strip_times(have);
	json_object_object_foreach(w, key, val)
	{
		json_object *hv = json_object_object_get(h, key);

		if (!json_object_equal(val, hv))
			return true;
	}
	return false;
}

void pod_status_carry_transitions(json_object *status, json_object *old)
{
	json_object *a = json_get_path(status, "conditions"), *o = json_get_path(old, "conditions");

	for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);
		const char *type = json_get_string(c, "type") ?: "";

		for (size_t j = 0; json_object_is_type(o, json_type_array) && j < json_object_array_length(o); j++) {
			json_object *oc = json_object_array_get_idx(o, j);
			const char *st = json_get_string(c, "status"), *ost = json_get_string(oc, "status");
			const char *when = json_get_string(oc, "lastTransitionTime");

			if (strcmp(json_get_string(oc, "type") ?: "", type) == 0 && st && ost && when &&
			    strcmp(st, ost) == 0)
				json_object_object_add(c, "lastTransitionTime", json_object_new_string(when));
		}
	}
}
