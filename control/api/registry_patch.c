/* PATCH: each patch type applied to the stored object (or its Scale), then the update
 * path, retried while the object moves underneath; server-side apply creates. */
#include "api/registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/yaml.h>

#include "api/patch.h"

#define PATCH_ATTEMPTS 8

static int patch_parse(const char *type, const char *body, size_t len, json_object **ret, struct api_status *st)
{
	_cleanup_free_ char *yerr = NULL;
	const char *err = NULL;

	if (strcmp(type, "application/apply-patch+yaml") == 0) {
		if (yaml_to_json(body, len, ret, &yerr) < 0) {
			api_status_bad_request(st, "%s", yerr ? yerr : "error converting YAML to JSON");
			return -EINVAL;
		}
		return 0;
	}
	*ret = json_parse_buffer(body, len, &err);
	if (!*ret) {
		api_status_bad_request(st, "error decoding patch: %s", err ? err : "invalid JSON");
		return -EINVAL;
	}
	return 0;
}

static int patch_run(const char *type, const char *kind, json_object *orig, json_object *patch, json_object **ret,
		     struct api_status *st)
{
	_cleanup_free_ char *err = NULL;
	int rc;

	if (strcmp(type, "application/merge-patch+json") == 0)
		rc = patch_merge(orig, patch, ret, &err);
	else if (strcmp(type, "application/json-patch+json") == 0)
		rc = patch_json(orig, patch, ret, &err);
	else if (strcmp(type, "application/strategic-merge-patch+json") == 0)
		rc = patch_strategic(kind, orig, patch, ret, &err);
	else
		rc = patch_apply(kind, orig, patch, ret, &err);
	if (rc == -EINVAL)
		api_status_bad_request(st, "%s", err ? err : "invalid patch");
	else if (rc < 0)
		api_status_internal(st, rc, "applying the patch");
	return rc;
}

/* The patched object's resourceVersion, when the patch changed it, is a precondition. */
static int patched_precondition(json_object *orig, json_object *patched, int64_t *ret_rev, struct api_status *st)
{
	const char *a = json_get_string(orig, "metadata.resourceVersion");
	const char *b = json_get_string(patched, "metadata.resourceVersion");

	*ret_rev = 0;
	if (!b || (a && strcmp(a, b) == 0))
		return 0;
	return registry_precondition(patched, ret_rev, st);
}

static int patch_attempt(struct registry *reg, const struct resource *r, const char *ns, const char *name,
			 const char *subresource, const char *type, json_object *patch, const struct write_options *wo,
			 json_object **ret, struct api_status *st)
{
	bool scale = subresource && strcmp(subresource, "scale") == 0;
	_cleanup_json_ json_object *old = NULL, *orig = NULL, *patched = NULL, *desired = NULL, *obj = NULL;
	int64_t old_rev = 0, want_rev = 0;
	int rc;

	rc = registry_read(reg, r, ns, name, &old, &old_rev, st);
	if (rc < 0)
		return rc;
	orig = scale ? registry_scale_of(old) : json_object_get(old);
	if (!orig)
		return -ENOMEM;
	rc = patch_run(type, scale ? "Scale" : r->kind, orig, patch, &patched, st);
	if (rc == 0)
		rc = patched_precondition(orig, patched, &want_rev, st);
	if (rc == 0 && !scale)
		rc = registry_decode(r, ns, name, patched, wo, st);
	if (rc < 0)
		return rc;
	if (want_rev && want_rev != old_rev) {
		api_status_conflict(st, resource_qualified_name(r), name);
		return -ECANCELED;
	}
	desired = registry_desired_of(subresource, patched, old);
	if (!desired)
		return -ENOMEM;
	rc = registry_update_object(reg, r, scale ? NULL : subresource, desired, old, old_rev, wo, &obj, st);
	if (rc == -ESTALE && want_rev) {
		api_status_conflict(st, resource_qualified_name(r), name);
		return -ECANCELED;
	}
	if (rc < 0)
		return rc;
	*ret = scale ? registry_scale_of(obj) : TAKE_PTR(obj);
	return *ret ? 0 : -ENOMEM;
}

/* Server-side apply of an object that does not exist yet creates it. */
static int apply_create(struct registry *reg, const struct resource *r, const char *ns, const char *name,
			json_object *patch, const struct write_options *wo, json_object **ret, struct api_status *st)
{
	_cleanup_json_ json_object *obj = NULL;
	int rc;

	rc = patch_run("application/apply-patch+yaml", r->kind, NULL, patch, &obj, st);
	if (rc == 0)
		rc = registry_decode(r, ns, name, obj, wo, st);
	if (rc == 0)
		rc = registry_create_object(reg, r, ns, obj, wo, ret, st);
	return rc;
}

/* An applied configuration is a whole object of the resource's kind: apiVersion and kind say so,
 * as Kubernetes requires before it creates anything from it. */
static int apply_check(const struct resource *r, json_object *patch, struct api_status *st)
{
	const char *kind = json_get_string(patch, "kind"), *av = json_get_string(patch, "apiVersion");

	if (!patch || !json_object_is_type(patch, json_type_object)) {
		api_status_bad_request(st, "error decoding YAML: the applied configuration must be an object");
		return -EINVAL;
	}
	if (!kind || !*kind || !av || !*av) {
		api_status_bad_request(st, "invalid object: Object 'Kind' or 'apiVersion' is missing in the applied configuration");
		return -EINVAL;
	}
	if (strcmp(kind, r->kind) != 0 || strcmp(av, r->api_version) != 0) {
		api_status_bad_request(st, "%s in version \"%s\" cannot be handled as a %s: the applied configuration's kind "
					   "does not match the resource", kind, av, r->kind);
		return -EINVAL;
	}
	return 0;
}

int registry_patch(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		   const char *subresource, const char *content_type, const char *body, size_t body_len,
		   const struct write_options *wo, json_object **ret, bool *ret_created, struct api_status *st)
{
	static const char *const types[] = { "application/merge-patch+json", "application/json-patch+json",
					     "application/strategic-merge-patch+json", "application/apply-patch+yaml" };
	_cleanup_json_ json_object *patch = NULL;
	const char *type = NULL;
	size_t tlen = content_type ? strcspn(content_type, "; ") : 0;
	int rc = 0;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (tlen == strlen(types[i]) && strncmp(content_type, types[i], tlen) == 0)
			type = types[i];
	if (!type) {
		api_status_set(st, 415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
				"accepted media types include: application/json-patch+json, application/merge-patch+json, "
				"application/apply-patch+yaml, application/strategic-merge-patch+json");
		return -EINVAL;
	}
	if (subresource && !(strcmp(subresource, "status") == 0 && r->has_status) &&
	    !(strcmp(subresource, "scale") == 0 && r->has_scale)) {
		api_status_set(st, 404, "NotFound", "the server could not find the requested resource");
		return -ENOENT;
	}
	rc = patch_parse(type, body, body_len, &patch, st);
	if (rc < 0)
		return rc;
	if (type == types[3] && (rc = apply_check(r, patch, st)) < 0)
		return rc;
	*ret_created = false;
	for (int i = 0; i < PATCH_ATTEMPTS; i++) {
		rc = patch_attempt(reg, r, ns, name, subresource, type, patch, wo, ret, st);
		if (rc == -ENOENT && !subresource && type == types[3]) {
			api_status_clear(st);
			rc = apply_create(reg, r, ns, name, patch, wo, ret, st);
			*ret_created = rc == 0;
		}
		if (rc == -ECANCELED)
			return -ESTALE;
		if (rc != -ESTALE && rc != -EAGAIN && rc != -EEXIST)
			return rc;
		api_status_clear(st);
	}
	api_status_conflict(st, resource_qualified_name(r), name);
	return -ESTALE;
}

