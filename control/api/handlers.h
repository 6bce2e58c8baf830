/* The glue between HTTP and the registry: one routed, authenticated request in, one
 * answer out (JSON, Table, plain text or a watch stream). Shared by handlers*.c. */
#ifndef SKIFF_API_HANDLERS_H
#define SKIFF_API_HANDLERS_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/auth.h"
#include "api/registry.h"
#include "api/router.h"
#include "api/status.h"

struct api_request {
	struct MHD_Connection *conn;
	struct registry *reg;
	const struct route *rt;
	const struct auth_identity *who;
	const char *accept;
	const char *content_type;
	const char *body;
	size_t body_len;
	bool ready;  /* store open and registry up: /readyz says ok */
	int stop_fd; /* readable when the server shuts down (ends watch streams) */
};

struct api_response {
	int code;
	json_object *json;          /* owned; sent as content_type (default application/json) */
	const char *content_type;   /* static */
	const char *text;           /* static plain-text body, instead of json */
	struct MHD_Response *stream; /* a watch: sent as it is */
};

/* Fills resp for any routed request; never fails (errors become Status answers). */
void handlers_dispatch(const struct api_request *req, struct api_response *resp);

/* Sets resp to the Status st (st is left as it was). */
void handlers_status(struct api_response *resp, const struct api_status *st);
void handlers_resources(const struct api_request *req, struct api_response *resp);

/* Query parameters (handlers_params.c). Each returns 0 or -EINVAL with *st a 400. */
const char *handlers_query(const struct api_request *req, const char *key);
int handlers_list_options(const struct api_request *req, struct list_options *lo, int *ret_timeout_s,
			  struct api_status *st);
int handlers_write_options(const struct api_request *req, struct write_options *wo, struct api_status *st);
/* DeleteOptions from the query and the (optional) JSON body; strings borrow from req
 * and *ret_body (which the caller puts). */
int handlers_delete_options(const struct api_request *req, struct delete_options *d, json_object **ret_body,
			    struct api_status *st);
/* The request body as JSON (or YAML) whose kind must be expect_kind. */
int handlers_decode_body(const struct api_request *req, const char *expect_kind, json_object **ret,
			 struct api_status *st);
/* A Kubernetes protobuf body (application/vnd.kubernetes.protobuf) as JSON; only the kinds
 * kubectl's typed client creates (Namespace). -EOPNOTSUPP (415) for others. */
int handlers_decode_protobuf(const char *body, size_t len, json_object **ret, struct api_status *st);

#endif
