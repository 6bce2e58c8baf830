/* Joining a cluster (see join.h). The CA is fetched without verification and then pinned by
 * its hash, as kubeadm's token discovery does: a man in the middle cannot produce a CA with the
 * operator's hash, so everything after that check is authenticated. */
#include "api/join.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "api/certs.h"
#include "api/client.h"
#include "api/tokens.h"

#define INFO_MAX (64 * 1024)
#define CREDENTIAL_FILE "node.kubeconfig"
#define JOIN_PATIENCE_S 120 /* how long a join waits for a server that does not answer */

char *join_credential_path(const char *root_dir)
{
	char *p;

	return asprintf(&p, "%s/" CREDENTIAL_FILE, root_dir) < 0 ? NULL : p;
}

struct sink {
	char buf[INFO_MAX];
	size_t len;
};

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (s->len + n >= sizeof(s->buf))
		return 0;
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* The CA the server offers, accepted only when its hash is ca_hash. */
static int fetch_ca(const char *server, const char *ca_hash, char **ret_pem)
{
	_cleanup_free_ char *url = NULL;
	_cleanup_free_ struct sink *s = calloc(1, sizeof(*s));
	json_object *info = NULL, *ca;
	char hash[CA_HASH_LEN];
	CURL *h = curl_easy_init();
	CURLcode cc = CURLE_FAILED_INIT;
	int r = -EPROTO;

	if (!s || !h || asprintf(&url, "%s/skiff/v1/cluster-info", server) < 0) {
		r = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* checked by hash below */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L); /* the next server is tried sooner */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		log_warn("join: %s: %s", url, curl_easy_strerror(cc));
		r = -ECONNREFUSED;
		goto out;
	}
	info = json_tokener_parse(s->buf);
	if (!info || !json_object_object_get_ex(info, "ca", &ca) || !json_object_is_type(ca, json_type_string) ||
	    ca_cert_hash(json_object_get_string(ca), hash) < 0) {
		log_error("join: %s did not answer with a CA certificate", url);
		goto out;
	}
	if (strcmp(hash, ca_hash) != 0) {
		log_error("join: the server's CA hash is %s, not %s: refusing to trust %s", hash, ca_hash, server);
		r = -EPERM;
		goto out;
	}
	*ret_pem = strdup(json_object_get_string(ca));
	r = *ret_pem ? 0 : -ENOMEM;
out:
	json_object_put(info);
	if (h)
		curl_easy_cleanup(h);
	return r;
}

static int request_token(const char *server, const char *ca_pem, const char *bootstrap, const char *node,
			 char **ret_token)
{
	struct api_client *c = api_client_new(server, ca_pem, bootstrap);
	json_object *body = json_object_new_object(), *resp = NULL, *tok;
	int st, r = -EACCES;

	if (!c || !body) {
		r = -ENOMEM;
		goto out;
	}
	json_object_object_add(body, "nodeName", json_object_new_string(node));
	st = api_request(c, "POST", "/skiff/v1/join", "application/json", body, &resp);
	if (st < 0) {
		r = st;
		log_error_errno(r, "join: POST %s/skiff/v1/join: %m", server);
	} else if (!api_status_ok(st) || !json_object_object_get_ex(resp, "token", &tok)) {
		log_error("join refused (%d): %s (make a new one with skiffctl token create)", st, api_error_message(resp));
	} else {
		*ret_token = strdup(json_object_get_string(tok));
		r = *ret_token ? 0 : -ENOMEM;
	}
out:
	json_object_put(body);
	json_object_put(resp);
	api_client_free(c);
	return r;
}

static bool worth_waiting(int r)
{
	return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EHOSTUNREACH || r == -ECONNRESET || r == -EAGAIN;
}

/* The CA and the node's token from the first of the servers that answers. */
static int join_one_of(char **servers, const char *bootstrap_token, const char *ca_hash, const char *node,
		       char **ret_ca, char **ret_token)
{
	int r = -ECONNREFUSED;

	for (size_t i = 0; servers[i]; i++) {
		free(*ret_ca);
		*ret_ca = NULL;
		r = fetch_ca(servers[i], ca_hash, ret_ca);
		if (r >= 0)
			r = request_token(servers[i], *ret_ca, bootstrap_token, node, ret_token);
		/* A refusal (wrong hash, used or expired token) is the cluster's answer: final. */
		if (r >= 0 || !worth_waiting(r))
			return r;
	}
	return r;
}

int join_cluster(const char *server, const char *bootstrap_token, const char *ca_hash, const char *node,
		 const char *root_dir)
{
	_cleanup_free_ char *path = join_credential_path(root_dir), *ca = NULL, *token = NULL, *yaml = NULL,
			    *user = NULL;
	char **servers = NULL;
	size_t n = 0;
	int r;

	if (!path)
		return -ENOMEM;
	if (access(path, R_OK) == 0)
		return 0;
	if (!bootstrap_token || !ca_hash)
		return log_error_errno(-EINVAL, "--join needs --token (skiffctl token create) and --ca-cert-hash sha256:...");
	r = api_server_list_parse(server, &servers, &n);
	if (r < 0)
		return log_error_errno(r, "--join \"%s\": expected https://HOST:PORT[,https://HOST:PORT...]", server);
	if (mkdir(root_dir, 0700) < 0 && errno != EEXIST) {
		r = log_error_errno(-errno, "root dir %s: %m", root_dir);
		goto out;
	}
	/* A server that is not up yet (or too busy to answer) is waited for, as registration does. */
	for (unsigned wait = 1, waited = 0;; waited += wait, wait = wait < 8 ? wait * 2 : 8) {
		r = join_one_of(servers, bootstrap_token, ca_hash, node, &ca, &token);
		if (r >= 0 || !worth_waiting(r) || waited >= JOIN_PATIENCE_S)
			break;
		log_info("join: %s not answering yet, again in %u s", server, wait);
		sleep(wait);
	}
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (asprintf(&user, "system:node:%s", node) < 0)
		goto out;
	/* The whole list: the agent fails over between the servers it joined. */
	r = kubeconfig_render(server, ca, user, token, &yaml);
	explicit_bzero(token, strlen(token));
	if (r >= 0)
		r = certs_file_write(root_dir, CREDENTIAL_FILE, yaml, 0600);
	if (r < 0) {
		log_error_errno(r, "join: writing %s: %m", path);
		goto out;
	}
	log_info("joined %s as %s; credential in %s", server, user, path);
out:
	api_server_list_free(servers);
	return r;
}
