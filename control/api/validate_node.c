/* Node and Namespace rules: cluster-scoped names, pod CIDRs (set once), taints. */
#include "api/validate.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIDR_MSG "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"

static bool is_cidr(const char *s)
{
	unsigned char buf[16];
	char addr[64];
	const char *slash = s ? strchr(s, '/') : NULL;
	char *end;
	long bits;
	int family;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, buf) != 1 || !slash[1])
		return false;
	bits = strtol(slash + 1, &end, 10);
	return !*end && bits >= 0 && bits <= (family == AF_INET ? 32 : 128);
}

static void check_taints(json_object *taints, struct field_errors *errs)
{
	static const char *const effects[] = { "NoSchedule", "PreferNoSchedule", "NoExecute", NULL };
	char path[64];
	struct name_msgs m;

	for (size_t i = 0; taints && i < json_object_array_length(taints); i++) {
		json_object *t = json_object_array_get_idx(taints, i);
		const char *key = vj_str(t, "key") ?: "", *effect = vj_str(t, "effect") ?: "";
		bool ok = false;

		field_path(path, sizeof(path), "spec.taints[%zu].key", i);
		name_check_qualified(key, &m);
		field_errors_add_name_msgs(errs, path, key, &m);
		field_path(path, sizeof(path), "spec.taints[%zu].effect", i);
		for (size_t j = 0; effects[j]; j++)
			ok |= strcmp(effect, effects[j]) == 0;
		if (!*effect)
			field_errors_required(errs, path, NULL);
		else if (!ok)
			field_errors_not_supported(errs, path, effect, effects);
	}
}

static void check_cidrs(json_object *spec, json_object *old_spec, struct field_errors *errs)
{
	json_object *cidrs = vj_arr(spec, "podCIDRs");
	const char *cidr = vj_str(spec, "podCIDR"), *old_cidr = vj_str(old_spec, "podCIDR");
	char path[64];

	if (cidr && *cidr && !cidrs && !is_cidr(cidr))
		field_errors_invalid_str(errs, "spec.podCIDRs[0]", cidr, CIDR_MSG);
	for (size_t i = 0; cidrs && i < json_object_array_length(cidrs); i++) {
		const char *c = json_object_get_string(json_object_array_get_idx(cidrs, i));

		field_path(path, sizeof(path), "spec.podCIDRs[%zu]", i);
		if (!is_cidr(c))
			field_errors_invalid_str(errs, path, c ? c : "", CIDR_MSG);
	}
	if (old_spec && old_cidr && *old_cidr && strcmp(old_cidr, cidr ?: "") != 0)
		field_errors_forbidden(errs, "spec.podCIDRs",
				       "node updates may not change podCIDR except from \"\" to valid");
}

void validate_node(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	json_object *spec = vj_obj(obj, "spec");

	validate_object_meta(obj, old, false, name_check_dns1123_subdomain, errs);
	if (subresource && strcmp(subresource, "status") == 0)
		return;
	check_cidrs(spec, old ? vj_obj(old, "spec") : NULL, errs);
	check_taints(vj_arr(spec, "taints"), errs);
}

void validate_namespace(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	json_object *finalizers = vj_arr(vj_obj(obj, "spec"), "finalizers");
	char path[64];
	struct name_msgs m;

	(void)subresource;
	validate_object_meta(obj, old, false, name_check_dns1123_label, errs);
	for (size_t i = 0; finalizers && i < json_object_array_length(finalizers); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(finalizers, i));

		field_path(path, sizeof(path), "spec.finalizers[%zu]", i);
		name_check_qualified(f ? f : "", &m);
		field_errors_add_name_msgs(errs, path, f ? f : "", &m);
	}
}
