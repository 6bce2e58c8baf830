/* pods/NAME/exec over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io), as kubectl 1.30+
 * speaks it: checks and the upgrade here, then one thread per session runs the command through
 * the pod's agent (agent_proto.h) and turns its frames into channel messages (1 stdout,
 * 2 stderr, 3 the Status with the exit code). stdin (-i) is read up to its close (v5's channel
 * 255) and sent at once: non-interactive use works, a terminal does not. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <skiff/agent_proto.h>
#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/pod_proxy.h"
#include "api/websocket.h"

#define PUMP_MS 250
#define MAX_STDIN (1u << 20)
#define MAX_CLIENT_FRAME (64u * 1024)

struct ws_exec {
	struct pod_target t;
	char *url;
	bool want_stdin;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
	uint8_t *in; /* client bytes not parsed yet */
	size_t in_len;
	char *stdin_buf;
	size_t stdin_len;
	bool stdin_closed, client_closed;
	int stop_fd; /* readable when the server shuts down: the session ends */
};

static void ws_exec_free(struct ws_exec *x)
{
	pod_target_done(&x->t);
	free(x->url);
	free(x->in);
	free(x->stdin_buf);
	free(x);
}

/* --- the upgraded socket ------------------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			if (poll(&pf, 1, 10000) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One frame; channel >= 0 goes in front of the payload (the k8s channel protocol). */
static int ws_send(struct ws_exec *x, enum ws_opcode op, int channel, const void *data, size_t len)
{
	uint8_t hdr[WS_MAX_HEADER + 1];
	size_t h = ws_frame_header(hdr, op, len + (channel >= 0), NULL);
	int r;

	if (channel >= 0)
		hdr[h++] = (uint8_t)channel;
	r = write_all(x->sock, hdr, h);
	if (r >= 0 && len)
		r = write_all(x->sock, data, len);
	return r;
}

static int ws_send_status(struct ws_exec *x, json_object *status)
{
	const char *s = json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN);

	return ws_send(x, WS_OP_BINARY, EXEC_CH_STATUS, s, strlen(s));
}

static int ws_send_failure(struct ws_exec *x, const char *reason, const char *msg)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "status", json_object_new_string("Failure"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return ws_send_status(x, o);
}

/* One client frame: stdin data and its close, pings, the close of the session. */
static int on_client_frame(struct ws_exec *x, const struct ws_frame *f)
{
	switch (f->op) {
	case WS_OP_PING:
		return ws_send(x, WS_OP_PONG, -1, f->payload, f->len);
	case WS_OP_CLOSE:
		x->client_closed = true;
		return 0;
	case WS_OP_BINARY:
	case WS_OP_TEXT:
		if (f->len >= 2 && f->payload[0] == EXEC_CH_CLOSE && f->payload[1] == EXEC_CH_STDIN)
			x->stdin_closed = true;
		if (f->len >= 1 && f->payload[0] == EXEC_CH_STDIN && !x->stdin_closed) {
			char *b;

			if (x->stdin_len + f->len - 1 > MAX_STDIN)
				return -EMSGSIZE;
			b = realloc(x->stdin_buf, x->stdin_len + f->len);
			if (!b)
				return -ENOMEM;
			memcpy(b + x->stdin_len, f->payload + 1, f->len - 1);
			x->stdin_buf = b;
			x->stdin_len += f->len - 1;
		}
		return 0;
	default:
		return 0; /* resize (channel 4) and pongs mean nothing without a terminal */
	}
}

/* Reads what the client sent and handles every whole frame in it. */
static int read_client(struct ws_exec *x)
{
	uint8_t *b = realloc(x->in, x->in_len + 16384);
	struct ws_frame f;
	ssize_t n;
	long used;
	int r;

	if (!b)
		return -ENOMEM;
	x->in = b;
	n = read(x->sock, x->in + x->in_len, 16384);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		x->client_closed = true;
		return 0;
	}
	x->in_len += (size_t)n;
	while ((used = ws_frame_parse(x->in, x->in_len, MAX_CLIENT_FRAME, true, &f)) > 0) {
		r = on_client_frame(x, &f);
		if (r < 0)
			return r;
		memmove(x->in, x->in + used, x->in_len - (size_t)used);
		x->in_len -= (size_t)used;
	}
	return used < 0 ? (int)used : 0;
}

/* --- the session --------------------------------------------------------------------------------- */

static bool stopping(const struct ws_exec *x)
{
	struct pollfd p = { .fd = x->stop_fd, .events = POLLIN };

	return x->stop_fd >= 0 && poll(&p, 1, 0) > 0;
}

/* kubectl -i: stdin up to its close, before the command starts. */
static int collect_stdin(struct ws_exec *x)
{
	int r = 0;

	while (r >= 0 && !x->stdin_closed && !x->client_closed) {
		struct pollfd p[2] = { { .fd = x->sock, .events = POLLIN }, { .fd = x->stop_fd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents)
			return -ESHUTDOWN;
		r = read_client(x);
	}
	return r;
}

/* Agent frames in ps's buffer out as channel messages; *ret_status once the Status came. */
static int forward_frames(struct ws_exec *x, struct proxy_stream *ps, bool *ret_status)
{
	while (ps->len >= EXEC_FRAME_HEADER) {
		const uint8_t *p = (const uint8_t *)ps->buf;
		uint32_t len = exec_frame_len(p);
		int r;

		if (len > EXEC_FRAME_MAX)
			return -EPROTO;
		if (ps->len < EXEC_FRAME_HEADER + len)
			return 0;
		r = ws_send(x, WS_OP_BINARY, p[0], p + EXEC_FRAME_HEADER, len);
		if (r < 0)
			return r;
		if (p[0] == EXEC_CH_STATUS)
			*ret_status = true;
		proxy_stream_consume(ps, EXEC_FRAME_HEADER + len);
	}
	return 0;
}

/* Runs the command through the agent; what the client sees ends with a Status either way. */
static void run_session(struct ws_exec *x)
{
	struct proxy_stream ps;
	bool status = false, readable;
	int r;

	r = proxy_stream_start(&ps, x->url, x->stdin_buf ? x->stdin_buf : "", x->stdin_len);
	while (r >= 0 && !ps.done && !x->client_closed && !stopping(x)) {
		r = proxy_stream_pump(&ps, PUMP_MS, x->sock, &readable);
		if (r >= 0 && readable)
			r = read_client(x);
		if (r >= 0 && proxy_stream_code(&ps) == 200)
			r = forward_frames(x, &ps, &status);
	}
	if (r >= 0 && proxy_stream_code(&ps) == 200)
		r = forward_frames(x, &ps, &status);
	if (!status && !x->client_closed) {
		char msg[512];
		_cleanup_json_ json_object *err = NULL;

		if (proxy_stream_code(&ps) != 200 && ps.len && (err = json_tokener_parse_verbose(ps.buf, &(enum json_tokener_error){ 0 })))
			snprintf(msg, sizeof(msg), "%s", json_get_string(err, "message") ?: "the agent refused");
		else if (proxy_stream_code(&ps) == 0)
			snprintf(msg, sizeof(msg), "cannot reach the agent of node %s: %s",
				 json_get_string(x->t.pod, "spec.nodeName") ?: "", ps.error[0] ? ps.error : "no answer");
		else
			snprintf(msg, sizeof(msg), "the agent's answer ended early (%s)", r < 0 ? strerror(-r) : "no status");
		ws_send_failure(x, "InternalError", msg);
	}
	proxy_stream_done(&ps);
}

static void *session_thread(void *ud)
{
	struct ws_exec *x = ud;
	static const uint8_t normal[2] = { 0x03, 0xe8 }; /* 1000: normal closure */

	if (!x->want_stdin || collect_stdin(x) >= 0)
		run_session(x);
	ws_send(x, WS_OP_CLOSE, -1, normal, sizeof(normal));
	MHD_upgrade_action(x->urh, MHD_UPGRADE_ACTION_CLOSE);
	ws_exec_free(x);
	return NULL;
}

/* MHD hands over the upgraded connection on its own thread, which must go on relaying TLS:
 * the session gets a thread of its own. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
		       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct ws_exec *x = cls;
	pthread_attr_t attr;
	pthread_t th;
	int flags = fcntl(sock, F_GETFL);

	(void)conn;
	(void)con_cls;
	x->sock = sock;
	x->urh = urh;
	if (flags >= 0)
		fcntl(sock, F_SETFL, flags | O_NONBLOCK);
	if (extra_in_size && (x->in = malloc(extra_in_size))) {
		memcpy(x->in, extra_in, extra_in_size);
		x->in_len = extra_in_size;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, session_thread, x) != 0) {
		log_warn("pods/exec: no thread for the session: %m");
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		ws_exec_free(x);
	}
	pthread_attr_destroy(&attr);
}

/* --- the request ----------------------------------------------------------------------------------- */

static enum MHD_Result add_command(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	FILE *f = cls;
	char *e;

	(void)kind;
	if (strcmp(key, "command") != 0)
		return MHD_YES;
	e = curl_easy_escape(NULL, value ? value : "", 0);
	fprintf(f, "&command=%s", e ? e : "");
	curl_free(e);
	return MHD_YES;
}

static int exec_url(const struct api_request *req, const struct pod_target *t, char **ret, struct api_status *st)
{
	char *url = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&url, &size);
	int n;

	if (!f)
		return -ENOMEM;
	fprintf(f, "%s/exec/%s/%s/%s?uid=%s", t->base, req->rt->ns, req->rt->name, t->container, t->uid);
	n = MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_command, f);
	if (fclose(f) != 0)
		return -ENOMEM;
	if (n <= 0 || !strstr(url, "&command=")) {
		free(url);
		api_status_bad_request(st, "you must specify at least one command for the container");
		return -EINVAL;
	}
	*ret = url;
	return 0;
}

/* A container the pod's status says is not running (waiting, terminated) cannot take a command. */
static int check_running(const struct pod_target *t, const char *name, struct api_status *st)
{
	json_object *all = json_get_path(t->pod, "status.containerStatuses");
	const char *phase = json_get_string(t->pod, "status.phase") ?: "";

	if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0) {
		api_status_bad_request(st, "cannot exec into a container in a completed pod; current phase is %s", phase);
		return -EINVAL;
	}
	for (size_t i = 0; all && i < json_object_array_length(all); i++) {
		json_object *cs = json_object_array_get_idx(all, i);

		if (strcmp(json_get_string(cs, "name") ?: "", t->container) == 0 && !json_get_path(cs, "state.running")) {
			api_status_bad_request(st, "container %s is not running in pod %s", t->container, name);
			return -EINVAL;
		}
	}
	return 0;
}

/* The WebSocket handshake's answer: the protocol we speak out of those offered. */
static int ws_handshake(const struct api_request *req, struct ws_exec *x, struct MHD_Response **ret,
			struct api_status *st)
{
	const char *up = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Upgrade");
	const char *key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *protos = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Sec-WebSocket-Protocol");
	const char *proto = NULL;
	char accept[29];

	if (!up || strcasecmp(up, "websocket") != 0 || !key) {
		api_status_bad_request(st, "pods/exec is served over WebSocket (v5.channel.k8s.io or v4.channel.k8s.io) "
					   "only, not %s", up ? up : "a plain request");
		return -EINVAL;
	}
	if (protos && strstr(protos, "v5.channel.k8s.io"))
		proto = "v5.channel.k8s.io";
	else if (protos && strstr(protos, "v4.channel.k8s.io"))
		proto = "v4.channel.k8s.io";
	if (!proto || ws_accept_key(key, accept) < 0) {
		api_status_bad_request(st, "pods/exec speaks v5.channel.k8s.io or v4.channel.k8s.io, not \"%s\"",
				       protos ? protos : "");
		return -EINVAL;
	}
	*ret = MHD_create_response_for_upgrade(on_upgrade, x);
	if (!*ret)
		return -ENOMEM;
	MHD_add_response_header(*ret, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(*ret, "Sec-WebSocket-Accept", accept);
	MHD_add_response_header(*ret, "Sec-WebSocket-Protocol", proto);
	return 0;
}

int handlers_pod_exec(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	struct ws_exec *x = calloc(1, sizeof(*x));
	const char *in = handlers_query(req, "stdin");
	int r;

	if (!x) {
		api_status_internal(st, -ENOMEM, "pods/exec");
		return -ENOMEM;
	}
	x->sock = -1;
	x->stop_fd = req->stop_fd;
	x->want_stdin = in && (strcmp(in, "true") == 0 || strcmp(in, "1") == 0);
	r = pod_proxy_resolve(req->reg, req->rt->ns, req->rt->name, handlers_query(req, "container"), &x->t, st);
	if (r >= 0)
		r = check_running(&x->t, req->rt->name, st);
	if (r >= 0)
		r = exec_url(req, &x->t, &x->url, st);
	if (r >= 0)
		r = ws_handshake(req, x, &resp->stream, st);
	if (r < 0) {
		if (r == -ENOMEM)
			api_status_internal(st, r, "pods/exec");
		ws_exec_free(x);
		return r;
	}
	/* x now belongs to the upgrade handler. */
	resp->code = 101;
	resp->content_type = "application/octet-stream";
	return 0;
}
