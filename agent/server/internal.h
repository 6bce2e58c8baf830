/* Shared by the agent endpoint's files: server.c (daemon, TLS, auth, routing), logs.c
 * (/containerLogs) and exec.c (/exec). */
#ifndef SKIFF_AGENT_SERVER_INTERNAL_H
#define SKIFF_AGENT_SERVER_INTERNAL_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "pods/runtime.h"

struct agent_request {
	struct MHD_Connection *conn;
	struct pod_runtime *rt;
	const char *ns, *pod, *container, *uid;
	const char *body; /* exec: the command's stdin */
	size_t body_len;
	int client_fd; /* the connection's socket: a stream ends when the client hangs up */
	int stop_fd;   /* readable once the server stops */
};

/* A Status JSON answer (kind Status, status Failure, reason, message, code). */
struct MHD_Response *agent_status_response(int code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A query parameter (NULL when absent); a boolean one ("true"/"1"). */
const char *agent_query(const struct agent_request *req, const char *key);
bool agent_query_bool(const struct agent_request *req, const char *key);

/* The pod's runtime state when its uid, namespace and name all match the request, and the
 * container's spec in it (borrowed). Otherwise *ret_resp and *ret_code are the error to send
 * (404 for the pod, 400 as the kubelet words an unknown container) and -ENOENT returned. */
int agent_pod_lookup(const struct agent_request *req, json_object **ret_state, json_object **ret_spec,
		     struct MHD_Response **ret_resp, unsigned *ret_code);

/* Sleeps up to timeout_ms; true when the client has hung up or the server stops. */
bool agent_stream_cancelled(const struct agent_request *req, int timeout_ms);

/* Each fills *ret_resp and *ret_code (an error is a Status answer). 0 or -ENOMEM. */
int agent_logs_serve(const struct agent_request *req, struct MHD_Response **ret_resp, unsigned *ret_code);
int agent_exec_serve(const struct agent_request *req, struct MHD_Response **ret_resp, unsigned *ret_code);

#endif
