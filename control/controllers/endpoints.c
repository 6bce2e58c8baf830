/* The endpoints controller (see endpoints.h): pod, Service and Endpoints events mark their
 * namespaces dirty; each dirty namespace's selector Services then get their Endpoints
 * written when what they hold differs. */
#include "controllers/endpoints.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "api/selector.h"
#include "controllers/ctrl.h"
#include "controllers/informer.h"

#define SVC_PREFIX "/registry/services/"
#define POD_PREFIX "/registry/pods/"
#define EP_PREFIX "/registry/endpoints/"
#define COMPONENT "endpoint-controller"
#define RESYNC_MS 30000

struct endpoints_controller {
	struct registry *reg;
	struct informer *inf;
	struct strset dirty;
};

static const struct write_options wo = { .field_manager = COMPONENT };

static bool has_selector(json_object *svc)
{
	json_object *sel = json_get_path(svc, "spec.selector");
	const char *type = json_get_string(svc, "spec.type");

	return sel && json_object_is_type(sel, json_type_object) && json_object_object_length(sel) > 0 &&
	       !(type && strcmp(type, "ExternalName") == 0);
}

static json_object *desired_endpoints(json_object *svc, json_object *subsets)
{
	json_object *ep = json_object_new_object(), *m, *labels = json_get_path(svc, "metadata.labels");

	json_object_object_add(ep, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(ep, "kind", json_object_new_string("Endpoints"));
	m = meta_of(ep);
	json_object_object_add(m, "name", json_object_new_string(meta_name(svc)));
	json_object_object_add(m, "namespace", json_object_new_string(meta_namespace(svc)));
	if (labels)
		json_object_object_add(m, "labels", json_clone(labels));
	if (json_object_array_length(subsets) > 0)
		json_object_object_add(ep, "subsets", json_object_get(subsets));
	return ep;
}

static int mutate_endpoints(json_object *ep, void *arg)
{
	json_object *want = arg, *subsets = json_get_path(want, "subsets");
	json_object *labels = json_get_path(want, "metadata.labels");

	if (meta_json_equal(json_get_path(ep, "subsets"), subsets) &&
	    meta_json_equal(json_get_path(ep, "metadata.labels"), labels))
		return 1;
	if (subsets)
		json_object_object_add(ep, "subsets", json_object_get(subsets));
	else
		json_object_object_del(ep, "subsets");
	if (labels)
		json_object_object_add(meta_of(ep), "labels", json_object_get(labels));
	else
		json_object_object_del(meta_of(ep), "labels");
	return 0;
}

static void write_endpoints(struct endpoints_controller *c, json_object *svc, json_object *subsets)
{
	_cleanup_json_ json_object *want = desired_endpoints(svc, subsets), *out = NULL;
	const char *ns = meta_namespace(svc), *name = meta_name(svc);
	struct api_status st = { 0 };
	int rc;

	rc = ctrl_update(c->reg, "endpoints", ns, name, NULL, mutate_endpoints, want, NULL);
	if (rc == -ENOENT) {
		rc = registry_create_object(c->reg, resource_by_name("endpoints"), ns, want, &wo, &out, &st);
		if (rc == -EEXIST) /* written meanwhile: the event it made brings us back */
			rc = 0;
	}
	if (rc < 0)
		log_warn("endpoints %s/%s: cannot write: %s", ns, name, st.message ?: strerror(-rc));
	api_status_clear(&st);
}

static void sync_service(struct endpoints_controller *c, json_object *svc, json_object *pods)
{
	json_object **matched = NULL, *subsets = NULL;
	struct label_selector *sel = NULL;
	size_t n = 0;

	if (meta_deleting(svc) || label_selector_from_map(json_get_path(svc, "spec.selector"), &sel) < 0)
		return;
	matched = calloc(json_object_array_length(pods) + 1, sizeof(*matched));
	if (!matched)
		goto out;
	for (size_t i = 0; i < json_object_array_length(pods); i++) {
		json_object *pod = json_object_array_get_idx(pods, i);

		if (label_selector_matches(sel, json_get_path(pod, "metadata.labels")))
			matched[n++] = pod;
	}
	subsets = endpoints_subsets(svc, matched, n);
	if (subsets)
		write_endpoints(c, svc, subsets);
	json_object_put(subsets);
out:
	free(matched);
	label_selector_free(sel);
}

static void sync_namespace(struct endpoints_controller *c, const char *ns)
{
	_cleanup_json_ json_object *sl = NULL, *pl = NULL;
	json_object *svcs, *pods;
	bool any = false;

	if (ctrl_list(c->reg, "services", ns, NULL, &sl, &svcs) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(svcs); i++)
		any |= has_selector(json_object_array_get_idx(svcs, i));
	if (!any || ctrl_list(c->reg, "pods", ns, NULL, &pl, &pods) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(svcs); i++)
		if (has_selector(json_object_array_get_idx(svcs, i)))
			sync_service(c, json_object_array_get_idx(svcs, i), pods);
}

/* The Service is gone: so are its Endpoints (a new Service of that name makes new ones). */
static void service_deleted(struct endpoints_controller *c, const char *ns_name)
{
	_cleanup_free_ char *ns = ctrl_ns_of(ns_name);
	int rc;

	if (!ns)
		return;
	rc = ctrl_delete(c->reg, "endpoints", ns, ns_name + strlen(ns) + 1, -1, NULL);
	if (rc < 0 && rc != -ENOENT)
		log_warn_errno(rc, "endpoints %s: cannot delete after its service: %m", ns_name);
}

static void on_event(void *ctx, const struct store_event *ev)
{
	struct endpoints_controller *c = ctx;
	const char *rest;

	if ((rest = informer_key_rest(ev->key, SVC_PREFIX)) && ev->type == STORE_EVENT_DELETE)
		service_deleted(c, rest);
	else if (rest || (rest = informer_key_rest(ev->key, POD_PREFIX)) ||
		 (rest = informer_key_rest(ev->key, EP_PREFIX)))
		/* An Endpoints write of someone else's is put right again. */
		strset_add_prefix(&c->dirty, rest);
}

static void flush(void *ctx)
{
	struct endpoints_controller *c = ctx;
	struct strset dirty = c->dirty;

	c->dirty = (struct strset){ 0 };
	for (size_t i = 0; i < dirty.n; i++)
		sync_namespace(c, dirty.v[i]);
	strset_clear(&dirty);
}

static void resync(void *ctx)
{
	struct endpoints_controller *c = ctx;
	_cleanup_json_ json_object *list = NULL;
	json_object *items;

	if (ctrl_list(c->reg, "services", NULL, NULL, &list, &items) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(items); i++)
		if (has_selector(json_object_array_get_idx(items, i)))
			strset_add(&c->dirty, meta_namespace(json_object_array_get_idx(items, i)));
	flush(c);
}

static const char *const prefixes[] = { SVC_PREFIX, POD_PREFIX, EP_PREFIX, NULL };
static const struct informer_ops ops = {
	.name = "endpoints controller",
	.thread_name = "ctrl-endpoints",
	.prefixes = prefixes,
	.event = on_event,
	.flush = flush,
	.resync = resync,
	.resync_ms = RESYNC_MS,
};

struct endpoints_controller *endpoints_controller_start(struct registry *reg)
{
	struct endpoints_controller *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->reg = reg;
	c->inf = informer_start(reg, &ops, c);
	if (!c->inf) {
		int err = errno;

		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void endpoints_controller_stop(struct endpoints_controller *c)
{
	if (!c)
		return;
	informer_stop(c->inf);
	strset_clear(&c->dirty);
	free(c);
}
