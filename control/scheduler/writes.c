/* The scheduler's writes (see writes.h), each built as the JSON an API client would send
 * and handed to the registry, so validation and wording are the server's. */
#include "scheduler/writes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static int call_result(int rc, struct api_status *st, const char *what, const char *ns, const char *name)
{
	if (rc < 0)
		log_debug("scheduler: %s for pod %s/%s: %s", what, ns, name, st->message ? st->message : strerror(-rc));
	api_status_clear(st);
	return rc;
}

int sched_write_binding(struct registry *reg, const char *ns, const char *name, const char *uid, const char *node)
{
	_cleanup_json_ json_object *body = json_object_new_object(), *ret = NULL;
	json_object *meta = json_object_new_object(), *target = json_object_new_object();
	const struct write_options wo = { .field_manager = SCHED_COMPONENT };
	struct api_status st = { 0 };

	if (!body || !meta || !target) {
		json_object_put(meta);
		json_object_put(target);
		return -ENOMEM;
	}
	json_object_object_add(meta, "name", jstr(name));
	json_object_object_add(meta, "namespace", jstr(ns));
	if (uid && *uid)
		json_object_object_add(meta, "uid", jstr(uid));
	json_object_object_add(target, "apiVersion", jstr("v1"));
	json_object_object_add(target, "kind", jstr("Node"));
	json_object_object_add(target, "name", jstr(node));
	json_object_object_add(body, "apiVersion", jstr("v1"));
	json_object_object_add(body, "kind", jstr("Binding"));
	json_object_object_add(body, "metadata", meta);
	json_object_object_add(body, "target", target);
	return call_result(registry_create(reg, resource_by_name("pods"), ns, name, "binding", body, &wo, &ret, &st), &st,
			   "binding", ns, name);
}

void sched_write_bindings(struct registry *reg, struct registry_binding *b, size_t n)
{
	const struct write_options wo = { .field_manager = SCHED_COMPONENT };

	registry_bind_many(reg, b, n, &wo);
	for (size_t i = 0; i < n; i++)
		if (b[i].rc < 0)
			log_debug("scheduler: binding for pod %s/%s: %s", b[i].ns, b[i].name, strerror(-b[i].rc));
}

/* The pod's PodScheduled condition as stored, or NULL. Takes a reference into *ret_pod. */
static json_object *stored_scheduled_condition(struct registry *reg, const char *ns, const char *name,
						json_object **ret_pod)
{
	struct api_status st = { 0 };
	json_object *conds;

	*ret_pod = NULL;
	if (registry_get(reg, resource_by_name("pods"), ns, name, NULL, ret_pod, &st) < 0) {
		api_status_clear(&st);
		return NULL;
	}
	conds = json_get_path(*ret_pod, "status.conditions");
	for (size_t i = 0; conds && json_object_is_type(conds, json_type_array) && i < json_object_array_length(conds);
	     i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = json_get_string(c, "type");

		if (type && strcmp(type, "PodScheduled") == 0)
			return c;
	}
	return NULL;
}

/* A restarted scheduler re-decides every pending pod: when the pod already says so, nothing is
 * written, and lastTransitionTime only moves when the condition's status does (as in Kubernetes). */
static bool unschedulable_unchanged(struct registry *reg, const char *ns, const char *name, const char *message,
				    char ts[META_TIMESTAMP_LEN])
{
	_cleanup_json_ json_object *pod = NULL;
	json_object *cond = stored_scheduled_condition(reg, ns, name, &pod);
	const char *status = json_get_string(cond, "status"), *since = json_get_string(cond, "lastTransitionTime");
	const char *reason = json_get_string(cond, "reason"), *msg = json_get_string(cond, "message");

	meta_timestamp(time(NULL), ts);
	if (!status || strcmp(status, "False") != 0)
		return false;
	if (since && strlen(since) < META_TIMESTAMP_LEN)
		strcpy(ts, since);
	return reason && strcmp(reason, "Unschedulable") == 0 && msg && strcmp(msg, message) == 0;
}

int sched_write_unschedulable(struct registry *reg, const char *ns, const char *name, const char *rv,
			      const char *message)
{
	_cleanup_json_ json_object *patch = json_object_new_object(), *ret = NULL;
	json_object *status = json_object_new_object(), *conds = json_object_new_array(),
		    *cond = json_object_new_object(), *meta = json_object_new_object();
	const struct write_options wo = { .field_manager = SCHED_COMPONENT };
	struct api_status st = { 0 };
	char ts[META_TIMESTAMP_LEN];
	const char *body;
	bool created = false;

	if (!patch || !status || !conds || !cond || !meta) {
		json_object_put(meta);
		json_object_put(status);
		json_object_put(conds);
		json_object_put(cond);
		return -ENOMEM;
	}
	if (unschedulable_unchanged(reg, ns, name, message, ts)) {
		json_object_put(meta);
		json_object_put(status);
		json_object_put(conds);
		json_object_put(cond);
		return 0;
	}
	json_object_object_add(cond, "type", jstr("PodScheduled"));
	json_object_object_add(cond, "status", jstr("False"));
	json_object_object_add(cond, "lastProbeTime", NULL);
	json_object_object_add(cond, "lastTransitionTime", jstr(ts));
	json_object_object_add(cond, "reason", jstr("Unschedulable"));
	json_object_object_add(cond, "message", jstr(message));
	json_object_array_add(conds, cond);
	json_object_object_add(status, "conditions", conds);
	json_object_object_add(patch, "status", status);
	if (rv && *rv) {
		json_object_object_add(meta, "resourceVersion", jstr(rv));
		json_object_object_add(patch, "metadata", meta);
	} else {
		json_object_put(meta);
	}
	body = json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN);
	return call_result(registry_patch(reg, resource_by_name("pods"), ns, name, "status",
					  "application/strategic-merge-patch+json", body, strlen(body), &wo, &ret, &created,
					  &st),
			   &st, "status", ns, name);
}

static json_object *event_body(const char *ns, const char *name, const char *uid, const char *type,
			       const char *reason, const char *message)
{
	json_object *ev = json_object_new_object(), *meta = json_object_new_object(), *inv = json_object_new_object(),
		    *src = json_object_new_object();
	struct timespec now;
	char ts[META_TIMESTAMP_LEN], evname[512];

	if (!ev || !meta || !inv || !src) {
		json_object_put(ev);
		json_object_put(meta);
		json_object_put(inv);
		json_object_put(src);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	meta_timestamp(now.tv_sec, ts);
	/* Kubernetes names events <object>.<hex nanoseconds>. */
	snprintf(evname, sizeof(evname), "%s.%llx", name,
		 (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec);
	json_object_object_add(meta, "name", jstr(evname));
	json_object_object_add(meta, "namespace", jstr(ns));
	json_object_object_add(inv, "kind", jstr("Pod"));
	json_object_object_add(inv, "namespace", jstr(ns));
	json_object_object_add(inv, "name", jstr(name));
	json_object_object_add(inv, "uid", jstr(uid));
	json_object_object_add(inv, "apiVersion", jstr("v1"));
	json_object_object_add(src, "component", jstr(SCHED_COMPONENT));
	json_object_object_add(ev, "apiVersion", jstr("v1"));
	json_object_object_add(ev, "kind", jstr("Event"));
	json_object_object_add(ev, "metadata", meta);
	json_object_object_add(ev, "involvedObject", inv);
	json_object_object_add(ev, "reason", jstr(reason));
	json_object_object_add(ev, "message", jstr(message));
	json_object_object_add(ev, "source", src);
	json_object_object_add(ev, "firstTimestamp", jstr(ts));
	json_object_object_add(ev, "lastTimestamp", jstr(ts));
	json_object_object_add(ev, "count", json_object_new_int(1));
	json_object_object_add(ev, "type", jstr(type));
	json_object_object_add(ev, "reportingComponent", jstr(SCHED_COMPONENT));
	json_object_object_add(ev, "reportingInstance", jstr(SCHED_COMPONENT));
	return ev;
}

int sched_write_event(struct registry *reg, const char *ns, const char *name, const char *uid, const char *type,
		      const char *reason, const char *message)
{
	_cleanup_json_ json_object *body = event_body(ns, name, uid, type, reason, message), *ret = NULL;
	const struct write_options wo = { .field_manager = SCHED_COMPONENT };
	struct api_status st = { 0 };

	if (!body)
		return -ENOMEM;
	return call_result(registry_create(reg, resource_by_name("events"), ns, NULL, NULL, body, &wo, &ret, &st), &st,
			   "event", ns, name);
}
