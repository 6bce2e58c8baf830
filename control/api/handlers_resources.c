/* The verbs on /api/v1 objects: parse what the request says, call the registry, encode
 * the answer (plain JSON, Table, or a watch stream). */
#include "api/handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/encode.h"
#include "api/pod_proxy.h"
#include "api/watch_stream.h"

static const char *const patch_types[] = {
	"application/merge-patch+json",
	"application/json-patch+json",
	"application/strategic-merge-patch+json",
	"application/apply-patch+yaml",
};

static void ok(struct api_response *resp, int code, json_object *obj)
{
	resp->code = code;
	resp->json = obj;
	resp->content_type = "application/json";
}

/* A registry that failed without saying why still answers with a Status. */
static int failed(int r, const char *what, struct api_status *st)
{
	if (!st->code)
		api_status_internal(st, r, what);
	return r;
}

/* Table when asked for, on whole objects (not subresources). */
static json_object *maybe_table(const struct api_request *req, json_object *obj, bool list)
{
	json_object *t;

	if (req->rt->sub || !encode_wants_table(req->accept))
		return obj;
	t = list ? encode_list_table(req->rt->res, obj, time(NULL)) : encode_object_table(req->rt->res, obj, time(NULL));
	if (!t)
		return obj;
	json_object_put(obj);
	return t;
}

static int do_get(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	json_object *obj = NULL;
	int r = registry_get(req->reg, rt->res, rt->ns, rt->name, rt->sub, &obj, st);

	if (r < 0)
		return failed(r, "get", st);
	ok(resp, 200, maybe_table(req, obj, false));
	return 0;
}

static int do_list(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	struct list_options lo;
	json_object *list = NULL;
	int timeout_s, r;

	r = handlers_list_options(req, &lo, &timeout_s, st);
	if (r < 0)
		return r;
	r = registry_list(req->reg, rt->res, rt->ns, &lo, &list, st);
	if (r < 0)
		return failed(r, "list", st);
	ok(resp, 200, maybe_table(req, list, true));
	return 0;
}

static int do_watch(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	_cleanup_free_ char *fs = NULL;
	struct watch_stream_params p = { .reg = req->reg, .res = rt->res, .conn_fd = -1, .stop_fd = req->stop_fd };
	const union MHD_ConnectionInfo *ci;
	struct list_options lo;
	int r;

	r = handlers_list_options(req, &lo, &p.timeout_s, st);
	if (r < 0)
		return r;
	/* A watch on one object is a watch on its collection narrowed to its name. */
	if (rt->name) {
		if (asprintf(&fs, "metadata.name=%s%s%s", rt->name, lo.field_selector && lo.field_selector[0] ? "," : "",
			     lo.field_selector ? lo.field_selector : "") < 0)
			return failed(-ENOMEM, "watch", st);
		lo.field_selector = fs;
	}
	/* Read before the watch starts, so a bookmark never claims a revision not yet sent. */
	p.known_rv = req->reg ? (long long)store_revision(registry_store(req->reg)) : 0;
	r = registry_watch_new(req->reg, rt->res, rt->ns, &lo, &p.watch, st);
	if (r == -ERANGE || (r < 0 && st->code == 410)) {
		api_status_clear(st);
		p.watch = NULL; /* the stream then carries only the 410 ERROR event */
	} else if (r < 0) {
		return failed(r, "watch", st);
	}
	p.start_rv = lo.resource_version;
	p.table = encode_wants_table(req->accept);
	p.bookmarks = lo.allow_bookmarks;
	ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		p.conn_fd = ci->connect_fd;
	/* A quiet watch is not an idle connection. */
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	resp->stream = watch_stream_response(&p);
	if (!resp->stream)
		return failed(-ENOMEM, "watch", st);
	resp->code = 200;
	resp->content_type = "application/json";
	return 0;
}

static const char *body_kind(const struct route *rt)
{
	if (!rt->sub || strcmp(rt->sub, "status") == 0)
		return rt->res->kind;
	if (strcmp(rt->sub, "scale") == 0)
		return "Scale";
	if (strcmp(rt->sub, "binding") == 0)
		return "Binding";
	if (strcmp(rt->sub, "finalize") == 0)
		return "Namespace";
	return NULL;
}

/* Kubernetes refuses a body that names another object or namespace than the URL. */
static int check_body_target(const struct route *rt, json_object *body, struct api_status *st)
{
	const char *name = json_get_string(body, "metadata.name");
	const char *ns = json_get_string(body, "metadata.namespace");

	if (rt->ns && ns && ns[0] && strcmp(ns, rt->ns) != 0 && (!rt->sub || strcmp(rt->sub, "binding") != 0)) {
		api_status_bad_request(st, "the namespace of the provided object does not match the namespace sent "
					   "on the request");
		return -EINVAL;
	}
	if (rt->name && !rt->sub && name && name[0] && strcmp(name, rt->name) != 0) {
		api_status_bad_request(st, "the name of the object (%s) does not match the name on the URL (%s)", name,
				       rt->name);
		return -EINVAL;
	}
	return 0;
}

static int do_create(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	_cleanup_json_ json_object *body = NULL;
	struct write_options wo;
	json_object *obj = NULL;
	int r;

	r = handlers_write_options(req, &wo, st);
	if (r < 0)
		return r;
	r = handlers_decode_body(req, body_kind(rt), &body, st);
	if (r < 0)
		return r;
	r = check_body_target(rt, body, st);
	if (r < 0)
		return r;
	r = registry_create(req->reg, rt->res, rt->ns, rt->name, rt->sub, body, &wo, &obj, st);
	if (r < 0)
		return failed(r, "create", st);
	ok(resp, 201, obj);
	return 0;
}

static int do_update(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	_cleanup_json_ json_object *body = NULL;
	struct write_options wo;
	json_object *obj = NULL;
	bool created = false;
	int r;

	r = handlers_write_options(req, &wo, st);
	if (r < 0)
		return r;
	r = handlers_decode_body(req, body_kind(rt), &body, st);
	if (r < 0)
		return r;
	r = check_body_target(rt, body, st);
	if (r < 0)
		return r;
	r = registry_update(req->reg, rt->res, rt->ns, rt->name, rt->sub, body, &wo, &obj, &created, st);
	if (r < 0)
		return failed(r, "update", st);
	ok(resp, created ? 201 : 200, obj);
	return 0;
}

/* The patch media type without parameters, or NULL when it is not one we take. */
static const char *patch_type(const char *content_type)
{
	size_t len;

	if (!content_type)
		return NULL;
	len = strcspn(content_type, "; \t");
	for (size_t i = 0; i < ELEMENTSOF(patch_types); i++)
		if (strlen(patch_types[i]) == len && strncmp(content_type, patch_types[i], len) == 0)
			return patch_types[i];
	return NULL;
}

static int do_patch(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	const char *type = patch_type(req->content_type);
	struct write_options wo;
	json_object *obj = NULL;
	bool created = false;
	int r;

	if (!type) {
		api_status_set(st, 415, "UnsupportedMediaType",
			       "the body of the request was in an unknown format - accepted media types include: "
			       "application/json-patch+json, application/merge-patch+json, "
			       "application/apply-patch+yaml, application/strategic-merge-patch+json");
		return -EOPNOTSUPP;
	}
	r = handlers_write_options(req, &wo, st);
	if (r < 0)
		return r;
	if (strcmp(type, "application/apply-patch+yaml") == 0 && (!wo.field_manager || !wo.field_manager[0])) {
		api_status_bad_request(st, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
					   "is required for apply patch");
		return -EINVAL;
	}
	if (!req->body_len) {
		api_status_bad_request(st, "the body of the request is empty: a patch is required");
		return -EINVAL;
	}
	r = registry_patch(req->reg, rt->res, rt->ns, rt->name, rt->sub, type, req->body, req->body_len, &wo, &obj,
			   &created, st);
	if (r < 0)
		return failed(r, "patch", st);
	ok(resp, created ? 201 : 200, obj);
	return 0;
}

static int do_delete(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	_cleanup_json_ json_object *body = NULL;
	struct delete_options d;
	json_object *obj = NULL;
	int code = 0, r;

	r = handlers_delete_options(req, &d, &body, st);
	if (r < 0)
		return r;
	r = registry_delete(req->reg, rt->res, rt->ns, rt->name, &d, &obj, &code, st);
	if (r < 0)
		return failed(r, "delete", st);
	if (!obj)
		obj = api_status_success(rt->res->name, rt->name, NULL);
	ok(resp, code ? code : 200, obj);
	return 0;
}

static int do_delete_collection(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;
	_cleanup_json_ json_object *body = NULL;
	struct list_options lo;
	struct delete_options d;
	json_object *list = NULL;
	int timeout_s, r;

	r = handlers_list_options(req, &lo, &timeout_s, st);
	if (r < 0)
		return r;
	r = handlers_delete_options(req, &d, &body, st);
	if (r < 0)
		return r;
	r = registry_delete_collection(req->reg, rt->res, rt->ns, &lo, &d, &list, st);
	if (r < 0)
		return failed(r, "deletecollection", st);
	ok(resp, 200, list);
	return 0;
}

static int run_verb(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const struct route *rt = req->rt;

	if (rt->sub && strcmp(rt->sub, "log") == 0)
		return handlers_pod_log(req, resp, st);
	if (rt->sub && strcmp(rt->sub, "exec") == 0)
		return handlers_pod_exec(req, resp, st);
	switch (rt->verb) {
	case VERB_GET:
		return do_get(req, resp, st);
	case VERB_LIST:
		return do_list(req, resp, st);
	case VERB_WATCH:
		return do_watch(req, resp, st);
	case VERB_CREATE:
		return do_create(req, resp, st);
	case VERB_UPDATE:
		return do_update(req, resp, st);
	case VERB_PATCH:
		return do_patch(req, resp, st);
	case VERB_DELETE:
		return do_delete(req, resp, st);
	case VERB_DELETE_COLLECTION:
		return do_delete_collection(req, resp, st);
	}
	return failed(-EINVAL, "unknown verb", st);
}

void handlers_resources(const struct api_request *req, struct api_response *resp)
{
	struct api_status st = { 0 };

	if (run_verb(req, resp, &st) < 0)
		handlers_status(resp, &st);
	api_status_clear(&st);
}
