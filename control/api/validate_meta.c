/* Rules every kind shares: ObjectMeta (names, namespace, labels, annotations, immutable
 * identity on update), port numbers, protocols, IP addresses, non-negative counts. */
#include "api/validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#define ANNOTATIONS_MAX_BYTES (256 * 1024)

static void check_name(const char *name, name_check_fn fn, const char *field, struct field_errors *errs)
{
	struct name_msgs m;

	fn(name, &m);
	field_errors_add_name_msgs(errs, field, name, &m);
}

/* generateName is checked as a prefix: a trailing '-' is fine there. */
static void check_generate_name(const char *prefix, name_check_fn fn, struct field_errors *errs)
{
	_cleanup_free_ char *masked = strdup(prefix);
	struct name_msgs m;
	size_t len;

	if (!masked)
		return;
	len = strlen(masked);
	if (len > 0 && masked[len - 1] == '-')
		masked[len - 1] = 'a';
	fn(masked, &m);
	field_errors_add_name_msgs(errs, "metadata.generateName", prefix, &m);
}

static void check_immutable(json_object *meta, json_object *old_meta, const char *key, struct field_errors *errs)
{
	const char *now = vj_str(meta, key), *was = vj_str(old_meta, key);
	char field[64];

	if (!now || !*now || strcmp(now, was ? was : "") == 0)
		return;
	field_path(field, sizeof(field), "metadata.%s", key);
	field_errors_invalid_str(errs, field, now, "field is immutable");
}

void validate_object_meta(json_object *obj, json_object *old, bool namespaced, name_check_fn name_fn,
			  struct field_errors *errs)
{
	json_object *meta = vj_obj(obj, "metadata");
	const char *name = vj_str(meta, "name"), *gen = vj_str(meta, "generateName");
	const char *ns = vj_str(meta, "namespace");

	if (gen && *gen)
		check_generate_name(gen, name_fn, errs);
	if (!name || !*name) {
		if (!gen || !*gen)
			field_errors_required(errs, "metadata.name", "name or generateName is required");
	} else {
		check_name(name, name_fn, "metadata.name", errs);
	}
	if (namespaced && (!ns || !*ns))
		field_errors_required(errs, "metadata.namespace", NULL);
	else if (namespaced)
		check_name(ns, name_check_dns1123_label, "metadata.namespace", errs);
	else if (ns && *ns)
		field_errors_forbidden(errs, "metadata.namespace", "not allowed on this type");
	validate_labels(vj_obj(meta, "labels"), "metadata.labels", errs);
	validate_annotations(vj_obj(meta, "annotations"), "metadata.annotations", errs);
	if (old) {
		json_object *old_meta = vj_obj(old, "metadata");

		check_immutable(meta, old_meta, "name", errs);
		check_immutable(meta, old_meta, "namespace", errs);
		check_immutable(meta, old_meta, "uid", errs);
	}
}

void validate_labels(json_object *labels, const char *field, struct field_errors *errs)
{
	struct name_msgs m;

	if (!labels)
		return;
	json_object_object_foreach(labels, k, v) {
		const char *value = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

		name_check_qualified(k, &m);
		field_errors_add_name_msgs(errs, field, k, &m);
		if (!json_object_is_type(v, json_type_string)) {
			field_errors_invalid_str(errs, field, json_object_to_json_string(v), "must be a string");
			continue;
		}
		name_check_label_value(value, &m);
		field_errors_add_name_msgs(errs, field, value, &m);
	}
}

void validate_annotations(json_object *annotations, const char *field, struct field_errors *errs)
{
	size_t total = 0;
	struct name_msgs m;

	if (!annotations)
		return;
	json_object_object_foreach(annotations, k, v) {
		char *lower = strdup(k);

		if (!lower)
			return;
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		name_check_qualified(lower, &m);
		free(lower);
		field_errors_add_name_msgs(errs, field, k, &m);
		total += strlen(k);
		if (json_object_is_type(v, json_type_string))
			total += (size_t)json_object_get_string_len(v);
	}
	if (total > ANNOTATIONS_MAX_BYTES)
		field_errors_too_long(errs, field, ANNOTATIONS_MAX_BYTES);
}

void validate_port_num(json_object *o, const char *key, const char *field, bool required,
		       struct field_errors *errs)
{
	int64_t port = 0;

	if (vj_has(o, key) && !vj_int(o, key, &port)) {
		field_errors_invalid_str(errs, field, json_object_to_json_string(json_object_object_get(o, key)),
					 "must be an integer");
		return;
	}
	/* Zero is the Go zero value: "not given". */
	if (port == 0) {
		if (required)
			field_errors_required(errs, field, NULL);
		return;
	}
	if (port < 1 || port > 65535)
		field_errors_invalid_int(errs, field, port, "must be between 1 and 65535, inclusive");
}

void validate_protocol(json_object *o, const char *field, struct field_errors *errs)
{
	static const char *const supported[] = { "SCTP", "TCP", "UDP", NULL };
	const char *proto = vj_str(o, "protocol");

	if (!proto || !*proto) {
		field_errors_required(errs, field, NULL);
		return;
	}
	for (size_t i = 0; supported[i]; i++)
		if (strcmp(proto, supported[i]) == 0)
			return;
	field_errors_not_supported(errs, field, proto, supported);
}

bool validate_ip(const char *s)
{
	unsigned char buf[16];

	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

void validate_nonnegative(json_object *o, const char *key, const char *field, struct field_errors *errs)
{
	int64_t v;

	if (vj_int(o, key, &v) && v < 0)
		field_errors_invalid_int(errs, field, v, "must be greater than or equal to 0");
}
