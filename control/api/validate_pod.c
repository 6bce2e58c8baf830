/* Pod rules: the pod spec (containers, policies, volumes, tolerations, node selection),
 * the pod status, and what an update may change. */
#include "api/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#define POD_UPDATE_FORBIDDEN                                                                                 \
	"pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`," \
	"`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"              \
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Required when empty, Unsupported when not one of supported. */
static void check_enum(json_object *o, const char *key, const char *field, const char *const *supported,
		       struct field_errors *errs)
{
	const char *v = vj_str(o, key);

	if (!v || !*v)
		field_errors_required(errs, field, NULL);
	else if (!in_list(v, supported))
		field_errors_not_supported(errs, field, v, supported);
}

static void check_names_unique(json_object *list, const char *field, json_object *earlier,
			       struct field_errors *errs)
{
	char path[300];
	size_t n = list ? json_object_array_length(list) : 0;
	size_t m = earlier ? json_object_array_length(earlier) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = vj_str(json_object_array_get_idx(list, i), "name");
		bool dup = false;

		if (!name || !*name)
			continue;
		for (size_t j = 0; j < m && !dup; j++)
			dup = strcmp(name, vj_str(json_object_array_get_idx(earlier, j), "name") ?: "") == 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(name, vj_str(json_object_array_get_idx(list, j), "name") ?: "") == 0;
		field_path(path, sizeof(path), "%s[%zu].name", field, i);
		if (dup)
			field_errors_duplicate_str(errs, path, name);
	}
}

static void check_containers(json_object *spec, const char *field, struct field_errors *errs)
{
	json_object *containers = vj_arr(spec, "containers"), *init = vj_arr(spec, "initContainers");
	json_object *volumes = vj_arr(spec, "volumes");
	char path[300];

	field_path(path, sizeof(path), "%s.containers", field);
	if (!containers || json_object_array_length(containers) == 0)
		field_errors_required(errs, path, NULL);
	for (size_t i = 0; containers && i < json_object_array_length(containers); i++) {
		field_path(path, sizeof(path), "%s.containers[%zu]", field, i);
		validate_container(json_object_array_get_idx(containers, i), path, false, volumes, errs);
	}
	for (size_t i = 0; init && i < json_object_array_length(init); i++) {
		field_path(path, sizeof(path), "%s.initContainers[%zu]", field, i);
		validate_container(json_object_array_get_idx(init, i), path, true, volumes, errs);
	}
	/* As Kubernetes does: an init container clashing with an app container is the duplicate. */
	field_path(path, sizeof(path), "%s.containers", field);
	check_names_unique(containers, path, NULL, errs);
	field_path(path, sizeof(path), "%s.initContainers", field);
	check_names_unique(init, path, containers, errs);
}

static void check_volumes(json_object *volumes, const char *field, struct field_errors *errs)
{
	char path[300];
	struct name_msgs m;

	for (size_t i = 0; volumes && i < json_object_array_length(volumes); i++) {
		const char *name = vj_str(json_object_array_get_idx(volumes, i), "name");

		field_path(path, sizeof(path), "%s[%zu].name", field, i);
		if (!name || !*name) {
			field_errors_required(errs, path, NULL);
			continue;
		}
		name_check_dns1123_label(name, &m);
		field_errors_add_name_msgs(errs, path, name, &m);
	}
	check_names_unique(volumes, field, NULL, errs);
}

static void check_toleration(json_object *t, const char *field, struct field_errors *errs)
{
	static const char *const operators[] = { "Equal", "Exists", NULL };
	static const char *const effects[] = { "NoSchedule", "PreferNoSchedule", "NoExecute", NULL };
	const char *key = vj_str(t, "key") ?: "", *op = vj_str(t, "operator") ?: "";
	const char *value = vj_str(t, "value") ?: "", *effect = vj_str(t, "effect") ?: "";
	char path[320];
	struct name_msgs m;

	field_path(path, sizeof(path), "%s.key", field);
	if (*key) {
		name_check_qualified(key, &m);
		field_errors_add_name_msgs(errs, path, key, &m);
	}
	field_path(path, sizeof(path), "%s.operator", field);
	if (!*key && strcmp(op, "Exists") != 0)
		field_errors_invalid_str(errs, path, op,
					 "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
	if (*op && !in_list(op, operators))
		field_errors_not_supported(errs, path, op, operators);
	else if (strcmp(op, "Exists") == 0 && *value)
		field_errors_invalid_str(errs, path, value, "value must be empty when `operator` is 'Exists'");
	field_path(path, sizeof(path), "%s.effect", field);
	if (vj_has(t, "tolerationSeconds") && strcmp(effect, "NoExecute") != 0)
		field_errors_invalid_str(errs, path, effect,
					 "effect must be 'NoExecute' when `tolerationSeconds` is set");
	if (*effect && !in_list(effect, effects))
		field_errors_not_supported(errs, path, effect, effects);
}

static void check_tolerations(json_object *list, const char *field, struct field_errors *errs)
{
	char path[300];

	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		field_path(path, sizeof(path), "%s[%zu]", field, i);
		check_toleration(json_object_array_get_idx(list, i), path, errs);
	}
}

static void check_spec_scalars(json_object *spec, const char *field, struct field_errors *errs)
{
	static const char *const restart[] = { "Always", "OnFailure", "Never", NULL };
	static const char *const dns[] = { "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None", NULL };
	const char *node = vj_str(spec, "nodeName");
	char path[300];
	struct name_msgs m;
	int64_t v;

	field_path(path, sizeof(path), "%s.restartPolicy", field);
	check_enum(spec, "restartPolicy", path, restart, errs);
	field_path(path, sizeof(path), "%s.dnsPolicy", field);
	check_enum(spec, "dnsPolicy", path, dns, errs);
	field_path(path, sizeof(path), "%s.activeDeadlineSeconds", field);
	if (vj_int(spec, "activeDeadlineSeconds", &v) && (v < 1 || v > 2147483647))
		field_errors_invalid_int(errs, path, v, "must be between 1 and 2147483647, inclusive");
	field_path(path, sizeof(path), "%s.nodeName", field);
	if (node && *node) {
		name_check_dns1123_subdomain(node, &m);
		field_errors_add_name_msgs(errs, path, node, &m);
	}
	field_path(path, sizeof(path), "%s.nodeSelector", field);
	validate_labels(vj_obj(spec, "nodeSelector"), path, errs);
}

void validate_pod_spec(json_object *spec, const char *field, struct field_errors *errs)
{
	char path[300];

	check_containers(spec, field, errs);
	check_spec_scalars(spec, field, errs);
	field_path(path, sizeof(path), "%s.volumes", field);
	check_volumes(vj_arr(spec, "volumes"), path, errs);
	field_path(path, sizeof(path), "%s.tolerations", field);
	check_tolerations(vj_arr(spec, "tolerations"), path, errs);
}

/* A toleration equal to old but for tolerationSeconds. */
static bool toleration_kept(json_object *old_t, json_object *new_list)
{
	for (size_t i = 0; new_list && i < json_object_array_length(new_list); i++) {
		_cleanup_json_ json_object *a = json_clone(old_t);
		_cleanup_json_ json_object *b = json_clone(json_object_array_get_idx(new_list, i));

		if (!a || !b)
			return false;
		json_object_object_del(a, "tolerationSeconds");
		json_object_object_del(b, "tolerationSeconds");
		if (json_object_equal(a, b))
			return true;
	}
	return false;
}

static void check_tolerations_update(json_object *spec, json_object *old_spec, struct field_errors *errs)
{
	json_object *old_list = vj_arr(old_spec, "tolerations"), *new_list = vj_arr(spec, "tolerations");

	for (size_t i = 0; old_list && i < json_object_array_length(old_list); i++) {
		if (!toleration_kept(json_object_array_get_idx(old_list, i), new_list)) {
			field_errors_forbidden(errs, "spec.tolerations",
					       "existing toleration can not be modified except its tolerationSeconds");
			return;
		}
	}
}

static void check_deadline_update(json_object *spec, json_object *old_spec, struct field_errors *errs)
{
	int64_t now, was;
	bool has_now = vj_int(spec, "activeDeadlineSeconds", &now);
	bool has_was = vj_int(old_spec, "activeDeadlineSeconds", &was);

	if (has_now && has_was && was < now)
		field_errors_invalid_int(errs, "spec.activeDeadlineSeconds", now,
					 "must be less than or equal to previous value");
	else if (!has_now && has_was)
		field_errors_invalid_raw(errs, "spec.activeDeadlineSeconds", "null",
					 "must not update from a positive integer to nil value");
}

/* Copies key from src into dst (or removes it from dst when src lacks it). */
static void copy_key(json_object *dst, json_object *src, const char *key)
{
	json_object *v;

	if (src && json_object_object_get_ex(src, key, &v))
		json_object_object_add(dst, key, json_clone(v));
	else
		json_object_object_del(dst, key);
}

static void copy_images(json_object *spec, json_object *old_spec, const char *key)
{
	json_object *list = vj_arr(spec, key), *old_list = vj_arr(old_spec, key);

	for (size_t i = 0; list && old_list && i < json_object_array_length(list); i++)
		if (i < json_object_array_length(old_list))
			copy_key(json_object_array_get_idx(list, i), json_object_array_get_idx(old_list, i), "image");
}

/* Kubernetes appends a diff of the spec; naming the changed fields serves the same end. Caller frees. */
static char *spec_update_detail(json_object *munged, json_object *old_spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs(POD_UPDATE_FORBIDDEN "\n", f);
	json_object_object_foreach(munged, k, v) {
		json_object *o = json_object_object_get(old_spec, k);

		if (!o || !json_object_equal(v, o))
			fprintf(f, "  changed: spec.%s\n", k);
	}
	json_object_object_foreach(old_spec, k2, v2) {
		(void)v2;
		if (!json_object_object_get(munged, k2))
			fprintf(f, "  removed: spec.%s\n", k2);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The new spec with what may change taken from the old one must equal the old one. */
static void check_spec_update(json_object *spec, json_object *old_spec, struct field_errors *errs)
{
	_cleanup_json_ json_object *munged = json_clone(spec);
	_cleanup_free_ char *detail = NULL;
	int64_t grace_old, grace_new;

	if (!munged || !old_spec)
		return;
	copy_images(munged, old_spec, "containers");
	copy_images(munged, old_spec, "initContainers");
	copy_key(munged, old_spec, "activeDeadlineSeconds");
	copy_key(munged, old_spec, "tolerations");
	if (vj_int(old_spec, "terminationGracePeriodSeconds", &grace_old) && grace_old < 0 &&
	    vj_int(spec, "terminationGracePeriodSeconds", &grace_new) && grace_new == 1)
		copy_key(munged, old_spec, "terminationGracePeriodSeconds");
	if (json_object_equal(munged, old_spec))
		return;
	detail = spec_update_detail(munged, old_spec);
	field_errors_forbidden(errs, "spec", detail ? detail : POD_UPDATE_FORBIDDEN);
}

static void check_status(json_object *status, struct field_errors *errs)
{
	json_object *ips = vj_arr(status, "podIPs");
	const char *host_ip = vj_str(status, "hostIP");
	char path[64];

	for (size_t i = 0; ips && i < json_object_array_length(ips); i++) {
		const char *ip = vj_str(json_object_array_get_idx(ips, i), "ip");

		field_path(path, sizeof(path), "status.podIPs[%zu].ip", i);
		if (!validate_ip(ip))
			field_errors_invalid_str(errs, path, ip ? ip : "",
						 "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
	}
	if (host_ip && *host_ip && !validate_ip(host_ip))
		field_errors_invalid_str(errs, "status.hostIP", host_ip,
					 "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
}

void validate_pod(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	json_object *spec = vj_obj(obj, "spec"), *old_spec = old ? vj_obj(old, "spec") : NULL;

	validate_object_meta(obj, old, true, name_check_dns1123_subdomain, errs);
	check_status(vj_obj(obj, "status"), errs);
	if (subresource && strcmp(subresource, "status") == 0)
		return;
	validate_pod_spec(spec, "spec", errs);
	if (!old)
		return;
	check_deadline_update(spec, old_spec, errs);
	check_tolerations_update(spec, old_spec, errs);
	check_spec_update(spec, old_spec, errs);
}
