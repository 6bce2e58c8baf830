/* Endpoints rules (every address a usable IP, ports named when several) and the minimum
 * an Event needs (an involved object in the event's own namespace). */
#include "api/validate.h"

#include <arpa/inet.h>
#include <string.h>

#define IP_MSG "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

/* Addresses no client could reach. Loopback stays allowed: single-host clusters use it. */
static const char *special_ip(const char *ip)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, ip, b) == 1) {
		if (!b[0] && !b[1] && !b[2] && !b[3])
			return "may not be unspecified (0.0.0.0)";
		if (b[0] == 169 && b[1] == 254)
			return "may not be in the link-local range (169.254.0.0/16, fe80::/10)";
		if (b[0] == 224 && b[1] == 0 && b[2] == 0)
			return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)";
		return NULL;
	}
	if (inet_pton(AF_INET6, ip, b) == 1) {
		static const unsigned char zero[16];

		if (memcmp(b, zero, 16) == 0)
			return "may not be unspecified (::)";
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			return "may not be in the link-local range (169.254.0.0/16, fe80::/10)";
		if (b[0] == 0xff && (b[1] & 0x0f) == 0x02)
			return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)";
	}
	return NULL;
}

static void check_addresses(json_object *list, const char *field, struct field_errors *errs)
{
	char path[128];

	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *a = json_object_array_get_idx(list, i);
		const char *ip = vj_str(a, "ip"), *special;
		const char *node = vj_str(a, "nodeName");

		field_path(path, sizeof(path), "%s[%zu].ip", field, i);
		if (!validate_ip(ip))
			field_errors_invalid_str(errs, path, ip ? ip : "", IP_MSG);
		else if ((special = special_ip(ip)))
			field_errors_invalid_str(errs, path, ip, special);
		if (node && *node) {
			struct name_msgs m;

			field_path(path, sizeof(path), "%s[%zu].nodeName", field, i);
			name_check_dns1123_subdomain(node, &m);
			field_errors_add_name_msgs(errs, path, node, &m);
		}
	}
}

static void check_ports(json_object *ports, const char *field, struct field_errors *errs)
{
	size_t n = ports ? json_object_array_length(ports) : 0;
	char path[128];
	struct name_msgs m;

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		const char *name = vj_str(p, "name");

		field_path(path, sizeof(path), "%s[%zu].name", field, i);
		if ((!name || !*name) && n > 1) {
			field_errors_required(errs, path, NULL);
		} else if (name && *name) {
			name_check_dns1123_label(name, &m);
			field_errors_add_name_msgs(errs, path, name, &m);
		}
		field_path(path, sizeof(path), "%s[%zu].port", field, i);
		validate_port_num(p, "port", path, true, errs);
		field_path(path, sizeof(path), "%s[%zu].protocol", field, i);
		validate_protocol(p, path, errs);
	}
}

void validate_endpoints(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	json_object *subsets = vj_arr(obj, "subsets");
	char path[64];

	(void)subresource;
	validate_object_meta(obj, old, true, name_check_dns1123_subdomain, errs);
	for (size_t i = 0; subsets && i < json_object_array_length(subsets); i++) {
		json_object *s = json_object_array_get_idx(subsets, i);

		field_path(path, sizeof(path), "subsets[%zu].addresses", i);
		check_addresses(vj_arr(s, "addresses"), path, errs);
		field_path(path, sizeof(path), "subsets[%zu].notReadyAddresses", i);
		check_addresses(vj_arr(s, "notReadyAddresses"), path, errs);
		field_path(path, sizeof(path), "subsets[%zu].ports", i);
		check_ports(vj_arr(s, "ports"), path, errs);
	}
}

void validate_event(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	json_object *involved = vj_obj(obj, "involvedObject");
	const char *ns = vj_str(vj_obj(obj, "metadata"), "namespace") ?: "";
	const char *ins = vj_str(involved, "namespace") ?: "";

	(void)subresource;
	validate_object_meta(obj, old, true, name_check_dns1123_subdomain, errs);
	if (!involved) {
		field_errors_required(errs, "involvedObject", NULL);
		return;
	}
	/* Events about cluster-scoped objects live in "default" (or no namespace). */
	if ((!*ins && *ns && strcmp(ns, "default") != 0) || (*ins && strcmp(ns, ins) != 0))
		field_errors_invalid_str(errs, "involvedObject.namespace", ins, "does not match event.namespace");
}
