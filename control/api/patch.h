/* The patch types of PATCH requests. Each returns a new object (the patched copy) and
 * never modifies orig. On a bad patch: -EINVAL with *ret_err (caller frees) naming the
 * problem; the API answers 400 (422 for json-patch test failures is not needed). */
#ifndef SKIFF_API_PATCH_H
#define SKIFF_API_PATCH_H

#include <json-c/json.h>

/* RFC 7386 JSON merge patch (application/merge-patch+json). Like patch_json, it can
 * replace the whole document with a non-object (NULL for JSON null): callers check. */
int patch_merge(json_object *orig, json_object *patch, json_object **ret, char **ret_err);
/* RFC 6902 JSON patch (application/json-patch+json): add, remove, replace, move, copy, test. */
int patch_json(json_object *orig, json_object *ops, json_object **ret, char **ret_err);
/* Strategic merge patch (application/strategic-merge-patch+json) for a core/v1 kind,
 * with Kubernetes' patch strategies and merge keys (containers, initContainers, ports,
 * env, volumes, volumeMounts by name; containerPort for container ports; port for service
 * ports; ...), and the directives $patch (replace/merge/delete), $setElementOrder/<list>,
 * $deleteFromPrimitiveList/<list>, $retainKeys. */
int patch_strategic(const char *kind, json_object *orig, json_object *patch, json_object **ret, char **ret_err);
/* Server-side apply (application/apply-patch+yaml; the body is JSON or YAML): applies the
 * given configuration onto orig (NULL when the object does not exist yet) the way a
 * single field manager would see it: fields present are set, lists merged by their merge
 * keys. Returns the resulting object. */
int patch_apply(const char *kind, json_object *orig, json_object *applied, json_object **ret, char **ret_err);

/* Patch metadata of core/v1 fields, as the patchStrategy / patchMergeKey tags of
 * k8s.io/api core/v1 declare them (patch_strategic_keys.c); used by the strategic
 * merge patch and server-side apply. A type is an array of fields ended by a NULL name. */
enum patch_strategy {
	PATCH_STRATEGY_REPLACE = 0, /* lists: atomic; maps: merged recursively all the same */
	PATCH_STRATEGY_MERGE,       /* lists: merged by merge_key (NULL: a list of primitives) */
};

struct patch_field {
	const char *name;
	enum patch_strategy strategy;
	const char *merge_key;
	const struct patch_field *type; /* fields of the value (of each element for lists); NULL: none known */
};

/* The top-level fields of kind; an unknown kind gets a generic object (metadata only). */
const struct patch_field *patch_schema_kind(const char *kind);
/* The field name of type, or NULL when type is NULL or has no such field. */
const struct patch_field *patch_schema_field(const struct patch_field *type, const char *name);

#endif
