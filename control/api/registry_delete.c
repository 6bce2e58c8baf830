/* DELETE and deletecollection: preconditions, graceful pod deletion, finalizers,
 * namespace termination, and the removal txn that releases a Service's allocations. */
#include "api/registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/admission.h"
#include "api/alloc.h"
#include "api/meta.h"

#define DELETE_ATTEMPTS 8
#define DEFAULT_GRACE_SECONDS 30

int registry_remove(struct registry *reg, const struct resource *r, json_object *obj, int64_t expect_rev,
		    int64_t *ret_rev, struct api_status *st)
{
	_cleanup_free_ char *key = resource_key(r, meta_namespace(obj), meta_name(obj));
	struct store_op op = { .type = STORE_OP_DELETE, .expect_rev = expect_rev };
	struct alloc_plan plan = { 0 };
	int64_t rev = 0;
	ssize_t failed = -1;
	int rc = 0;

	if (!key)
		return -ENOMEM;
	op.key = key;
	if (strcmp(r->kind, "Service") == 0)
		rc = alloc_service_release(obj, &plan);
	if (rc == 0)
		rc = registry_commit(reg, &op, &plan, &rev, &failed);
	alloc_plan_clear(&plan);
	if (rc == -ENOENT && failed < 0)
		api_status_not_found(st, resource_qualified_name(r), meta_name(obj));
	else if (rc < 0 && rc != -ESTALE)
		api_status_internal(st, rc, "deleting from the store");
	if (rc == 0 && ret_rev)
		*ret_rev = rev;
	return rc;
}

static int check_preconditions(const struct resource *r, json_object *obj, const struct delete_options *d,
			       struct api_status *st)
{
	const char *uid = json_get_string(obj, "metadata.uid"), *rv = json_get_string(obj, "metadata.resourceVersion");

	if (d && d->precondition_uid && *d->precondition_uid && (!uid || strcmp(uid, d->precondition_uid) != 0)) {
		api_status_set(st, 409, "Conflict",
			       "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID in precondition: %s, "
			       "UID in object meta: %s",
			       r->name, meta_name(obj), d->precondition_uid, uid ? uid : "");
		return -ESTALE;
	}
	if (d && d->precondition_rv && *d->precondition_rv && (!rv || strcmp(rv, d->precondition_rv) != 0)) {
		api_status_set(st, 409, "Conflict",
			       "Operation cannot be fulfilled on %s \"%s\": Precondition failed: ResourceVersion in "
			       "precondition: %s, ResourceVersion in object meta: %s",
			       r->name, meta_name(obj), d->precondition_rv, rv ? rv : "");
		return -ESTALE;
	}
	return 0;
}

static int check_policy(const struct delete_options *d, struct api_status *st)
{
	static const char *const ok[] = { "Background", "Foreground", "Orphan" };
	const char *p = d ? d->propagation_policy : NULL;

	if (!p || !*p)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(ok); i++)
		if (strcmp(p, ok[i]) == 0)
			return 0;
	api_status_set(st, 422, "Invalid",
		       "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"%s\": "
		       "supported values: \"Foreground\", \"Background\", \"Orphan\"",
		       p);
	return -EINVAL;
}

/* Writes obj (marked for deletion) over the stored revision. */
static int write_marked(struct registry *reg, const struct resource *r, json_object *obj, int64_t rev,
			const struct delete_options *d, struct api_status *st)
{
	_cleanup_free_ char *key = resource_key(r, meta_namespace(obj), meta_name(obj)), *value = NULL;
	int64_t new_rev = 0;
	int rc;

	if (d && d->dry_run)
		return 0;
	value = meta_to_stored(obj);
	if (!key || !value)
		return -ENOMEM;
	rc = store_update(registry_store(reg), key, value, rev, &new_rev);
	if (rc == -ENOENT)
		return -ESTALE;
	if (rc < 0 && rc != -ESTALE)
		api_status_internal(st, rc, "writing to the store");
	if (rc == 0)
		meta_set_rv(obj, new_rev);
	return rc;
}

static void mark_deleting(json_object *obj, int64_t grace)
{
	char ts[META_TIMESTAMP_LEN];
	json_object *m = meta_of(obj), *gen = json_get_path(obj, "metadata.generation");

	meta_timestamp(time(NULL) + grace, ts);
	json_object_object_add(m, "deletionTimestamp", json_object_new_string(ts));
	json_object_object_add(m, "deletionGracePeriodSeconds", json_object_new_int64(grace));
	if (gen)
		json_object_object_add(m, "generation", json_object_new_int64(json_object_get_int64(gen) + 1));
}

/* How long a pod gets to stop: 0 unless a node runs it (its agent confirms the end). */
static int64_t pod_grace(json_object *pod, const struct delete_options *d)
{
	const char *node = json_get_string(pod, "spec.nodeName"), *phase = json_get_string(pod, "status.phase");
	json_object *spec_grace = json_get_path(pod, "spec.terminationGracePeriodSeconds");

	if (!node || !*node || (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0)))
		return 0;
	if (d && d->grace_period_seconds >= 0)
		return d->grace_period_seconds;
	return spec_grace ? json_object_get_int64(spec_grace) : DEFAULT_GRACE_SECONDS;
}

enum delete_step { STEP_KEEP, STEP_MARK, STEP_REMOVE };

/* What a delete does to obj now: keep it as it is, mark it (graceful / finalizers /
 * namespace termination), or remove it. */
static enum delete_step delete_step(const struct resource *r, json_object *obj, const struct delete_options *d,
				    int64_t *ret_grace)
{
	json_object *cur = json_get_path(obj, "metadata.deletionGracePeriodSeconds");
	int64_t grace = 0;

	*ret_grace = 0;
	if (strcmp(r->kind, "Namespace") == 0)
		return meta_deleting(obj) ? STEP_KEEP : STEP_MARK;
	if (meta_has_finalizers(obj))
		return meta_deleting(obj) ? STEP_KEEP : STEP_MARK;
	if (strcmp(r->kind, "Pod") == 0)
		grace = pod_grace(obj, d);
	if (grace <= 0)
		return STEP_REMOVE;
	/* A second delete may only shorten the grace period. */
	if (meta_deleting(obj) && cur && json_object_get_int64(cur) <= grace)
		return STEP_KEEP;
	*ret_grace = grace;
	return STEP_MARK;
}

/* Orphan and Foreground are recorded as finalizers, as Kubernetes does: the garbage collector
 * orphans or deletes the dependents, then drops the finalizer, and the object goes. */
static int add_policy_finalizer(const struct resource *r, json_object *obj, const struct delete_options *d)
{
	const char *p = d ? d->propagation_policy : NULL;

	if (!p || strcmp(r->kind, "Namespace") == 0 || meta_deleting(obj))
		return 0;
	if (strcmp(p, "Orphan") == 0)
		return meta_add_finalizer(obj, META_FINALIZER_ORPHAN);
	if (strcmp(p, "Foreground") == 0)
		return meta_add_finalizer(obj, META_FINALIZER_FOREGROUND);
	return 0;
}

static bool returns_object(const struct resource *r)
{
	return strcmp(r->kind, "Pod") == 0 || strcmp(r->kind, "Namespace") == 0 || strcmp(r->kind, "Service") == 0;
}

static int delete_attempt(struct registry *reg, const struct resource *r, const char *ns, const char *name,
			  const struct delete_options *d, json_object **ret, struct api_status *st)
{
	_cleanup_json_ json_object *obj = NULL;
	int64_t rev = 0, grace = 0;
	int rc;

	rc = registry_read(reg, r, ns, name, &obj, &rev, st);
	if (rc == 0)
		rc = check_preconditions(r, obj, d, st);
	if (rc < 0)
		return rc == -ESTALE ? -ECANCELED : rc;
	rc = add_policy_finalizer(r, obj, d);
	if (rc < 0)
		return rc;
	switch (delete_step(r, obj, d, &grace)) {
	case STEP_KEEP:
		break;
	case STEP_MARK:
		mark_deleting(obj, grace);
		if (strcmp(r->kind, "Namespace") == 0)
			json_object_object_add(json_ensure_object(obj, "status"), "phase",
					       json_object_new_string("Terminating"));
		rc = write_marked(reg, r, obj, rev, d, st);
		break;
	case STEP_REMOVE:
		if (!(d && d->dry_run))
			rc = registry_remove(reg, r, obj, rev, NULL, st);
		if (rc == 0 && !returns_object(r)) {
			*ret = api_status_success(r->name, name, json_get_string(obj, "metadata.uid"));
			return *ret ? 0 : -ENOMEM;
		}
		break;
	}
	if (rc == 0)
		*ret = TAKE_PTR(obj);
	return rc;
}

int registry_delete(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const struct delete_options *dopts, json_object **ret, int *ret_code, struct api_status *st)
{
	bool conditional = dopts && dopts->precondition_rv && *dopts->precondition_rv;
	int rc;

	rc = check_policy(dopts, st);
	if (rc < 0)
		return rc;
	if (strcmp(r->kind, "Namespace") == 0 && admission_namespace_immortal(name)) {
		api_status_set(st, 403, "Forbidden", "namespaces \"%s\" is forbidden: this namespace may not be deleted",
			       name);
		return -EPERM;
	}
	for (int i = 0; i < DELETE_ATTEMPTS; i++) {
		rc = delete_attempt(reg, r, ns, name, dopts, ret, st);
		if (rc == -ECANCELED)
			return -ESTALE;
		if (rc != -ESTALE)
			break;
		if (conditional) {
			api_status_conflict(st, resource_qualified_name(r), name);
			return rc;
		}
	}
	if (rc == -ESTALE)
		api_status_conflict(st, resource_qualified_name(r), name);
	if (rc == 0)
		*ret_code = 200;
	return rc;
}

int registry_delete_collection(struct registry *reg, const struct resource *r, const char *ns,
			       const struct list_options *lo, const struct delete_options *dopts, json_object **ret,
			       struct api_status *st)
{
	struct list_options all = lo ? *lo : (struct list_options){ 0 };
	_cleanup_json_ json_object *list = NULL;
	json_object *items, *deleted = json_object_new_array();
	int rc;

	if (!deleted)
		return -ENOMEM;
	if (strcmp(r->kind, "Namespace") == 0) {
		json_object_put(deleted);
		api_status_set(st, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
		return -EOPNOTSUPP;
	}
	all.limit = 0;
	all.continue_token = NULL;
	rc = registry_list(reg, r, ns, &all, &list, st);
	items = rc == 0 ? json_get_path(list, "items") : NULL;
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		json_object *item = json_object_array_get_idx(items, i), *out = NULL;
		int code = 0;

		rc = registry_delete(reg, r, meta_namespace(item), meta_name(item), dopts, &out, &code, st);
		if (rc == -ENOENT) {
			api_status_clear(st);
			continue;
		}
		if (rc < 0)
			break;
		/* A Status answer names the object only: the List carries the object itself. */
		if (json_get_string(out, "kind") && strcmp(json_get_string(out, "kind"), "Status") == 0) {
			json_object_put(out);
			out = json_object_get(item);
		}
		json_object_array_add(deleted, out);
	}
	if (rc < 0) {
		json_object_put(deleted);
		return rc;
	}
	json_object_object_add(list, "items", deleted);
	*ret = TAKE_PTR(list);
	return 0;
}
