/* Kubernetes Status objects: how every API failure (and a delete's success) goes on the wire. */
#include "api/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

static void status_vset(struct api_status *st, int code, const char *reason, const char *fmt, va_list ap)
{
	char *msg = NULL;

	free(st->reason);
	free(st->message);
	st->code = code;
	st->reason = reason ? strdup(reason) : NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	st->message = msg;
}

void api_status_set(struct api_status *st, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	status_vset(st, code, reason, fmt, ap);
	va_end(ap);
}

/* Kubernetes names the object in details as {"name": ..., "kind": <plural>}. */
static void status_name_details(struct api_status *st, const char *res_name, const char *name)
{
	json_object *d = json_object_new_object();

	if (!d)
		return;
	if (name)
		json_object_object_add(d, "name", json_object_new_string(name));
	if (res_name)
		json_object_object_add(d, "kind", json_object_new_string(res_name));
	api_status_set_details(st, d);
}

void api_status_not_found(struct api_status *st, const char *res_name, const char *name)
{
	api_status_set(st, 404, "NotFound", "%s \"%s\" not found", res_name, name);
	status_name_details(st, res_name, name);
}

void api_status_already_exists(struct api_status *st, const char *res_name, const char *name)
{
	api_status_set(st, 409, "AlreadyExists", "%s \"%s\" already exists", res_name, name);
	status_name_details(st, res_name, name);
}

void api_status_conflict(struct api_status *st, const char *res_name, const char *name)
{
	api_status_set(st, 409, "Conflict",
		       "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
		       "please apply your changes to the latest version and try again",
		       res_name, name);
	status_name_details(st, res_name, name);
}

void api_status_bad_request(struct api_status *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	status_vset(st, 400, "BadRequest", fmt, ap);
	va_end(ap);
}

void api_status_internal(struct api_status *st, int err, const char *what)
{
	if (err < 0)
		err = -err;
	/* The store refused the write's size (etcd: 128 ops or 1.5 MiB a txn), nothing written. */
	if (err == E2BIG) {
		api_status_set(st, 413, "RequestEntityTooLarge",
			       "Request entity too large: %s: the write is larger than the store takes at once",
			       what ? what : "request");
		return;
	}
	api_status_set(st, 500, "InternalError", "Internal error occurred: %s: %s", what ? what : "request",
		       strerror(err));
}

void api_status_set_details(struct api_status *st, json_object *details)
{
	if (st->details)
		json_object_put(st->details);
	st->details = details;
}

void api_status_clear(struct api_status *st)
{
	if (!st)
		return;
	free(st->reason);
	free(st->message);
	if (st->details)
		json_object_put(st->details);
	*st = (struct api_status){ 0 };
}

static json_object *status_skeleton(const char *status)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "kind", json_object_new_string("Status"));
	json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "status", json_object_new_string(status));
	return o;
}

json_object *api_status_to_json(const struct api_status *st)
{
	json_object *o = status_skeleton("Failure");
	int code = st->code ? st->code : 500;

	if (!o)
		return NULL;
	json_object_object_add(o, "message", json_object_new_string(st->message ? st->message : ""));
	if (st->reason && st->reason[0])
		json_object_object_add(o, "reason", json_object_new_string(st->reason));
	if (st->details)
		json_object_object_add(o, "details", json_object_get(st->details));
	json_object_object_add(o, "code", json_object_new_int(code));
	return o;
}

json_object *api_status_success(const char *res_name, const char *name, const char *uid)
{
	json_object *o = status_skeleton("Success");
	json_object *d;

	if (!o)
		return NULL;
	d = json_object_new_object();
	if (name)
		json_object_object_add(d, "name", json_object_new_string(name));
	if (res_name)
		json_object_object_add(d, "kind", json_object_new_string(res_name));
	if (uid)
		json_object_object_add(d, "uid", json_object_new_string(uid));
	json_object_object_add(o, "details", d);
	return o;
}
