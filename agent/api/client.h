/* The agent's HTTPS client for the API server (libcurl): bearer token, the cluster's CA,
 * JSON in and out. Safe to share between threads (requests are serialized). */
#ifndef SKIFF_AGENT_API_CLIENT_H
#define SKIFF_AGENT_API_CLIENT_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>

struct api_client;

enum api_patch_type {
	API_PATCH_MERGE,     /* application/merge-patch+json */
	API_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
	API_PATCH_JSON,      /* application/json-patch+json */
};

/* server: https://host:port; ca_pem: NULL for the system trust store; token may be NULL.
 * NULL with errno set on failure. */
struct api_client *api_client_new(const char *server, const char *ca_pem, const char *token);
void api_client_free(struct api_client *c);

/* Points an easy handle at server+path with the client's CA and token; *ret_headers (caller
 * frees with curl_slist_free_all) carries Authorization and Accept. For streams (watch). */
int api_client_setup(struct api_client *c, CURL *h, const char *path, struct curl_slist **ret_headers);

/* One request. Returns the HTTP status (>= 100) once a response came, whatever it says, or
 * -errno when none did (connect, TLS, timeout). *ret_body (optional) is the parsed JSON
 * response or NULL; it is set whenever a status is returned. */
int api_request(struct api_client *c, const char *method, const char *path, const char *content_type,
		json_object *body, json_object **ret_body);

int api_get(struct api_client *c, const char *path, json_object **ret_body);
/* POST to a collection path. */
int api_create(struct api_client *c, const char *path, json_object *obj, json_object **ret_body);
/* PUT to an object path (or its /status). */
int api_update(struct api_client *c, const char *path, json_object *obj, json_object **ret_body);
int api_patch(struct api_client *c, const char *path, enum api_patch_type type, json_object *patch,
	      json_object **ret_body);
/* DELETE with optional DeleteOptions body. */
int api_delete(struct api_client *c, const char *path, json_object *options, json_object **ret_body);

static inline bool api_status_ok(int status)
{
	return status >= 200 && status < 300;
}

/* The message of a Status body, or a fallback naming the status code. Borrowed or static. */
const char *api_error_message(json_object *body);

#endif
