/* Shared controller helpers (see ctrl.h): registry reads and retried writes, pod and
 * ownerReference predicates, clocks. */
#include "controllers/ctrl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"

/* Writers racing on one object rarely collide more than a couple of times. */
#define UPDATE_ATTEMPTS 8

static const struct write_options ctrl_wo = { .field_manager = "skiff-controller-manager" };

int64_t ctrl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ctrl_parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *end;

	if (!s || !*s)
		return -1;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	return (int64_t)timegm(&tm);
}

int ctrl_list(struct registry *reg, const char *resource, const char *ns, const char *field_selector,
	      json_object **ret_list, json_object **ret_items)
{
	const struct list_options lo = { .field_selector = field_selector };
	struct api_status st = { 0 };
	json_object *list = NULL;
	int rc;

	rc = registry_list(reg, resource_by_name(resource), ns, &lo, &list, &st);
	api_status_clear(&st);
	if (rc < 0)
		return rc;
	*ret_items = json_get_path(list, "items");
	if (!*ret_items) {
		json_object_put(list);
		return -EIO;
	}
	*ret_list = list;
	return 0;
}

static int update_attempt(struct registry *reg, const struct resource *r, const char *ns, const char *name,
			  const char *subresource, ctrl_mutate_fn mutate, void *arg, json_object **ret)
{
	_cleanup_json_ json_object *old = NULL, *desired = NULL, *out = NULL;
	struct api_status st = { 0 };
	int64_t rev = 0;
	int rc;

	rc = registry_read(reg, r, ns, name, &old, &rev, &st);
	api_status_clear(&st);
	if (rc < 0)
		return rc;
	desired = json_clone(old);
	if (!desired)
		return -ENOMEM;
	rc = mutate(desired, arg);
	if (rc != 0) {
		if (rc == 1 && ret)
			*ret = TAKE_PTR(old);
		return rc;
	}
	rc = registry_update_object(reg, r, subresource, desired, old, rev, &ctrl_wo, &out, &st);
	if (rc < 0 && rc != -ESTALE)
		log_debug("%s %s/%s: update: %s", r->name, ns ? ns : "", name, st.message ? st.message : "");
	api_status_clear(&st);
	if (rc == 0 && ret)
		*ret = TAKE_PTR(out);
	return rc;
}

int ctrl_update(struct registry *reg, const char *resource, const char *ns, const char *name,
		const char *subresource, ctrl_mutate_fn mutate, void *arg, json_object **ret)
{
	const struct resource *r = resource_by_name(resource);
	int rc = -ESTALE;

	for (int i = 0; i < UPDATE_ATTEMPTS && rc == -ESTALE; i++)
		rc = update_attempt(reg, r, ns, name, subresource, mutate, arg, ret);
	return rc;
}

int ctrl_delete(struct registry *reg, const char *resource, const char *ns, const char *name, int64_t grace,
		const char *precondition_uid)
{
	const struct delete_options d = { .grace_period_seconds = grace,
					  .propagation_policy = "Background",
					  .precondition_uid = precondition_uid };
	_cleanup_json_ json_object *out = NULL;
	struct api_status st = { 0 };
	int code = 0, rc;

	rc = registry_delete(reg, resource_by_name(resource), ns, name, &d, &out, &code, &st);
	api_status_clear(&st);
	return rc;
}

bool pod_is_terminal(json_object *pod)
{
	const char *phase = json_get_string(pod, "status.phase");

	return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

bool pod_condition_true(json_object *pod, const char *type)
{
	json_object *conds = json_get_path(pod, "status.conditions");

	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *t = json_get_string(c, "type"), *s = json_get_string(c, "status");

		if (t && strcmp(t, type) == 0)
			return s && strcmp(s, "True") == 0;
	}
	return false;
}

bool pod_is_ready(json_object *pod)
{
	return !meta_deleting(pod) && pod_condition_true(pod, "Ready");
}

static json_object *owner_refs(json_object *obj)
{
	json_object *refs = json_get_path(obj, "metadata.ownerReferences");

	return refs && json_object_is_type(refs, json_type_array) ? refs : NULL;
}

json_object *owner_controller_ref(json_object *obj)
{
	json_object *refs = owner_refs(obj);

	for (size_t i = 0; refs && i < json_object_array_length(refs); i++) {
		json_object *ref = json_object_array_get_idx(refs, i), *c = json_get_path(ref, "controller");

		if (c && json_object_get_boolean(c))
			return ref;
	}
	return NULL;
}

json_object *owner_ref_by_uid(json_object *obj, const char *uid)
{
	json_object *refs = owner_refs(obj);

	for (size_t i = 0; uid && refs && i < json_object_array_length(refs); i++) {
		json_object *ref = json_object_array_get_idx(refs, i);
		const char *u = json_get_string(ref, "uid");

		if (u && strcmp(u, uid) == 0)
			return ref;
	}
	return NULL;
}

bool owner_ref_remove(json_object *obj, const char *uid)
{
	json_object *refs = owner_refs(obj);

	for (size_t i = 0; uid && refs && i < json_object_array_length(refs); i++) {
		const char *u = json_get_string(json_object_array_get_idx(refs, i), "uid");

		if (u && strcmp(u, uid) == 0) {
			json_object_array_del_idx(refs, i, 1);
			if (json_object_array_length(refs) == 0)
				json_object_object_del(meta_of(obj), "ownerReferences");
			return true;
		}
	}
	return false;
}

bool json_array_has_string(json_object *arr, const char *s)
{
	for (size_t i = 0; arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(arr, i));

		if (v && strcmp(v, s) == 0)
			return true;
	}
	return false;
}

bool strset_has(const struct strset *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

int strset_add(struct strset *s, const char *str)
{
	char **v;

	if (strset_has(s, str))
		return 0;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->v[s->n] = strdup(str);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

char *ctrl_ns_of(const char *ns_name)
{
	const char *slash = strchr(ns_name, '/');

	return slash ? strndup(ns_name, (size_t)(slash - ns_name)) : NULL;
}

int strset_add_prefix(struct strset *s, const char *ns_name)
{
	char *ns = strchr(ns_name, '/') ? ctrl_ns_of(ns_name) : strdup(ns_name);
	int rc = ns ? strset_add(s, ns) : -ENOMEM;

	free(ns);
	return rc;
}

void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct strset){ 0 };
}
