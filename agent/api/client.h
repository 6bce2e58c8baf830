/* The agent's HTTPS client for the API server (libcurl): bearer token, the cluster's CA,
 * JSON in and out, failover between the servers of one cluster. Safe to share between threads
 * (requests are serialized). */
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

/* server: https://host:port, or a comma list of the servers of one cluster (one CA, one
 * credential); ca_pem: NULL for the system trust store; token may be NULL. NULL with errno set
 * on failure (EINVAL: an empty list or entry).
 *
 * Failover: every request goes to the current server; when it gives no HTTP answer (refused,
 * timeout, TLS failure, reset) or answers 502/503/504, the next servers are tried in turn (each
 * once), and the first that answers becomes current (logged once per switch). Any other answer
 * (4xx, 500) is the cluster's and is returned as is. */
struct api_client *api_client_new(const char *server, const char *ca_pem, const char *token);
/* A second client (own connection, own request lock) sharing c's servers, credentials and
 * current server: a switch seen by one moves all. NULL with errno set. */
struct api_client *api_client_dup(struct api_client *c);
void api_client_free(struct api_client *c);

/* Per-request time limit in seconds (default 30; streams have none). */
void api_client_set_timeout(struct api_client *c, long seconds);

/* Splits a comma list of server URLs (spaces around entries and a trailing slash dropped):
 * 0 with *ret (a NULL-terminated array; free with api_server_list_free) and *ret_n, or -EINVAL
 * for an empty list or entry, -ENOMEM. */
int api_server_list_parse(const char *list, char ***ret, size_t *ret_n);
void api_server_list_free(char **list);

/* Bumped whenever the current server changes: a stream opened at one generation is on a server
 * the client has left once this differs. */
unsigned api_client_generation(struct api_client *c);

/* Points an easy handle at the current server+path with the client's CA and token;
 * *ret_headers (caller frees with curl_slist_free_all) carries Authorization and Accept. For
 * streams (watch). */
int api_client_setup(struct api_client *c, CURL *h, const char *path, struct curl_slist **ret_headers);

/* One request (failing over, see api_client_new). Returns the HTTP status (>= 100) once a
 * response came, whatever it says, or -errno when no server gave one (-ECONNREFUSED,
 * -ETIMEDOUT, -EPROTO for TLS, -ECONNRESET, -EHOSTUNREACH, -EIO). *ret_body (optional) is the
 * parsed JSON response or NULL; it is set whenever a status is returned. */
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
