/* The agent endpoint's daemon (see server.h): TLS with a requested client certificate checked
 * against the cluster CA and the API server's name, request bodies, routing to logs.c and
 * exec.c, and the helpers they share (internal.h). */
#include "server/server.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <skiff/agent_proto.h>
#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>
#include <skiff/sockaddr.h>

#include "pods/exec.h"
#include "server/internal.h"

#define MAX_BODY (1u << 20) /* exec stdin */

struct agent_server {
	struct MHD_Daemon *mhd;
	struct pod_runtime *rt;
	char *cert_pem, *key_pem, *ca_pem, *client_cn;
	int stop_fd;
};

struct request_ctx {
	char *body;
	size_t len;
	bool too_large;
};

/* --- helpers of internal.h ----------------------------------------------------------------- */

struct MHD_Response *agent_status_response(int code, const char *reason, const char *fmt, ...)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_free_ char *msg = NULL;
	struct MHD_Response *resp;
	const char *s;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!o || !msg)
		return NULL;
	json_object_object_add(o, "kind", json_object_new_string("Status"));
	json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "status", json_object_new_string("Failure"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "code", json_object_new_int(code));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	resp = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return resp;
}

const char *agent_query(const struct agent_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool agent_query_bool(const struct agent_request *req, const char *key)
{
	const char *v = agent_query(req, key);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static json_object *spec_container(json_object *pod, const char *name)
{
	static const char *const lists[] = { "spec.containers", "spec.initContainers" };

	for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
		json_object *arr = json_get_path(pod, lists[l]);

		for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
			if (strcmp(json_get_string(json_object_array_get_idx(arr, i), "name") ?: "", name) == 0)
				return json_object_array_get_idx(arr, i);
	}
	return NULL;
}

int agent_pod_lookup(const struct agent_request *req, json_object **ret_state, json_object **ret_spec,
		     struct MHD_Response **ret_resp, unsigned *ret_code)
{
	json_object *state = NULL, *pod, *spec;

	if (req->uid && pod_exec_state(req->rt, req->uid, &state) >= 0) {
		pod = json_get_path(state, "pod");
		if (strcmp(json_get_string(pod, "metadata.namespace") ?: "", req->ns) != 0 ||
		    strcmp(json_get_string(pod, "metadata.name") ?: "", req->pod) != 0) {
			json_object_put(state);
			state = NULL;
		}
	}
	if (!state) {
		*ret_code = 404;
		*ret_resp = agent_status_response(404, "NotFound", "pod \"%s\" (uid %s) is not running on this node",
						  req->pod, req->uid ? req->uid : "none given");
		return -ENOENT;
	}
	spec = spec_container(json_get_path(state, "pod"), req->container);
	if (!spec) {
		json_object_put(state);
		*ret_code = 400;
		*ret_resp = agent_status_response(400, "BadRequest", "container %s is not valid for pod %s",
						  req->container, req->pod);
		return -ENOENT;
	}
	*ret_state = state;
	*ret_spec = spec;
	return 0;
}

bool agent_stream_cancelled(const struct agent_request *req, int timeout_ms)
{
	struct pollfd fds[2] = { { .fd = req->stop_fd, .events = POLLIN },
				 { .fd = req->client_fd, .events = POLLRDHUP } };

	if (poll(fds, req->client_fd >= 0 ? 2 : 1, timeout_ms) <= 0)
		return false;
	return (fds[0].revents & POLLIN) || (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* --- the daemon ------------------------------------------------------------------------------ */

/* Only the API server: a client certificate that chains to the cluster CA and carries its name. */
static bool client_allowed(struct agent_server *s, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = ci ? (gnutls_session_t)ci->tls_session : NULL;
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t crt = NULL;
	unsigned status = 0, n = 0;
	char cn[256];
	size_t cn_len = sizeof(cn);
	bool ok = false;

	if (!session || gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0)
		return false;
	peers = gnutls_certificate_get_peers(session, &n);
	if (!peers || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_len) >= 0)
		ok = strcmp(cn, s->client_cn) == 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* "/containerLogs/NS/POD/CONTAINER" or "/exec/NS/POD/CONTAINER" into req; the kind or NULL. */
static const char *route(char *path, struct agent_request *req)
{
	char *seg[5], *save = NULL;
	size_t n = 0;

	for (char *p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == 4)
			return NULL;
		seg[n++] = p;
	}
	if (n != 4)
		return NULL;
	req->ns = seg[1];
	req->pod = seg[2];
	req->container = seg[3];
	return seg[0];
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned code, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(struct agent_server *s, struct MHD_Connection *conn, const char *url, const char *method,
			      struct request_ctx *rc)
{
	const union MHD_ConnectionInfo *fdi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct agent_request req = { .conn = conn, .rt = s->rt, .body = rc->body, .body_len = rc->len,
				     .client_fd = fdi ? fdi->connect_fd : -1, .stop_fd = s->stop_fd };
	_cleanup_free_ char *path = strdup(url);
	struct MHD_Response *resp = NULL;
	unsigned code = 500;
	const char *kind;

	if (!path)
		return MHD_NO;
	if (!client_allowed(s, conn))
		return answer(conn, 401, agent_status_response(401, "Unauthorized",
							       "this endpoint serves only the API server's client certificate"));
	if (rc->too_large)
		return answer(conn, 413, agent_status_response(413, "RequestEntityTooLarge", "stdin over %u bytes", MAX_BODY));
	req.uid = agent_query(&req, "uid");
	kind = route(path, &req);
	if (kind && strcmp(kind, "containerLogs") == 0 && strcmp(method, "GET") == 0) {
		if (agent_logs_serve(&req, &resp, &code) < 0)
			return MHD_NO;
	} else if (kind && strcmp(kind, "exec") == 0 && (strcmp(method, "POST") == 0 || strcmp(method, "GET") == 0)) {
		if (agent_exec_serve(&req, &resp, &code) < 0)
			return MHD_NO;
	} else {
		code = 404;
		resp = agent_status_response(404, "NotFound", "the agent serves /containerLogs/NS/POD/CONTAINER and "
							      "/exec/NS/POD/CONTAINER, not %s %s", method, url);
	}
	log_debug("agent endpoint: %s %s -> %u", method, url, code);
	return answer(conn, code, resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct request_ctx *rc = *con_cls;

	(void)version;
	if (!rc) {
		rc = calloc(1, sizeof(*rc));
		*con_cls = rc;
		return rc ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		if (rc->too_large || rc->len + *upload_size > MAX_BODY) {
			rc->too_large = true;
		} else {
			char *b = realloc(rc->body, rc->len + *upload_size + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + rc->len, upload, *upload_size);
			rc->body = b;
			rc->len += *upload_size;
			b[rc->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return handle(cls, conn, url, method, rc);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request_ctx *rc = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rc) {
		free(rc->body);
		free(rc);
		*con_cls = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("agent endpoint: %s", line);
}

void agent_server_stop(struct agent_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->stop_fd >= 0 && write(s->stop_fd, &one, sizeof(one)) < 0)
		log_debug_errno(-errno, "agent endpoint: wake streams: %m");
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s->cert_pem);
	free(s->key_pem);
	free(s->ca_pem);
	free(s->client_cn);
	free(s);
}

static int start_daemon(struct agent_server *s, const struct agent_server_config *cfg)
{
	unsigned flags = MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;
	bool v6;

	if (sockaddr_from_ip(cfg->address, cfg->port, &ss, NULL, &v6) < 0)
		return log_error_errno(-EINVAL, "agent endpoint: --address %s is no numeric IP address", cfg->address);
	if (v6)
		flags |= MHD_USE_IPv6;
	s->mhd = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
				  MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
				  MHD_OPTION_HTTPS_MEM_TRUST, s->ca_pem,
				  MHD_OPTION_CONNECTION_LIMIT, 256u,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				  MHD_OPTION_END);
	if (!s->mhd)
		return log_error_errno(-(errno ?: EADDRINUSE), "agent endpoint: listening on %s:%u: %m", cfg->address,
				       cfg->port);
	return 0;
}

struct agent_server *agent_server_start(const struct agent_server_config *cfg)
{
	struct agent_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return NULL;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->rt = cfg->rt;
	if (!cfg->client_ca_pem || !*cfg->client_ca_pem) {
		r = log_error_errno(-EINVAL, "agent endpoint: no cluster CA to check the API server's certificate with");
		goto fail;
	}
	s->ca_pem = strdup(cfg->client_ca_pem);
	s->client_cn = strdup(cfg->client_cn ? cfg->client_cn : AGENT_PROTO_CLIENT_CN);
	if (s->stop_fd < 0 || !s->ca_pem || !s->client_cn) {
		r = -errno;
		goto fail;
	}
	r = agent_server_cert_ensure(cfg->cert_dir, cfg->node_name, &s->cert_pem, &s->key_pem);
	if (r >= 0)
		r = start_daemon(s, cfg);
	if (r < 0)
		goto fail;
	log_info("agent endpoint: serving logs and exec on https://%s:%u", cfg->address, agent_server_port(s));
	return s;
fail:
	agent_server_stop(s);
	errno = -r;
	return NULL;
}

unsigned agent_server_port(const struct agent_server *s)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return di ? di->port : 0;
}
