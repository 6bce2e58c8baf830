/* Create/update strategies and namespace lifecycle admission (see admission.h). */
#include "api/admission.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/meta.h"
#include "api/quantity.h"

int admission_namespace(struct store *s, const char *ns, const char *res_name, const char *name,
			struct api_status *st)
{
	_cleanup_free_ char *key = NULL;
	struct store_kv kv = { 0 };
	uint64_t gen = 0;
	bool terminating;
	int r;

	/* Every create in a namespace comes here (events most of all): an active namespace
	 * is answered from the cache; anything else is read as before. */
	if (admission_ns_cache_lookup(s, ns, &gen) == 1)
		return 0;
	if (asprintf(&key, "/registry/namespaces/%s", ns) < 0)
		return -ENOMEM;
	r = store_get(s, key, &kv);
	if (r == -ENOENT) {
		api_status_not_found(st, "namespaces", ns);
		return r;
	}
	if (r < 0) {
		api_status_internal(st, r, "reading namespace");
		return r;
	}
	terminating = admission_ns_terminating(kv.value);
	admission_ns_cache_learn(s, ns, kv.mod_rev, !terminating, gen);
	store_kv_clear(&kv);
	if (terminating) {
		api_status_set(st, 403, "Forbidden",
			       "%s \"%s\" is forbidden: unable to create new content in namespace %s because it is "
			       "being terminated",
			       res_name, name ? name : "", ns);
		return -EPERM;
	}
	return 0;
}

bool admission_namespace_immortal(const char *name)
{
	return strcmp(name, "default") == 0 || strcmp(name, "kube-system") == 0 || strcmp(name, "kube-public") == 0;
}

static int64_t resource_milli(json_object *container, const char *kind, const char *res)
{
	json_object *map = json_get_path(container, kind), *v;
	int64_t milli;

	if (!map || !json_object_object_get_ex(map, res, &v))
		return -1;
	if (json_object_is_type(v, json_type_string)) {
		if (quantity_parse_milli(json_object_get_string(v), &milli) < 0)
			return -1;
		return milli;
	}
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) * 1000;
	return -1;
}

/* Folds one container into the QoS verdict as Kubernetes' GetPodQOS does: requests
 * default to limits; guaranteed needs cpu and memory limits equal to the requests. */
static void qos_container(json_object *c, bool *any, bool *guaranteed)
{
	static const char *const res[] = { "cpu", "memory" };

	for (size_t i = 0; i < ELEMENTSOF(res); i++) {
		int64_t req = resource_milli(c, "resources.requests", res[i]);
		int64_t lim = resource_milli(c, "resources.limits", res[i]);

		if (req > 0 || lim > 0)
			*any = true;
		if (lim <= 0 || (req >= 0 && req != lim))
			*guaranteed = false;
	}
}

const char *admission_pod_qos(json_object *pod)
{
	static const char *const lists[] = { "spec.containers", "spec.initContainers" };
	bool any = false, guaranteed = true;

	for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
		json_object *cs = json_get_path(pod, lists[l]);

		if (!cs || !json_object_is_type(cs, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(cs); i++)
			qos_container(json_object_array_get_idx(cs, i), &any, &guaranteed);
	}
	if (!any)
		return "BestEffort";
	return guaranteed ? "Guaranteed" : "Burstable";
}

static void namespace_fixups(json_object *obj)
{
	const char *name = meta_name(obj);
	json_object *labels = json_ensure_object(meta_of(obj), "labels");

	/* Kubernetes labels every namespace with its own name, so selectors can pick it. */
	if (labels && name)
		json_object_object_add(labels, "kubernetes.io/metadata.name", json_object_new_string(name));
}

static void reset_status(const struct resource *r, json_object *obj)
{
	json_object *status = json_object_new_object();

	if (!status)
		return;
	if (strcmp(r->kind, "Pod") == 0) {
		json_object_object_add(status, "phase", json_object_new_string("Pending"));
		json_object_object_add(status, "qosClass", json_object_new_string(admission_pod_qos(obj)));
	} else if (strcmp(r->kind, "Service") == 0) {
		json_object_object_add(status, "loadBalancer", json_object_new_object());
	} else if (strcmp(r->kind, "ReplicationController") == 0) {
		json_object_object_add(status, "replicas", json_object_new_int(0));
	} else if (strcmp(r->kind, "Namespace") == 0) {
		json_object *spec = json_ensure_object(obj, "spec"), *fin = json_object_new_array();

		json_object_object_add(status, "phase", json_object_new_string("Active"));
		if (spec && fin) {
			json_object_array_add(fin, json_object_new_string("kubernetes"));
			json_object_object_add(spec, "finalizers", fin);
		} else {
			json_object_put(fin);
		}
	} else {
		json_object_put(status);
		return;
	}
	json_object_object_add(obj, "status", status);
}

int admission_prepare_create(const struct resource *r, json_object *obj)
{
	static const char *const drop[] = { "resourceVersion", "selfLink", "deletionTimestamp",
					    "deletionGracePeriodSeconds", "uid", "creationTimestamp" };
	char uid[META_UID_LEN], ts[META_TIMESTAMP_LEN];
	json_object *m = meta_of(obj);
	int ret;

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(drop); i++)
		json_object_object_del(m, drop[i]);
	ret = meta_new_uid(uid);
	if (ret < 0)
		return ret;
	meta_timestamp(time(NULL), ts);
	json_object_object_add(m, "uid", json_object_new_string(uid));
	json_object_object_add(m, "creationTimestamp", json_object_new_string(ts));
	json_object_object_add(m, "generation", json_object_new_int64(1));
	if (r->has_status && strcmp(r->kind, "Node") != 0)
		reset_status(r, obj);
	if (strcmp(r->kind, "Namespace") == 0)
		namespace_fixups(obj);
	return 0;
}

static void copy_field(json_object *dst, json_object *src, const char *field)
{
	json_object *v;

	if (src && json_object_object_get_ex(src, field, &v))
		json_object_object_add(dst, field, json_clone(v));
	else
		json_object_object_del(dst, field);
}

static json_object *prepare_status_update(json_object *obj, json_object *old)
{
	json_object *out = json_clone(old);

	if (!out)
		return NULL;
	copy_field(out, obj, "status");
	/* The client's resourceVersion is the precondition of this write. */
	copy_field(meta_of(out), json_get_path(obj, "metadata"), "resourceVersion");
	return out;
}

json_object *admission_prepare_update(const struct resource *r, json_object *obj, json_object *old,
				      const char *subresource)
{
	static const char *const keep[] = { "uid", "creationTimestamp", "name", "namespace",
					    "deletionTimestamp", "deletionGracePeriodSeconds", "generation" };
	json_object *out, *m, *old_m = json_get_path(old, "metadata"), *gen;

	if (subresource && strcmp(subresource, "status") == 0)
		return prepare_status_update(obj, old);
	out = json_clone(obj);
	m = out ? meta_of(out) : NULL;
	if (!m) {
		json_object_put(out);
		return NULL;
	}
	json_object_object_del(m, "selfLink");
	for (size_t i = 0; i < ELEMENTSOF(keep); i++)
		copy_field(m, old_m, keep[i]);
	if (r->has_status)
		copy_field(out, old, "status");
	if (strcmp(r->kind, "Namespace") == 0) {
		/* spec.finalizers changes only through the namespace's finalize subresource. */
		json_object *spec = json_ensure_object(out, "spec");

		if (spec)
			copy_field(spec, json_get_path(old, "spec"), "finalizers");
		namespace_fixups(out);
	}
	gen = json_get_path(out, "metadata.generation");
	if (gen && !meta_json_equal(json_get_path(out, "spec"), json_get_path(old, "spec")))
		json_object_object_add(m, "generation", json_object_new_int64(json_object_get_int64(gen) + 1));
	return out;
}
