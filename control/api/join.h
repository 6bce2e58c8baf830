/* Node joining over the API port, outside the Kubernetes API paths:
 *   GET  /skiff/v1/cluster-info  (no credentials) {"ca": PEM}: what a joining agent pins after
 *        checking its SHA-256 against the hash printed with the bootstrap token;
 *   POST /skiff/v1/join  (Authorization: Bearer <bootstrap token>, body {"nodeName": "n1"})
 *        {"token": ..., "user": "system:node:n1"}: the node's own credential, once per token. */
#ifndef SKIFF_API_JOIN_H
#define SKIFF_API_JOIN_H

#include <stdbool.h>
#include <stddef.h>

#include "api/auth.h"
#include "api/handlers.h"

#define JOIN_PATH_CLUSTER_INFO "/skiff/v1/cluster-info"
#define JOIN_PATH_JOIN "/skiff/v1/join"

struct join_ctx {
	const char *data_dir;
	const char *ca_pem;
	struct auth *auth;
};

bool join_path(const char *url);
/* Answers a request for one of the paths above (resp as handlers fill it). */
void join_handle(const struct join_ctx *ctx, const char *method, const char *url, const char *authorization,
		 const char *body, size_t body_len, struct api_response *resp);

#endif
