/* Create and update (PUT, including /status, /scale and pods/binding) of registry
 * objects: decoding checks, server-set fields, defaults, validation, admission, and the
 * one store_txn that writes the object with its allocations. */
#include "api/registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/admission.h"
#include "api/alloc.h"
#include "api/registry_bind.h"
#include "api/defaults.h"
#include "api/meta.h"
#include "api/schema.h"
#include "api/validate.h"

#define WRITE_ATTEMPTS 8

int registry_invalid(const char *kind, const char *name, struct field_errors *errs, struct api_status *st)
{
	_cleanup_free_ char *msg = NULL;

	if (errs->n == 0)
		return 0;
	msg = field_errors_message(kind, name ? name : "", errs);
	api_status_set(st, 422, "Invalid", "%s", msg ? msg : "invalid object");
	api_status_set_details(st, field_errors_details(kind, name ? name : "", errs));
	field_errors_free(errs);
	return -EINVAL;
}

static bool is_service(const struct resource *r)
{
	return strcmp(r->kind, "Service") == 0;
}

int registry_decode(const struct resource *r, const char *ns, const char *name, json_object *body,
		    const struct write_options *wo, struct api_status *st)
{
	_cleanup_free_ char *err = NULL;
	const char *kind, *api_version, *body_ns, *body_name;

	if (!body || !json_object_is_type(body, json_type_object)) {
		api_status_bad_request(st, "the body of the request was in an unknown format - accepted media types "
					   "include: application/json, application/yaml");
		return -EINVAL;
	}
	kind = json_get_string(body, "kind");
	api_version = json_get_string(body, "apiVersion");
	if (api_version && *api_version && strcmp(api_version, r->api_version) != 0) {
		api_status_bad_request(st, "the API version in the data (%s) does not match the expected API version (%s)",
				       api_version, r->api_version);
		return -EINVAL;
	}
	if (kind && *kind && strcmp(kind, r->kind) != 0) {
		api_status_bad_request(st, "the kind in the data (%s) does not match the expected kind (%s)", kind,
				       r->kind);
		return -EINVAL;
	}
	/* The URL names the type: a body that leaves it out is read as that type, as Go's decoder does. */
	json_object_object_add(body, "kind", json_object_new_string(r->kind));
	json_object_object_add(body, "apiVersion", json_object_new_string(r->api_version));
	if (schema_check(r, body, wo && wo->strict, &err) < 0) {
		api_status_bad_request(st, "%s", err ? err : "decoding error");
		return -EINVAL;
	}
	body_ns = meta_namespace(body);
	if (r->namespaced && body_ns && *body_ns && ns && strcmp(body_ns, ns) != 0) {
		api_status_bad_request(st, "the namespace of the provided object does not match the namespace sent on "
					   "the request");
		return -EINVAL;
	}
	if (r->namespaced && ns)
		meta_set_string(body, "namespace", ns);
	else if (!r->namespaced)
		meta_remove(body, "namespace");
	body_name = meta_name(body);
	if (name && body_name && *body_name && strcmp(body_name, name) != 0) {
		api_status_bad_request(st, "the name of the object (%s) does not match the name on the URL (%s)",
				       body_name, name);
		return -EINVAL;
	}
	if (name)
		meta_set_string(body, "name", name);
	return 0;
}

/* An internal allocation failure (a full range: Kubernetes answers 500). */
static int alloc_failed(int rc, struct field_errors *errs, struct api_status *st)
{
	if (rc == -ENOSPC && errs->n > 0)
		api_status_set(st, 500, "InternalError", "Internal error occurred: %s", errs->v[errs->n - 1].message);
	else
		api_status_internal(st, rc, "allocating");
	field_errors_free(errs);
	return rc;
}

/* A create's object, made from the body: generated name, server fields, defaults, checks. */
static int create_prepare(struct registry *reg, const struct resource *r, json_object *obj,
			  struct alloc_plan *plan, struct api_status *st)
{
	const char *name = meta_name(obj), *gen = json_get_string(obj, "metadata.generateName");
	struct field_errors errs = { 0 };
	int rc;

	if ((!name || !*name) && gen && *gen) {
		_cleanup_free_ char *generated = meta_generate_name(gen);

		if (!generated)
			return -ENOMEM;
		meta_set_string(obj, "name", generated);
	}
	rc = admission_prepare_create(r, obj);
	if (rc < 0)
		return rc;
	defaults_apply(r, obj);
	validate_object(r, obj, NULL, NULL, &errs);
	if (errs.n == 0 && is_service(r)) {
		rc = alloc_service(registry_alloc(reg), registry_store(reg), NULL, obj, plan, &errs);
		if (rc < 0)
			return alloc_failed(rc, &errs, st);
	}
	return registry_invalid(r->kind, meta_name(obj), &errs, st);
}

int registry_commit(struct registry *reg, const struct store_op *obj_op, struct alloc_plan *plan,
		    int64_t *ret_rev, ssize_t *ret_failed)
{
	_cleanup_free_ struct store_op *ops = calloc(plan->n + 1, sizeof(*ops));
	size_t failed = 0;
	int rc;

	if (!ops)
		return -ENOMEM;
	for (;;) {
		ops[0] = *obj_op;
		alloc_plan_ops(plan, ops + 1);
		rc = store_txn(registry_store(reg), ops, plan->n + 1, ret_rev, &failed);
		*ret_failed = rc < 0 ? (ssize_t)failed - 1 : -1;
		/* A release whose key is already gone is done: drop it and write again. */
		if (rc == -ENOENT && failed > 0 && failed <= plan->n && plan->v[failed - 1].type == STORE_OP_DELETE) {
			alloc_plan_drop(plan, failed - 1);
			continue;
		}
		return rc;
	}
}

/* One plan entry failed: -EAGAIN to allocate again, or the user's 422 in st. */
static int plan_failed(const struct resource *r, json_object *obj, struct alloc_plan *plan, ssize_t i,
		       struct api_status *st)
{
	struct field_errors errs = { 0 };
	int rc = alloc_plan_conflict(plan, (size_t)i, &errs);

	if (rc == -EAGAIN || errs.n == 0) {
		field_errors_free(&errs);
		if (rc != -EAGAIN)
			api_status_internal(st, rc, "allocating");
		return rc;
	}
	return registry_invalid(r->kind, meta_name(obj), &errs, st);
}

static int create_attempt(struct registry *reg, const struct resource *r, const char *ns, json_object *body,
			  const struct write_options *wo, json_object **ret, struct api_status *st)
{
	_cleanup_json_ json_object *obj = json_clone(body);
	_cleanup_free_ char *key = NULL, *value = NULL;
	struct alloc_plan plan = { 0 };
	struct store_op op = { .type = STORE_OP_CREATE };
	int64_t rev = 0;
	ssize_t failed;
	int rc;

	if (!obj)
		return -ENOMEM;
	rc = create_prepare(reg, r, obj, &plan, st);
	if (rc < 0)
		goto out;
	if (wo && wo->dry_run) {
		*ret = TAKE_PTR(obj);
		goto out;
	}
	key = resource_key(r, ns, meta_name(obj));
	value = meta_to_stored(obj);
	if (!key || !value) {
		rc = -ENOMEM;
		goto out;
	}
	op.key = key;
	op.value = value;
	rc = registry_commit(reg, &op, &plan, &rev, &failed);
	if (rc == -EEXIST && failed < 0) {
		/* Only a generated name may be drawn again. */
		if (!json_get_string(body, "metadata.name"))
			rc = -EAGAIN;
		else
			api_status_already_exists(st, resource_qualified_name(r), meta_name(obj));
	} else if (rc == -EEXIST) {
		rc = plan_failed(r, obj, &plan, failed, st);
	} else if (rc < 0) {
		api_status_internal(st, rc, "writing to the store");
	} else {
		meta_set_rv(obj, rev);
		*ret = TAKE_PTR(obj);
	}
out:
	alloc_plan_clear(&plan);
	return rc;
}

int registry_create_object(struct registry *reg, const struct resource *r, const char *ns, json_object *body,
			   const struct write_options *wo, json_object **ret, struct api_status *st)
{
	const char *name = json_get_string(body, "metadata.name");
	int rc;

	if (r->namespaced) {
		rc = admission_namespace(registry_store(reg), ns, r->name, name, st);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < WRITE_ATTEMPTS; i++) {
		rc = create_attempt(reg, r, ns, body, wo, ret, st);
		if (rc != -EAGAIN)
			return rc;
	}
	api_status_set(st, 500, "InternalError", "Internal error occurred: could not allocate a free name or "
						 "address after %d attempts",
		       WRITE_ATTEMPTS);
	return -EBUSY;
}

int registry_create(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const char *subresource, json_object *body, const struct write_options *wo, json_object **ret,
		    struct api_status *st)
{
	int rc;

	if (subresource && strcmp(subresource, "binding") == 0 && r->has_binding)
		return registry_bind(reg, r, ns, name, body, wo, ret, st);
	if (subresource) {
		api_status_set(st, 404, "NotFound", "the server could not find the requested resource");
		return -ENOENT;
	}
	rc = registry_decode(r, ns, NULL, body, wo, st);
	if (rc < 0)
		return rc;
	return registry_create_object(reg, r, ns, body, wo, ret, st);
}

/* Kubernetes' AllowCreateOnUpdate: only endpoints and events may be created by a PUT. */
static bool create_on_update(const struct resource *r)
{
	return strcmp(r->kind, "Endpoints") == 0 || strcmp(r->kind, "Event") == 0;
}

/* Whether the prepared object writes nothing new (a no-op update keeps its revision). */
static bool unchanged(json_object *prepared, json_object *old)
{
	_cleanup_free_ char *a = meta_to_stored(prepared);
	_cleanup_json_ json_object *pa = a ? meta_from_stored(a, 0) : NULL, *pb = json_clone(old);

	if (!pa || !pb)
		return false;
	meta_set_rv(pb, 0);
	return meta_json_equal(pa, pb);
}

/* The object's last finalizer is gone while it is being deleted: the update removes it. */
static bool finalized(json_object *prepared, json_object *old)
{
	return meta_deleting(prepared) && !meta_has_finalizers(prepared) && meta_has_finalizers(old);
}

static int update_commit(struct registry *reg, const struct resource *r, json_object *obj, json_object *old,
			 int64_t old_rev, struct alloc_plan *plan, struct api_status *st)
{
	_cleanup_free_ char *key = resource_key(r, meta_namespace(old), meta_name(old));
	_cleanup_free_ char *value = meta_to_stored(obj);
	struct store_op op = { .type = STORE_OP_UPDATE, .expect_rev = old_rev };
	int64_t rev = 0;
	ssize_t failed;
	int rc;

	if (!key || !value)
		return -ENOMEM;
	op.key = key;
	op.value = value;
	rc = registry_commit(reg, &op, plan, &rev, &failed);
	if ((rc == -ESTALE || rc == -ENOENT) && failed < 0)
		return -ESTALE;
	if (rc == -EEXIST && failed >= 0)
		return plan_failed(r, obj, plan, failed, st);
	if (rc < 0) {
		api_status_internal(st, rc, "writing to the store");
		return rc;
	}
	meta_set_rv(obj, rev);
	return 0;
}

int registry_update_object(struct registry *reg, const struct resource *r, const char *subresource,
			   json_object *desired, json_object *old, int64_t old_rev, const struct write_options *wo,
			   json_object **ret, struct api_status *st)
{
	_cleanup_json_ json_object *obj = admission_prepare_update(r, desired, old, subresource);
	struct field_errors errs = { 0 };
	struct alloc_plan plan = { 0 };
	bool status_only = subresource && strcmp(subresource, "status") == 0;
	int rc;

	if (!obj)
		return -ENOMEM;
	defaults_apply(r, obj);
	validate_object(r, obj, old, subresource, &errs);
	rc = registry_invalid(r->kind, meta_name(old), &errs, st);
	if (rc < 0)
		return rc;
	if (finalized(obj, old)) {
		rc = wo && wo->dry_run ? 0 : registry_remove(reg, r, old, old_rev, NULL, st);
		if (rc == 0)
			*ret = TAKE_PTR(obj);
		return rc;
	}
	if (unchanged(obj, old)) {
		*ret = json_object_get(old);
		return 0;
	}
	if (is_service(r) && !status_only) {
		rc = alloc_service(registry_alloc(reg), registry_store(reg), old, obj, &plan, &errs);
		rc = rc < 0 ? alloc_failed(rc, &errs, st) : registry_invalid(r->kind, meta_name(old), &errs, st);
	}
	if (rc == 0 && !(wo && wo->dry_run))
		rc = update_commit(reg, r, obj, old, old_rev, &plan, st);
	if (rc == 0)
		*ret = TAKE_PTR(obj);
	alloc_plan_clear(&plan);
	return rc;
}

/* The client's metadata.resourceVersion as a precondition: 0 = none. */
int registry_precondition(json_object *obj, int64_t *ret_rev, struct api_status *st)
{
	const char *rv = json_get_string(obj, "metadata.resourceVersion");

	if (meta_parse_rv(rv, ret_rev) < 0) {
		api_status_bad_request(st, "metadata.resourceVersion: Invalid value: \"%s\": must be a number", rv);
		return -EINVAL;
	}
	return 0;
}

json_object *registry_desired_of(const char *subresource, json_object *body, json_object *old)
{
	json_object *out, *replicas;

	if (!subresource || strcmp(subresource, "scale") != 0)
		return json_object_get(body);
	out = json_clone(old);
	replicas = json_get_path(body, "spec.replicas");
	if (out)
		json_object_object_add(json_ensure_object(out, "spec"), "replicas",
				       json_object_new_int64(replicas ? json_object_get_int64(replicas) : 0));
	return out;
}

static int update_attempt(struct registry *reg, const struct resource *r, const char *ns, const char *name,
			  const char *subresource, json_object *body, int64_t want_rev, const struct write_options *wo,
			  json_object **ret, struct api_status *st)
{
	_cleanup_json_ json_object *old = NULL, *desired = NULL, *obj = NULL;
	bool scale = subresource && strcmp(subresource, "scale") == 0;
	int64_t old_rev = 0;
	int rc;

	rc = registry_read(reg, r, ns, name, &old, &old_rev, st);
	if (rc < 0)
		return rc;
	if (want_rev && want_rev != old_rev) {
		api_status_conflict(st, r->name, name);
		return -ESTALE;
	}
	desired = registry_desired_of(subresource, body, old);
	if (!desired)
		return -ENOMEM;
	rc = registry_update_object(reg, r, scale ? NULL : subresource, desired, old, old_rev, wo, &obj, st);
	if (rc == -ESTALE && want_rev)
		api_status_conflict(st, r->name, name);
	if (rc < 0)
		return rc;
	*ret = scale ? registry_scale_of(obj) : TAKE_PTR(obj);
	return *ret ? 0 : -ENOMEM;
}

int registry_update(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const char *subresource, json_object *body, const struct write_options *wo, json_object **ret,
		    bool *ret_created, struct api_status *st)
{
	bool scale = subresource && strcmp(subresource, "scale") == 0;
	int64_t want_rev = 0;
	int rc;

	if (subresource && !(strcmp(subresource, "status") == 0 && r->has_status) && !(scale && r->has_scale)) {
		api_status_set(st, 404, "NotFound", "the server could not find the requested resource");
		return -ENOENT;
	}
	if (scale && (!body || !json_object_is_type(body, json_type_object))) {
		api_status_bad_request(st, "the body of the request was in an unknown format");
		return -EINVAL;
	}
	rc = scale ? 0 : registry_decode(r, ns, name, body, wo, st);
	if (rc == 0)
		rc = registry_precondition(body, &want_rev, st);
	if (rc < 0)
		return rc;
	*ret_created = false;
	for (int i = 0; i < WRITE_ATTEMPTS; i++) {
		rc = update_attempt(reg, r, ns, name, subresource, body, want_rev, wo, ret, st);
		if (rc == -ENOENT && !subresource && create_on_update(r)) {
			api_status_clear(st);
			rc = registry_create_object(reg, r, ns, body, wo, ret, st);
			*ret_created = rc == 0;
			if (rc != -EEXIST)
				return rc;
			api_status_clear(st);
			continue;
		}
		if (rc != -ESTALE && rc != -EAGAIN)
			return rc;
		if (want_rev)
			return rc;
	}
	api_status_conflict(st, r->name, name);
	return -ESTALE;
}

static int bind_attempt(struct registry *reg, const struct resource *r, const char *ns, const char *name,
			const char *node, const struct write_options *wo, struct api_status *st)
{
	_cleanup_json_ json_object *pod = NULL;
	_cleanup_free_ char *key = resource_key(r, ns, name), *value = NULL;
	int64_t rev = 0;
	int rc;

	if (!key)
		return -ENOMEM;
	rc = registry_read(reg, r, ns, name, &pod, &rev, st);
	if (rc < 0)
		return rc;
	rc = registry_bind_apply(pod, name, node, st);
	if (rc < 0)
		return rc;
	if (wo && wo->dry_run)
		return 0;
	value = meta_to_stored(pod);
	if (!value)
		return -ENOMEM;
	rc = store_update(registry_store(reg), key, value, rev, NULL);
	if (rc < 0 && rc != -ESTALE && rc != -ENOENT)
		api_status_internal(st, rc, "writing to the store");
	return rc == -ENOENT ? -ESTALE : rc;
}

int registry_bind(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		  json_object *body, const struct write_options *wo, json_object **ret, struct api_status *st)
{
	const char *node = json_get_string(body, "target.name");
	const char *kind = json_get_string(body, "kind");
	int rc = -ESTALE;

	if (!body || !json_object_is_type(body, json_type_object) || (kind && strcmp(kind, "Binding") != 0)) {
		api_status_bad_request(st, "the body of a binding must be a v1 Binding");
		return -EINVAL;
	}
	if (!node || !*node) {
		struct field_errors errs = { 0 };

		field_errors_add(&errs, "FieldValueRequired", "target.name", "target.name: Required value");
		return registry_invalid("Binding", name, &errs, st);
	}
	for (int i = 0; i < WRITE_ATTEMPTS && rc == -ESTALE; i++)
		rc = bind_attempt(reg, r, ns, name, node, wo, st);
	if (rc == -ESTALE)
		api_status_conflict(st, r->name, name);
	if (rc < 0)
		return rc;
	*ret = api_status_success(r->name, name, NULL);
	if (*ret)
		json_object_object_add(*ret, "code", json_object_new_int(201));
	return *ret ? 0 : -ENOMEM;
}
