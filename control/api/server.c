/* libmicrohttpd lifecycle and the per-request path: body accumulation, routing, auth,
 * dispatch to the handlers, and turning their answer into an HTTP response. */
#include "api/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <skiff/log.h>
#include <skiff/sockaddr.h>

#include "api/authz.h"
#include "api/handlers.h"
#include "api/join.h"
#include "api/pod_proxy.h"
#include "api/router.h"

struct server {
	struct server_config cfg;
	struct MHD_Daemon *mhd;
	atomic_bool ready;
	int stop_fd;
};

/* One per request (MHD's con_cls): the body as it arrives. */
struct request_ctx {
	char *body;
	size_t len, cap;
	bool too_large;
	atomic_uint *inflight; /* the identity's counter this request holds, released on completion */
};

static int body_append(struct request_ctx *rc, const char *data, size_t n, size_t limit)
{
	if (rc->too_large || rc->len + n > limit) {
		/* Keep reading so the client gets the 413, but keep nothing. */
		rc->too_large = true;
		free(rc->body);
		rc->body = NULL;
		rc->len = rc->cap = 0;
		return 0;
	}
	if (rc->len + n + 1 > rc->cap) {
		size_t cap = rc->cap ? rc->cap * 2 : 4096;
		char *b;

		while (cap < rc->len + n + 1)
			cap *= 2;
		b = realloc(rc->body, cap);
		if (!b)
			return -ENOMEM;
		rc->body = b;
		rc->cap = cap;
	}
	memcpy(rc->body + rc->len, data, n);
	rc->len += n;
	rc->body[rc->len] = '\0';
	return 0;
}

static enum MHD_Result queue_json(struct MHD_Connection *conn, int code, json_object *o, const char *ctype)
{
	size_t len = 0;
	const char *s = o ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
							     &len)
			  : "";
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)s, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype ? ctype : "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-cache, private");
	if (code == 429)
		MHD_add_response_header(r, "Retry-After", "1");
	ret = MHD_queue_response(conn, (unsigned)code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result queue_status(struct MHD_Connection *conn, const struct api_status *st)
{
	json_object *o = api_status_to_json(st);
	enum MHD_Result ret = queue_json(conn, st->code ? st->code : 500, o, "application/json");

	if (o)
		json_object_put(o);
	return ret;
}

static enum MHD_Result queue_answer(struct MHD_Connection *conn, struct api_response *a)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (a->stream) {
		r = a->stream;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
		MHD_add_response_header(r, "Cache-Control", "no-cache, private");
		ret = MHD_queue_response(conn, (unsigned)a->code, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (a->text) {
		r = MHD_create_response_from_buffer(strlen(a->text), (void *)a->text, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
		ret = MHD_queue_response(conn, (unsigned)a->code, r);
		MHD_destroy_response(r);
		return ret;
	}
	ret = queue_json(conn, a->code, a->json, a->content_type);
	if (a->json)
		json_object_put(a->json);
	return ret;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The watch flag decides the verb, so it is checked before routing. */
static int watch_flag(struct MHD_Connection *conn, bool *ret, struct api_status *st)
{
	const char *w = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "watch");

	*ret = false;
	if (!w || !w[0] || strcmp(w, "false") == 0 || strcmp(w, "0") == 0)
		return 0;
	if (strcmp(w, "true") == 0 || strcmp(w, "1") == 0) {
		*ret = true;
		return 0;
	}
	api_status_bad_request(st, "invalid value for watch: \"%s\": expected true or false", w);
	return -EINVAL;
}

static int pod_node(void *ud, const char *ns, const char *name, char **ret)
{
	json_object *pod = NULL, *spec, *node;
	struct api_status st = { 0 };
	int r;

	*ret = NULL;
	r = registry_get(ud, resource_by_name("pods"), ns, name, NULL, &pod, &st);
	api_status_clear(&st);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(pod, "spec", &spec) && json_object_object_get_ex(spec, "nodeName", &node) &&
	    json_object_is_type(node, json_type_string))
		*ret = strdup(json_object_get_string(node));
	json_object_put(pod);
	return 0;
}

/* Authorization, then the identity's in-flight bound: 429 with Retry-After rather than a queue
 * without limit. The counter taken is released when the request completes (watch streams too). */
static int admit(struct server *srv, const struct route *rt, const struct auth_identity *who,
		 struct request_ctx *rc, struct api_status *st)
{
	const struct authz_input in = { rc->body, rc->len, srv->cfg.reg, pod_node };
	bool watch = rt->verb == VERB_WATCH;
	unsigned max = watch ? srv->cfg.max_watches_inflight : srv->cfg.max_requests_inflight;
	atomic_uint *c;

	if (authz_check(who, rt, &in, st) < 0)
		return -EACCES;
	if (!who->load || !max)
		return 0;
	c = watch ? &who->load->watches : &who->load->requests;
	if (atomic_fetch_add(c, 1) >= max) {
		atomic_fetch_sub(c, 1);
		api_status_set(st, 429, "TooManyRequests", "Too many requests from %s in flight (limit %u%s), please try again later",
			       who->user, max, watch ? " watches" : "");
		return -EBUSY;
	}
	rc->inflight = c;
	return 0;
}

static enum MHD_Result handle(struct server *srv, struct MHD_Connection *conn, const char *url, const char *method,
			      struct request_ctx *rc)
{
	struct api_status st = { 0 };
	struct api_response answer = { 0 };
	struct auth_identity who = { 0 };
	struct route rt;
	enum MHD_Result ret;
	char *path = strdup(url);
	bool watch;

	if (!path)
		return MHD_NO;
	if (rc->too_large) {
		api_status_set(&st, 413, "RequestEntityTooLarge", "Request entity too large: limit is %zu",
			       srv->cfg.max_body_bytes);
		goto fail;
	}
	if (join_path(path)) {
		const struct join_ctx jc = { srv->cfg.data_dir, srv->cfg.ca_pem, srv->cfg.auth };

		join_handle(&jc, method, path, header(conn, MHD_HTTP_HEADER_AUTHORIZATION), rc->body, rc->len, &answer);
		ret = queue_answer(conn, &answer);
		free(path);
		return ret;
	}
	if (watch_flag(conn, &watch, &st) < 0)
		goto fail;
	if (router_match(method, path, watch, &rt, &st) < 0) {
		/* Unknown paths must not tell a stranger what exists: authenticate first. */
		if (auth_check(srv->cfg.auth, header(conn, MHD_HTTP_HEADER_AUTHORIZATION), &who) < 0)
			api_status_set(&st, 401, "Unauthorized", "Unauthorized");
		goto fail;
	}
	if (!rt.public_path && auth_check(srv->cfg.auth, header(conn, MHD_HTTP_HEADER_AUTHORIZATION), &who) < 0) {
		api_status_set(&st, 401, "Unauthorized", "Unauthorized");
		goto fail;
	}
	if (!rt.public_path && admit(srv, &rt, &who, rc, &st) < 0)
		goto fail;
	handlers_dispatch(&(struct api_request){ .conn = conn,
						 .reg = srv->cfg.reg,
						 .rt = &rt,
						 .who = &who,
						 .accept = header(conn, MHD_HTTP_HEADER_ACCEPT),
						 .content_type = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE),
						 .body = rc->body,
						 .body_len = rc->len,
						 .ready = atomic_load(&srv->ready),
						 .stop_fd = srv->stop_fd },
			  &answer);
	log_debug("%s %s -> %d", method, url, answer.code);
	ret = queue_answer(conn, &answer);
	free(path);
	return ret;
fail:
	log_debug("%s %s -> %d", method, url, st.code);
	ret = queue_status(conn, &st);
	api_status_clear(&st);
	free(path);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct server *srv = cls;
	struct request_ctx *rc = *con_cls;

	(void)version;
	if (!rc) {
		rc = calloc(1, sizeof(*rc));
		if (!rc)
			return MHD_NO;
		*con_cls = rc;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (body_append(rc, upload_data, *upload_data_size, srv->cfg.max_body_bytes) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return handle(srv, conn, url, method, rc);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request_ctx *rc = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!rc)
		return;
	if (rc->inflight)
		atomic_fetch_sub(rc->inflight, 1);
	free(rc->body);
	free(rc);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

struct server *server_start(const struct server_config *cfg)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_storage ss;
	socklen_t sslen;
	/* poll(), not select(): 1,000 watchers mean socket numbers beyond FD_SETSIZE. */
	unsigned flags = MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE; /* upgrade: pods/exec's WebSocket */
	bool v6;
	int r;

	if (!srv)
		return NULL;
	srv->cfg = *cfg;
	srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->stop_fd < 0)
		goto fail;
	r = sockaddr_from_ip(cfg->host, cfg->port, &ss, &sslen, &v6);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	/* pods/log and pods/exec answer 503 without the agents' client certificate. */
	if (cfg->data_dir && pod_proxy_init(cfg->data_dir) < 0)
		log_warn("pods/log and pods/exec disabled: no client certificate for agents in %s", cfg->data_dir);
	srv->mhd = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv,
				    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				    MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem,
				    MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem,
				    MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit,
				    MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s,
				    MHD_OPTION_THREAD_STACK_SIZE, cfg->thread_stack_bytes,
				    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
				    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
				    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
				    MHD_OPTION_END);
	if (!srv->mhd) {
		if (!errno)
			errno = EADDRINUSE;
		goto fail;
	}
	return srv;
fail:
	r = errno;
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	free(srv);
	errno = r;
	return NULL;
}

unsigned server_port(const struct server *srv)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return di ? di->port : srv->cfg.port;
}

void server_set_ready(struct server *srv, bool ready)
{
	atomic_store(&srv->ready, ready);
}

void server_stop(struct server *srv)
{
	uint64_t one = 1;

	if (!srv)
		return;
	atomic_store(&srv->ready, false);
	/* Wakes every watch stream so its connection thread can be joined. */
	if (write(srv->stop_fd, &one, sizeof(one)) < 0)
		log_debug_errno(-errno, "server: wake watch streams: %m");
	MHD_stop_daemon(srv->mhd);
	close(srv->stop_fd);
	free(srv);
}
