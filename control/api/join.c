/* The join endpoints (see join.h): a bootstrap token is traded once for a node token, which
 * the authenticator learns at once and the data dir keeps for restarts. */
#include "api/join.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <strings.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "api/tokens.h"

bool join_path(const char *url)
{
	return strcmp(url, JOIN_PATH_CLUSTER_INFO) == 0 || strcmp(url, JOIN_PATH_JOIN) == 0;
}

static const char *node_name_of(const char *body, size_t len, json_object **ret_obj)
{
	json_tokener *tok = json_tokener_new();
	json_object *name;

	*ret_obj = tok && body ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	json_tokener_free(tok);
	if (!*ret_obj || !json_object_object_get_ex(*ret_obj, "nodeName", &name) ||
	    !json_object_is_type(name, json_type_string))
		return NULL;
	return json_object_get_string(name);
}

static void join(const struct join_ctx *ctx, const char *authorization, const char *body, size_t body_len,
		 struct api_response *resp, struct api_status *st)
{
	_cleanup_free_ char *token = NULL;
	char hash[TOKEN_HASH_HEX];
	json_object *req = NULL;
	struct store *store;
	const char *node, *reason;
	int r;

	node = node_name_of(body, body_len, &req);
	if (!node || !node_name_valid(node)) {
		api_status_bad_request(st, "join: the body must be {\"nodeName\": NAME}, NAME a lowercase DNS-1123 subdomain");
		goto out;
	}
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) {
		api_status_set(st, 401, "Unauthorized", "join: a bootstrap token is required (skiffctl token create)");
		goto out;
	}
	/* With a shared store the token may come from any instance; a file token still works here. */
	store = auth_store(ctx->auth);
	r = store ? bootstrap_token_consume_in(store, authorization + 7, &reason) : -ENOENT;
	if (r == -ENOENT)
		r = bootstrap_token_consume(ctx->data_dir, authorization + 7, &reason);
	if (r < 0) {
		log_warn("join of node %s refused: %s", node, reason);
		api_status_set(st, 401, "Unauthorized", "join: %s", reason);
		goto out;
	}
	r = store ? node_token_issue_in(store, node, &token, hash) : node_token_issue(ctx->data_dir, node, &token, hash);
	if (r >= 0)
		r = auth_add_node(ctx->auth, node, hash);
	if (r < 0) {
		api_status_internal(st, r, "issuing the node token");
		goto out;
	}
	log_info("node %s joined with a bootstrap token", node);
	resp->code = 200;
	resp->json = json_object_new_object();
	json_object_object_add(resp->json, "token", json_object_new_string(token));
	json_object_object_add(resp->json, "node", json_object_new_string(node));
	explicit_bzero(token, strlen(token));
out:
	json_object_put(req);
}

void join_handle(const struct join_ctx *ctx, const char *method, const char *url, const char *authorization,
		 const char *body, size_t body_len, struct api_response *resp)
{
	struct api_status st = { 0 };
	bool info = strcmp(url, JOIN_PATH_CLUSTER_INFO) == 0;

	if (strcmp(method, info ? "GET" : "POST") != 0)
		api_status_set(&st, 405, "MethodNotAllowed", "%s %s is not supported", method, url);
	else if (info) {
		resp->code = 200;
		resp->json = json_object_new_object();
		json_object_object_add(resp->json, "ca", json_object_new_string(ctx->ca_pem));
	} else
		join(ctx, authorization, body, body_len, resp, &st);
	if (st.code)
		handlers_status(resp, &st);
	api_status_clear(&st);
}
