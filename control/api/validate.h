/* Validation of core/v1 objects with Kubernetes' rules and wording. */
#ifndef SKIFF_API_VALIDATE_H
#define SKIFF_API_VALIDATE_H

#include <json-c/json.h>
#include <stddef.h>

#include "api/resources.h"

struct field_error {
	char *reason; /* Kubernetes cause type: "FieldValueInvalid", "FieldValueRequired", ... */
	char *field;  /* "metadata.name", "spec.containers[0].image" */
	char *message; /* whole text: "metadata.name: Invalid value: \"Bad_Name\": a lowercase ..." */
};

struct field_errors {
	struct field_error *v;
	size_t n, cap;
};

void field_errors_add(struct field_errors *errs, const char *reason, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void field_errors_free(struct field_errors *errs);
/* 'The Pod "x" is invalid: <one>' or 'The Pod "x" is invalid: [<a>, <b>]'. Caller frees. */
char *field_errors_message(const char *kind, const char *name, const struct field_errors *errs);
/* Status.details for a 422: {"name","kind","causes":[{"reason","message","field"}]}. New reference. */
json_object *field_errors_details(const char *kind, const char *name, const struct field_errors *errs);

/* Validates obj (already defaulted). old is the stored object on update (immutable-field
 * checks), NULL on create. subresource is NULL, "status" or "scale". Adds every error found. */
void validate_object(const struct resource *r, json_object *obj, json_object *old, const char *subresource,
		     struct field_errors *errs);

/* DNS-1123 checks, shared with callers that build names (generateName). NULL when valid,
 * else the Kubernetes message ("a lowercase RFC 1123 subdomain must consist of ..."). */
const char *validate_dns1123_subdomain(const char *s);
const char *validate_dns1123_label(const char *s);

/* ---- Building blocks shared by validate_*.c and selector.c ---- */

#include <stdbool.h>
#include <stdint.h>

/* The messages one Kubernetes name rule returns (IsDNS1123Label and friends); n == 0: valid. */
struct name_msgs {
	size_t n;
	char v[4][512];
};
void name_check_dns1123_subdomain(const char *s, struct name_msgs *m);
void name_check_dns1123_label(const char *s, struct name_msgs *m);
void name_check_dns1035_label(const char *s, struct name_msgs *m);
void name_check_qualified(const char *s, struct name_msgs *m);   /* label keys: "[prefix/]name" */
void name_check_label_value(const char *s, struct name_msgs *m);
void name_check_port_name(const char *s, struct name_msgs *m);   /* IANA_SVC_NAME */
/* The messages joined with "; " (labels.Parse does so). Caller frees. */
char *name_msgs_join(const struct name_msgs *m);

/* One error per Kubernetes ErrorType, worded as field.Error.Error() does. detail may be NULL. */
void field_errors_required(struct field_errors *errs, const char *field, const char *detail);
void field_errors_forbidden(struct field_errors *errs, const char *field, const char *detail);
void field_errors_invalid_str(struct field_errors *errs, const char *field, const char *value, const char *detail);
void field_errors_invalid_int(struct field_errors *errs, const char *field, int64_t value, const char *detail);
/* value_repr already formatted the Go way (%#v): 'map[string]string{"a":"b"}'. */
void field_errors_invalid_raw(struct field_errors *errs, const char *field, const char *value_repr,
			      const char *detail);
void field_errors_duplicate_str(struct field_errors *errs, const char *field, const char *value);
void field_errors_not_found_str(struct field_errors *errs, const char *field, const char *value);
/* supported: NULL-terminated list, printed in the given order. */
void field_errors_not_supported(struct field_errors *errs, const char *field, const char *value,
				const char *const *supported);
void field_errors_too_long(struct field_errors *errs, const char *field, int64_t max_bytes);
/* One Invalid error per message of a name rule. */
void field_errors_add_name_msgs(struct field_errors *errs, const char *field, const char *value,
				const struct name_msgs *m);

/* Formats a field path ("spec.containers[0].name") into buf, cut short if it must be. */
void field_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Go's %q of a string, and %#v of a map[string]string (keys sorted). Caller frees. */
char *go_quote(const char *s);
char *go_string_map(json_object *map);

/* Tolerant getters: NULL / false when missing or of another JSON type. Borrowed. */
const char *vj_str(json_object *o, const char *key);
bool vj_int(json_object *o, const char *key, int64_t *ret);
json_object *vj_obj(json_object *o, const char *key);
json_object *vj_arr(json_object *o, const char *key);
bool vj_has(json_object *o, const char *key);

/* Rules reused across kinds (validate.c). */
typedef void (*name_check_fn)(const char *s, struct name_msgs *m);
void validate_object_meta(json_object *obj, json_object *old, bool namespaced, name_check_fn name_fn,
			  struct field_errors *errs);
void validate_labels(json_object *labels, const char *field, struct field_errors *errs);
void validate_annotations(json_object *annotations, const char *field, struct field_errors *errs);
void validate_port_num(json_object *o, const char *key, const char *field, bool required,
		       struct field_errors *errs);
void validate_protocol(json_object *o, const char *field, struct field_errors *errs);
/* An IPv4 or IPv6 address in its textual form. */
bool validate_ip(const char *s);
void validate_nonnegative(json_object *o, const char *key, const char *field, struct field_errors *errs);

/* Per kind (validate_<kind>.c). */
void validate_pod(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);
void validate_pod_spec(json_object *spec, const char *field, struct field_errors *errs);
/* One container of spec.containers / spec.initContainers; volumes: spec.volumes (mount targets). */
void validate_container(json_object *c, const char *field, bool init, json_object *volumes,
			struct field_errors *errs);
void validate_resources(json_object *res, const char *field, struct field_errors *errs);
void validate_service(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);
void validate_rc(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);
void validate_node(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);
void validate_namespace(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);
void validate_endpoints(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);
void validate_event(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);
void validate_lease(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs);

#endif
