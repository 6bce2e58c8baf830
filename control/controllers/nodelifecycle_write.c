/* The node lifecycle controller's writes: node conditions to Unknown, the NoExecute
 * taints, pods' Ready condition, and evictions, each with the Event that tells it. */
#include "controllers/nodelifecycle_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "controllers/ctrl.h"
#include "controllers/events.h"
#include "controllers/nodelifecycle.h"

static json_object *condition(json_object *obj, const char *type)
{
	json_object *conds = json_get_path(obj, "status.conditions");

	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *t = json_get_string(c, "type");

		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

const char *nodelc_ready_status(json_object *node)
{
	return json_get_string(condition(node, "Ready"), "status");
}

static void set_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

const char *nodelc_ready_beat(json_object *node)
{
	return json_get_string(condition(node, "Ready"), "lastHeartbeatTime");
}

static int mutate_unknown(json_object *node, void *arg)
{
	json_object *status = json_ensure_object(node, "status"), *conds = json_get_path(status, "conditions");
	const char *last_beat = arg, *beat = nodelc_ready_beat(node);
	char now[META_TIMESTAMP_LEN];
	bool changed = false;

	if (beat && (!last_beat || strcmp(beat, last_beat) != 0))
		return 1; /* the agent posted meanwhile */
	meta_timestamp(time(NULL), now);
	if (!conds || !json_object_is_type(conds, json_type_array)) {
		conds = json_object_new_array();
		json_object_object_add(status, "conditions", conds);
	}
	if (!condition(node, "Ready")) {
		json_object *c = json_object_new_object();

		set_str(c, "type", "Ready");
		set_str(c, "status", "Unknown");
		set_str(c, "reason", "NodeStatusNeverUpdated");
		set_str(c, "message", "Kubelet never posted node status.");
		set_str(c, "lastHeartbeatTime", json_get_string(node, "metadata.creationTimestamp") ?: now);
		set_str(c, "lastTransitionTime", now);
		json_object_array_add(conds, c);
		return 0;
	}
	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *s = json_get_string(c, "status");

		if (s && strcmp(s, "Unknown") == 0)
			continue;
		set_str(c, "status", "Unknown");
		set_str(c, "reason", "NodeStatusUnknown");
		set_str(c, "message", "Kubelet stopped posting node status.");
		set_str(c, "lastTransitionTime", now);
		changed = true;
	}
	return changed ? 0 : 1;
}

int nodelc_mark_unknown(struct registry *reg, const char *node, const char *last_beat)
{
	int rc = ctrl_update(reg, "nodes", NULL, node, "status", mutate_unknown, (void *)last_beat, NULL);

	if (rc == 0)
		log_warn("node %s: no heartbeat within the grace period, Ready is now Unknown", node);
	return rc;
}

static bool managed(const char *key)
{
	return strcmp(key, TAINT_UNREACHABLE) == 0 || strcmp(key, TAINT_NOT_READY) == 0;
}

static const char *const effects[] = { "NoExecute", "NoSchedule" };

static int effect_index(const char *effect)
{
	for (size_t i = 0; i < ELEMENTSOF(effects); i++)
		if (strcmp(effect, effects[i]) == 0)
			return (int)i;
	return -1;
}

/* Kubernetes pairs each NoExecute taint with a NoSchedule one (TaintNodesByCondition), so
 * `kubectl describe node` shows both. */
int nodelc_apply_taint(json_object *node, const char *want)
{
	json_object *spec = json_ensure_object(node, "spec"), *taints = json_get_path(spec, "taints"), *t;
	bool have[ELEMENTSOF(effects)] = { false }, changed = false;
	char now[META_TIMESTAMP_LEN];

	for (size_t i = 0; taints && i < json_object_array_length(taints);) {
		const char *key = json_get_string(json_object_array_get_idx(taints, i), "key") ?: "";
		int e = effect_index(json_get_string(json_object_array_get_idx(taints, i), "effect") ?: "");

		if (e >= 0 && want && strcmp(key, want) == 0) {
			have[e] = true;
		} else if (e >= 0 && managed(key)) {
			json_object_array_del_idx(taints, i, 1);
			changed = true;
			continue;
		}
		i++;
	}
	meta_timestamp(time(NULL), now);
	for (size_t e = 0; want && e < ELEMENTSOF(effects); e++) {
		if (have[e])
			continue;
		if (!taints) {
			taints = json_object_new_array();
			json_object_object_add(spec, "taints", taints);
		}
		t = json_object_new_object();
		set_str(t, "key", want);
		set_str(t, "effect", effects[e]);
		if (e == 0)
			set_str(t, "timeAdded", now);
		json_object_array_add(taints, t);
		changed = true;
	}
	if (taints && json_object_array_length(taints) == 0)
		json_object_object_del(spec, "taints");
	return changed ? 0 : 1;
}

static int mutate_taint(json_object *node, void *arg)
{
	return nodelc_apply_taint(node, arg);
}

int nodelc_set_taint(struct registry *reg, const char *node, const char *key)
{
	int rc = ctrl_update(reg, "nodes", NULL, node, NULL, mutate_taint, (void *)key, NULL);

	if (rc == 0)
		log_info("node %s: %s", node, key ? key : "NoExecute taints removed");
	return rc;
}

int64_t nodelc_taint_time(json_object *node, const char *key)
{
	json_object *taints = json_get_path(node, "spec.taints");

	for (size_t i = 0; taints && i < json_object_array_length(taints); i++) {
		json_object *t = json_object_array_get_idx(taints, i);
		const char *k = json_get_string(t, "key") ?: "", *e = json_get_string(t, "effect") ?: "";
		int64_t at;

		if (strcmp(k, key) != 0 || strcmp(e, "NoExecute") != 0)
			continue;
		at = ctrl_parse_time(json_get_string(t, "timeAdded"));
		return at >= 0 ? at : time(NULL);
	}
	return -1;
}

static int mutate_pod_not_ready(json_object *pod, void *arg)
{
	json_object *c = condition(pod, "Ready");
	char now[META_TIMESTAMP_LEN];

	(void)arg;
	if (!c || strcmp(json_get_string(c, "status") ?: "", "True") != 0)
		return 1;
	meta_timestamp(time(NULL), now);
	set_str(c, "status", "False");
	set_str(c, "lastTransitionTime", now);
	return 0;
}

static int pods_on(struct registry *reg, const char *node, json_object **ret_list, json_object **ret_items)
{
	_cleanup_free_ char *sel = NULL;

	if (asprintf(&sel, "spec.nodeName=%s", node) < 0)
		return -ENOMEM;
	return ctrl_list(reg, "pods", NULL, sel, ret_list, ret_items);
}

void nodelc_mark_pods_not_ready(struct registry *reg, const char *node)
{
	_cleanup_json_ json_object *list = NULL;
	json_object *pods;

	if (pods_on(reg, node, &list, &pods) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(pods); i++) {
		json_object *pod = json_object_array_get_idx(pods, i);

		if (ctrl_update(reg, "pods", meta_namespace(pod), meta_name(pod), "status", mutate_pod_not_ready, NULL,
				NULL) == 0)
			event_record(reg, pod, NODELC_COMPONENT, EVENT_WARNING, "NodeNotReady", "Node is not ready");
	}
}

static bool due(json_object *pod, const char *key, int64_t tainted_at, int64_t timeout_s, int64_t now)
{
	int64_t deadline = nodelc_eviction_deadline(pod, key, tainted_at, timeout_s);

	return deadline >= 0 && now >= deadline;
}

bool nodelc_any_due(struct registry *reg, json_object *node, const char *key, int64_t timeout_s, int64_t now)
{
	int64_t at = nodelc_taint_time(node, key);
	_cleanup_json_ json_object *list = NULL;
	json_object *pods;

	if (at < 0 || pods_on(reg, meta_name(node), &list, &pods) < 0)
		return false;
	for (size_t i = 0; i < json_object_array_length(pods); i++)
		if (due(json_object_array_get_idx(pods, i), key, at, timeout_s, now))
			return true;
	return false;
}

void nodelc_evict_due(struct registry *reg, json_object *node, const char *key, int64_t timeout_s, int64_t now)
{
	int64_t at = nodelc_taint_time(node, key);
	_cleanup_json_ json_object *list = NULL;
	json_object *pods;

	if (at < 0 || pods_on(reg, meta_name(node), &list, &pods) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(pods); i++) {
		json_object *pod = json_object_array_get_idx(pods, i);
		int rc;

		if (!due(pod, key, at, timeout_s, now))
			continue;
		event_record(reg, pod, NODELC_COMPONENT, EVENT_NORMAL, "TaintManagerEviction",
			     "Marking for deletion Pod %s/%s", meta_namespace(pod), meta_name(pod));
		/* Grace 0: the node's agent cannot confirm the end. */
		rc = ctrl_delete(reg, "pods", meta_namespace(pod), meta_name(pod), 0, json_get_string(pod, "metadata.uid"));
		if (rc < 0 && rc != -ENOENT)
			log_warn_errno(rc, "pod %s/%s: eviction from node %s failed: %m", meta_namespace(pod), meta_name(pod),
				       meta_name(node));
		else if (rc == 0)
			log_info("pod %s/%s: evicted from node %s (%s)", meta_namespace(pod), meta_name(pod), meta_name(node),
				 key);
	}
}
