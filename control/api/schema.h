/* The core/v1 field schema: which fields each kind has and their JSON types. Used for
 * strict field validation (fieldValidation=Strict rejects unknown fields) and for
 * decoding errors on wrong types. */
#ifndef SKIFF_API_SCHEMA_H
#define SKIFF_API_SCHEMA_H

#include <json-c/json.h>

#include "api/resources.h"

/* Checks obj against the kind's schema. Returns 0 when every field is known and of the
 * right JSON type. -EINVAL with *ret_err (caller frees) on a wrong type, in Go's words:
 * 'json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container'.
 * Unknown fields: when strict, -EINVAL with 'strict decoding error: unknown field "spec.foo"'
 * (all of them, comma-separated, as Kubernetes lists them); when not strict they are dropped
 * from obj. */
int schema_check(const struct resource *r, json_object *obj, int strict, char **ret_err);
/* The same by kind name, for bodies that are not a served resource: "Scale" (autoscaling/v1),
 * "Binding", "DeleteOptions", or any resource kind ("Pod"). -ENOENT for a kind without a schema. */
int schema_check_kind(const char *kind, json_object *obj, int strict, char **ret_err);

#endif
