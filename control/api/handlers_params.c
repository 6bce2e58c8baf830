/* Query parameters and request bodies of API requests, checked the way Kubernetes
 * checks them (a bad value is a 400, never silently ignored). */
#include "api/handlers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>
#include <skiff/yaml.h>

const char *handlers_query(const struct api_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* Go's strconv.ParseBool, which Kubernetes uses for query booleans. */
static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_int64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int query_bool(const struct api_request *req, const char *key, bool *ret, struct api_status *st)
{
	const char *v = handlers_query(req, key);

	*ret = false;
	if (!v || !v[0])
		return 0;
	if (parse_bool(v, ret) < 0) {
		api_status_bad_request(st, "invalid value for %s: \"%s\": expected true or false", key, v);
		return -EINVAL;
	}
	return 0;
}

static int query_int(const struct api_request *req, const char *key, int64_t min, int64_t *ret, bool *ret_given,
		     struct api_status *st)
{
	const char *v = handlers_query(req, key);

	*ret_given = false;
	if (!v || !v[0])
		return 0;
	if (parse_int64(v, ret) < 0 || *ret < min) {
		api_status_bad_request(st, "invalid value for %s: \"%s\": expected an integer >= %lld", key, v,
				       (long long)min);
		return -EINVAL;
	}
	*ret_given = true;
	return 0;
}

int handlers_list_options(const struct api_request *req, struct list_options *lo, int *ret_timeout_s,
			  struct api_status *st)
{
	const char *rvm = handlers_query(req, "resourceVersionMatch");
	int64_t v;
	bool given;

	*lo = (struct list_options){
		.label_selector = handlers_query(req, "labelSelector"),
		.field_selector = handlers_query(req, "fieldSelector"),
		.continue_token = handlers_query(req, "continue"),
		.resource_version = handlers_query(req, "resourceVersion"),
	};
	if (query_int(req, "limit", 0, &v, &given, st) < 0)
		return -EINVAL;
	lo->limit = given ? v : 0;
	if (query_bool(req, "allowWatchBookmarks", &lo->allow_bookmarks, st) < 0)
		return -EINVAL;
	if (query_int(req, "timeoutSeconds", 0, &v, &given, st) < 0)
		return -EINVAL;
	*ret_timeout_s = given ? (int)(v > 86400 * 365 ? 86400 * 365 : v) : -1;
	if (rvm && rvm[0]) {
		if (strcmp(rvm, "NotOlderThan") != 0 && strcmp(rvm, "Exact") != 0) {
			api_status_bad_request(st, "resourceVersionMatch: Unsupported value: \"%s\": supported values: "
						   "\"Exact\", \"NotOlderThan\"", rvm);
			return -EINVAL;
		}
		if (!lo->resource_version || !lo->resource_version[0]) {
			api_status_bad_request(st, "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden "
						   "unless resourceVersion is provided");
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_dry_run(const char *v, bool *ret, struct api_status *st)
{
	if (!v || !v[0])
		return 0;
	if (strcmp(v, "All") != 0) {
		api_status_bad_request(st, "dryRun: Unsupported value: \"%s\": supported values: \"All\"", v);
		return -EINVAL;
	}
	*ret = true;
	return 0;
}

int handlers_write_options(const struct api_request *req, struct write_options *wo, struct api_status *st)
{
	const char *fv = handlers_query(req, "fieldValidation");

	*wo = (struct write_options){ .field_manager = handlers_query(req, "fieldManager") };
	if (parse_dry_run(handlers_query(req, "dryRun"), &wo->dry_run, st) < 0)
		return -EINVAL;
	if (query_bool(req, "force", &wo->force, st) < 0)
		return -EINVAL;
	/* Kubernetes' default without the parameter is Warn: unknown fields pass. */
	if (fv && fv[0] && strcmp(fv, "Strict") != 0 && strcmp(fv, "Warn") != 0 && strcmp(fv, "Ignore") != 0) {
		api_status_bad_request(st, "fieldValidation: Unsupported value: \"%s\": supported values: "
					   "\"Ignore\", \"Strict\", \"Warn\"", fv);
		return -EINVAL;
	}
	wo->strict = fv && strcmp(fv, "Strict") == 0;
	if (wo->field_manager && strlen(wo->field_manager) > 128) {
		api_status_bad_request(st, "fieldManager: Too long: may not be longer than 128");
		return -EINVAL;
	}
	return 0;
}

/* The DeleteOptions body overrides the query, as in Kubernetes. */
static int delete_options_from_body(json_object *b, struct delete_options *d, struct api_status *st)
{
	json_object *v;

	if (json_object_object_get_ex(b, "gracePeriodSeconds", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			api_status_bad_request(st, "gracePeriodSeconds: must be a non-negative integer");
			return -EINVAL;
		}
		d->grace_period_seconds = json_object_get_int64(v);
	}
	if (json_object_object_get_ex(b, "propagationPolicy", &v) && json_object_is_type(v, json_type_string))
		d->propagation_policy = json_object_get_string(v);
	d->precondition_uid = json_get_string(b, "preconditions.uid");
	d->precondition_rv = json_get_string(b, "preconditions.resourceVersion");
	if (json_object_object_get_ex(b, "dryRun", &v) && json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (parse_dry_run(json_object_get_string(json_object_array_get_idx(v, i)), &d->dry_run,
					  st) < 0)
				return -EINVAL;
	}
	return 0;
}

int handlers_delete_options(const struct api_request *req, struct delete_options *d, json_object **ret_body,
			    struct api_status *st)
{
	const char *err = NULL;
	json_object *b;
	int64_t grace;
	bool given;

	*d = (struct delete_options){ .grace_period_seconds = -1,
				      .propagation_policy = handlers_query(req, "propagationPolicy") };
	*ret_body = NULL;
	if (query_int(req, "gracePeriodSeconds", 0, &grace, &given, st) < 0)
		return -EINVAL;
	if (given)
		d->grace_period_seconds = grace;
	if (parse_dry_run(handlers_query(req, "dryRun"), &d->dry_run, st) < 0)
		return -EINVAL;
	if (!req->body_len)
		return 0;
	b = json_parse_buffer(req->body, req->body_len, &err);
	if (!b || !json_object_is_type(b, json_type_object)) {
		if (b)
			json_object_put(b);
		api_status_bad_request(st, "couldn't decode DeleteOptions: json parse error: %s",
				       err ? err : "not a JSON object");
		return -EINVAL;
	}
	*ret_body = b;
	return delete_options_from_body(b, d, st);
}

static bool is_yaml(const char *content_type)
{
	return content_type && (strncmp(content_type, "application/yaml", 16) == 0 ||
				strncmp(content_type, "application/x-yaml", 18) == 0 ||
				strncmp(content_type, "text/yaml", 9) == 0);
}

static json_object *parse_body(const struct api_request *req, struct api_status *st)
{
	const char *err = NULL;
	char *yerr = NULL;
	json_object *o = NULL;

	if (req->content_type && strncmp(req->content_type, "application/vnd.kubernetes.protobuf", 35) == 0)
		return handlers_decode_protobuf(req->body, req->body_len, &o, st) < 0 ? NULL : o;
	if (is_yaml(req->content_type)) {
		if (yaml_to_json(req->body ? req->body : "", req->body_len, &o, &yerr) < 0) {
			api_status_bad_request(st, "%s", yerr ? yerr : "error converting YAML to JSON");
			free(yerr);
			return NULL;
		}
		/* A document of just "null" (or "~") converts to no object at all. */
		if (!o)
			api_status_bad_request(st, "Object 'Kind' is missing in '%.*s'", (int)(req->body_len > 64 ? 64 : req->body_len),
					       req->body ? req->body : "");
		return o;
	}
	o = json_parse_buffer(req->body ? req->body : "", req->body_len, &err);
	if (!o)
		api_status_bad_request(st, "couldn't get version/kind; json parse error: %s",
				       err ? err : "the body is JSON null, not an object");
	return o;
}

int handlers_decode_body(const struct api_request *req, const char *expect_kind, json_object **ret,
			 struct api_status *st)
{
	json_object *o;
	const char *kind;
	int shown = req->body_len > 1024 ? 1024 : (int)req->body_len;

	if (req->body_len == 0) {
		api_status_bad_request(st, "Object 'Kind' is missing in ''");
		return -EINVAL;
	}
	o = parse_body(req, st);
	if (!o)
		return -EINVAL;
	if (!json_object_is_type(o, json_type_object)) {
		api_status_bad_request(st, "couldn't get version/kind; json parse error: json: cannot unmarshal %s "
					   "into Go value of type struct",
				       json_type_to_name(json_object_get_type(o)));
		json_object_put(o);
		return -EINVAL;
	}
	kind = json_get_string(o, "kind");
	if (!kind || !kind[0]) {
		api_status_bad_request(st, "Object 'Kind' is missing in '%.*s'", shown, req->body);
		json_object_put(o);
		return -EINVAL;
	}
	if (expect_kind && strcmp(kind, expect_kind) != 0) {
		api_status_bad_request(st, "%s in version \"%s\" cannot be handled as a %s: the body's kind does not "
					   "match the resource",
				       kind, json_get_string(o, "apiVersion") ? json_get_string(o, "apiVersion") : "",
				       expect_kind);
		json_object_put(o);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}
