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

#endif
