/* Service rules: type, ports (names, numbers, protocols, targetPort, nodePort), selector,
 * clusterIP(s), traffic policies, IP families, and clusterIP immutability on update.
 * The NodePort range is the registry's to check (it allocates them). */
#include "api/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#define IP_MSG "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static void check_optional_enum(json_object *spec, const char *key, const char *const *supported,
				struct field_errors *errs)
{
	const char *v = vj_str(spec, key);
	char path[128];

	field_path(path, sizeof(path), "spec.%s", key);
	if (v && *v && !in_list(v, supported))
		field_errors_not_supported(errs, path, v, supported);
}

static void check_target_port(json_object *p, const char *field, struct field_errors *errs)
{
	json_object *tp = json_object_object_get(p, "targetPort");
	struct name_msgs m;
	int64_t n;

	if (!tp)
		return;
	if (json_object_is_type(tp, json_type_string)) {
		name_check_port_name(json_object_get_string(tp), &m);
		field_errors_add_name_msgs(errs, field, json_object_get_string(tp), &m);
	} else if (vj_int(p, "targetPort", &n) && (n < 1 || n > 65535)) {
		field_errors_invalid_int(errs, field, n, "must be between 1 and 65535, inclusive");
	}
}

static void check_port(json_object *ports, size_t i, const char *type, struct field_errors *errs)
{
	json_object *p = json_object_array_get_idx(ports, i);
	const char *name = vj_str(p, "name");
	char path[128];
	struct name_msgs m;
	int64_t port = 0;

	field_path(path, sizeof(path), "spec.ports[%zu].name", i);
	if ((!name || !*name) && json_object_array_length(ports) > 1) {
		field_errors_required(errs, path, NULL);
	} else if (name && *name) {
		name_check_dns1123_label(name, &m);
		field_errors_add_name_msgs(errs, path, name, &m);
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, vj_str(json_object_array_get_idx(ports, j), "name") ?: "") == 0) {
				field_errors_duplicate_str(errs, path, name);
				break;
			}
	}
	field_path(path, sizeof(path), "spec.ports[%zu].port", i);
	if (vj_has(p, "port") && !vj_int(p, "port", &port))
		validate_port_num(p, "port", path, true, errs);
	else if (port < 1 || port > 65535)
		field_errors_invalid_int(errs, path, port, "must be between 1 and 65535, inclusive");
	field_path(path, sizeof(path), "spec.ports[%zu].protocol", i);
	validate_protocol(p, path, errs);
	field_path(path, sizeof(path), "spec.ports[%zu].targetPort", i);
	check_target_port(p, path, errs);
	field_path(path, sizeof(path), "spec.ports[%zu].nodePort", i);
	if (vj_int(p, "nodePort", &port) && port != 0 && strcmp(type, "ClusterIP") == 0)
		field_errors_forbidden(errs, path, "may not be used when `type` is 'ClusterIP'");
	else
		validate_port_num(p, "nodePort", path, false, errs);
}

static void check_ports(json_object *spec, const char *type, const char *cluster_ip, struct field_errors *errs)
{
	json_object *ports = vj_arr(spec, "ports");
	size_t n = ports ? json_object_array_length(ports) : 0;
	bool headless = cluster_ip && strcmp(cluster_ip, "None") == 0;

	if (n == 0 && strcmp(type, "ExternalName") != 0 && !headless)
		field_errors_required(errs, "spec.ports", NULL);
	for (size_t i = 0; i < n; i++)
		check_port(ports, i, type, errs);
}

static void check_cluster_ips(json_object *spec, const char *type, struct field_errors *errs)
{
	json_object *ips = vj_arr(spec, "clusterIPs");
	const char *ip = vj_str(spec, "clusterIP");
	char path[64];

	if (strcmp(type, "ExternalName") == 0 && ip && *ip) {
		field_errors_forbidden(errs, "spec.clusterIPs", "may not be set for ExternalName services");
		return;
	}
	if (!ips && ip && *ip && strcmp(ip, "None") != 0 && !validate_ip(ip))
		field_errors_invalid_str(errs, "spec.clusterIPs[0]", ip, IP_MSG);
	for (size_t i = 0; ips && i < json_object_array_length(ips); i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(ips, i));

		field_path(path, sizeof(path), "spec.clusterIPs[%zu]", i);
		if (i == 0 && v && strcmp(v, "None") == 0)
			continue;
		if (!validate_ip(v))
			field_errors_invalid_str(errs, path, v ? v : "", IP_MSG);
	}
	if (ips && ip && *ip && json_object_array_length(ips) > 0 &&
	    strcmp(ip, json_object_get_string(json_object_array_get_idx(ips, 0)) ?: "") != 0)
		field_errors_invalid_str(errs, "spec.clusterIPs", ip,
					 "element [0] must match clusterIP");
}

static void check_policies(json_object *spec, const char *type, struct field_errors *errs)
{
	static const char *const affinity[] = { "ClientIP", "None", NULL };
	static const char *const traffic[] = { "Cluster", "Local", NULL };
	static const char *const family_policy[] = { "SingleStack", "PreferDualStack", "RequireDualStack", NULL };
	static const char *const families[] = { "IPv4", "IPv6", NULL };
	const char *etp = vj_str(spec, "externalTrafficPolicy");
	bool external = strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0;
	json_object *fams = vj_arr(spec, "ipFamilies");
	char path[64];

	check_optional_enum(spec, "sessionAffinity", affinity, errs);
	check_optional_enum(spec, "internalTrafficPolicy", traffic, errs);
	check_optional_enum(spec, "ipFamilyPolicy", family_policy, errs);
	if (etp && *etp && !external)
		field_errors_invalid_str(errs, "spec.externalTrafficPolicy", etp,
					 "may only be set when `type` is 'NodePort' or 'LoadBalancer'");
	else
		check_optional_enum(spec, "externalTrafficPolicy", traffic, errs);
	for (size_t i = 0; fams && i < json_object_array_length(fams); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(fams, i));

		field_path(path, sizeof(path), "spec.ipFamilies[%zu]", i);
		if (!f || !in_list(f, families))
			field_errors_not_supported(errs, path, f ? f : "", families);
	}
}

static void check_external_name(json_object *spec, const char *type, struct field_errors *errs)
{
	const char *name = vj_str(spec, "externalName");
	char *trimmed;
	struct name_msgs m;
	size_t len;

	if (strcmp(type, "ExternalName") != 0)
		return;
	if (!name || !*name) {
		field_errors_required(errs, "spec.externalName", NULL);
		return;
	}
	/* A fully qualified name may end in a dot. */
	trimmed = strdup(name);
	if (!trimmed)
		return;
	len = strlen(trimmed);
	if (len > 1 && trimmed[len - 1] == '.')
		trimmed[len - 1] = '\0';
	name_check_dns1123_subdomain(trimmed, &m);
	free(trimmed);
	field_errors_add_name_msgs(errs, "spec.externalName", name, &m);
}

/* Once allocated, the ClusterIP stays (an empty new value is filled from the old one by the registry). */
static void check_update(json_object *spec, json_object *old_spec, struct field_errors *errs)
{
	const char *old_ip = vj_str(old_spec, "clusterIP"), *ip = vj_str(spec, "clusterIP");
	json_object *ips = vj_arr(spec, "clusterIPs");
	const char *new_first = ips && json_object_array_length(ips) ? json_object_get_string(json_object_array_get_idx(ips, 0)) : ip;
	_cleanup_free_ char *q = NULL, *repr = NULL;

	if (!old_ip || !*old_ip || strcmp(vj_str(old_spec, "type") ?: "ClusterIP", "ExternalName") == 0 ||
	    strcmp(vj_str(spec, "type") ?: "ClusterIP", "ExternalName") == 0)
		return;
	if (!new_first || !*new_first || strcmp(new_first, old_ip) == 0)
		return;
	q = go_quote(new_first);
	if (q && asprintf(&repr, "[]string{%s}", q) >= 0)
		field_errors_invalid_raw(errs, "spec.clusterIPs[0]", repr, "may not change once set");
}

void validate_service(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	static const char *const types[] = { "ClusterIP", "ExternalName", "LoadBalancer", "NodePort", NULL };
	json_object *spec = vj_obj(obj, "spec");
	const char *type = vj_str(spec, "type");

	validate_object_meta(obj, old, true, name_check_dns1035_label, errs);
	if (subresource && strcmp(subresource, "status") == 0)
		return;
	if (!type || !*type) {
		field_errors_required(errs, "spec.type", NULL);
		type = "ClusterIP";
	} else if (!in_list(type, types)) {
		field_errors_not_supported(errs, "spec.type", type, types);
		type = "ClusterIP";
	}
	check_ports(spec, type, vj_str(spec, "clusterIP"), errs);
	check_cluster_ips(spec, type, errs);
	check_policies(spec, type, errs);
	check_external_name(spec, type, errs);
	validate_labels(vj_obj(spec, "selector"), "spec.selector", errs);
	if (old)
		check_update(spec, vj_obj(old, "spec"), errs);
}
