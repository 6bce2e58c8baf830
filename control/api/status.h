/* API failures and their wire form, the Kubernetes Status object. */
#ifndef SKIFF_API_STATUS_H
#define SKIFF_API_STATUS_H

#include <json-c/json.h>

struct api_status {
	int code;         /* HTTP code: 400, 401, 403, 404, 409, 410, 413, 422, 429, 500 */
	char *reason;     /* "NotFound", "AlreadyExists", "Conflict", "Invalid", "BadRequest", ... */
	char *message;    /* 'pods "x" not found' */
	json_object *details; /* optional: {"name","kind","causes":[...]}, owned */
};

void api_status_set(struct api_status *st, int code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Common cases with Kubernetes' wording ('pods "x" not found', 'pods "x" already exists',
 * 'Operation cannot be fulfilled on pods "x": the object has been modified; please apply
 * your changes to the latest version and try again'). res_name is the plural. */
void api_status_not_found(struct api_status *st, const char *res_name, const char *name);
void api_status_already_exists(struct api_status *st, const char *res_name, const char *name);
void api_status_conflict(struct api_status *st, const char *res_name, const char *name);
void api_status_bad_request(struct api_status *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 500 InternalError; -E2BIG (the store refused a write this big) is 413 RequestEntityTooLarge. */
void api_status_internal(struct api_status *st, int err, const char *what);
/* Takes ownership of details. */
void api_status_set_details(struct api_status *st, json_object *details);
void api_status_clear(struct api_status *st);
/* {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message",...,"reason","details","code"} */
json_object *api_status_to_json(const struct api_status *st);
/* {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{...}} for deletes */
json_object *api_status_success(const char *res_name, const char *name, const char *uid);

#endif
