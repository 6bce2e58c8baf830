/* kubectl logs and exec reach the agent that runs the pod through here: which container and
 * node, where the node's agent listens (InternalIP, daemonEndpoints.kubeletEndpoint.Port), and
 * libcurl requests to it with the API server's client certificate, read as a stream. */
#ifndef SKIFF_API_POD_PROXY_H
#define SKIFF_API_POD_PROXY_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/handlers.h"
#include "api/registry.h"
#include "api/status.h"

/* Makes (once) <data_dir>/apiserver-kubelet-client.{crt,key}, a client certificate signed by
 * the cluster CA with the name agents accept, and uses it for every agent request after.
 * Without it pods/log and pods/exec answer 503. 0 or -errno. */
int pod_proxy_init(const char *data_dir);

struct pod_target {
	char *base;      /* "https://IP:PORT" of the node's agent */
	char *uid;       /* the pod's */
	char *container; /* the one asked for, or the pod's only (or default) one */
	json_object *pod;
};

/* The pod, its container and its agent. what ("logs", "exec") goes into messages. Errors as
 * Kubernetes gives them: 404 pod, 400 container name needed or unknown, 400 not yet bound,
 * 503 node without an address or no client certificate. */
int pod_proxy_resolve(struct registry *reg, const char *ns, const char *name, const char *container,
		      struct pod_target *ret, struct api_status *st);
void pod_target_done(struct pod_target *t);

/* A request to the agent read as it arrives (curl's multi interface, so a reader can wait on
 * it with other fds). */
struct proxy_stream {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	char *buf;             /* body bytes received and not taken yet */
	size_t len, cap;
	bool paused, done;
	CURLcode result;
	char error[CURL_ERROR_SIZE];
};

/* Starts url (POST with body when body is not NULL). 0 or -ENOMEM. */
int proxy_stream_start(struct proxy_stream *ps, const char *url, const char *body, size_t body_len);
/* Waits up to timeout_ms for body bytes or the end (also on extra_fd, when >= 0, becoming
 * readable or hung up: *ret_extra is then set). 0 or -EIO. */
int proxy_stream_pump(struct proxy_stream *ps, int timeout_ms, int extra_fd, bool *ret_extra);
/* Takes n bytes from the front of the buffer (resumes a transfer paused on a full buffer). */
void proxy_stream_consume(struct proxy_stream *ps, size_t n);
/* The agent's HTTP status (0 until its headers arrived). */
long proxy_stream_code(struct proxy_stream *ps);
void proxy_stream_done(struct proxy_stream *ps);

/* The pods/log and pods/exec handlers (pod_log.c, pod_exec.c); Status errors in st. */
int handlers_pod_log(const struct api_request *req, struct api_response *resp, struct api_status *st);
int handlers_pod_exec(const struct api_request *req, struct api_response *resp, struct api_status *st);

#endif
