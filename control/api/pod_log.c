/* GET pods/NAME/log: the pod's agent serves the log (agent_proto.h); its answer goes through
 * to kubectl as it arrives, so `kubectl logs -f` streams. The agent's errors (a Status) keep
 * their code and message. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/pod_proxy.h"

#define FIRST_ANSWER_MS 15000
#define PUMP_MS 250

struct log_proxy {
	struct proxy_stream ps;
	int client_fd, stop_fd;
};

static void log_proxy_free(void *cls)
{
	struct log_proxy *lp = cls;

	proxy_stream_done(&lp->ps);
	free(lp);
}

static bool client_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t log_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct log_proxy *lp = cls;
	bool stopping = false;

	(void)pos;
	for (;;) {
		if (lp->ps.len) {
			size_t n = lp->ps.len < max ? lp->ps.len : max;

			memcpy(buf, lp->ps.buf, n);
			proxy_stream_consume(&lp->ps, n);
			return (ssize_t)n;
		}
		if (lp->ps.done)
			return lp->ps.result == CURLE_OK ? MHD_CONTENT_READER_END_OF_STREAM
							 : MHD_CONTENT_READER_END_WITH_ERROR;
		if (stopping || client_gone(lp->client_fd))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (proxy_stream_pump(&lp->ps, PUMP_MS, lp->stop_fd, &stopping) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

/* ?uid=..&<kubectl's parameters the agent understands>, each escaped. */
static int log_url(const struct api_request *req, const struct pod_target *t, char **ret)
{
	static const char *const pass[] = { "follow", "previous", "tailLines", "sinceSeconds", "sinceTime",
					    "timestamps", "limitBytes" };
	const struct route *rt = req->rt;
	char *url = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&url, &size);

	if (!f)
		return -ENOMEM;
	fprintf(f, "%s/containerLogs/%s/%s/%s?uid=%s", t->base, rt->ns, rt->name, t->container, t->uid);
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		const char *v = handlers_query(req, pass[i]);
		char *e;

		if (!v)
			continue;
		e = curl_easy_escape(NULL, v, 0);
		fprintf(f, "&%s=%s", pass[i], e ? e : "");
		curl_free(e);
	}
	if (fclose(f) != 0) {
		free(url);
		return -ENOMEM;
	}
	*ret = url;
	return 0;
}

/* The agent's Status answer as ours; anything else becomes a 500 naming the agent. */
static void agent_error(struct proxy_stream *ps, const char *url, struct api_status *st)
{
	_cleanup_json_ json_object *o = NULL;
	long code = proxy_stream_code(ps);

	if (ps->len) {
		char *b = realloc(ps->buf, ps->len + 1);

		if (b) {
			ps->buf = b;
			b[ps->len] = '\0';
			o = json_tokener_parse(b);
		}
	}
	if (o && json_get_string(o, "message"))
		api_status_set(st, (int)code, json_get_string(o, "reason") ?: "InternalError", "%s",
			       json_get_string(o, "message"));
	else
		api_status_set(st, 500, "InternalError", "the agent answered %ld to %s", code, url);
}

/* Waits (bounded) for the agent's status line: 0 with 200, else -EIO with st. */
static int first_answer(struct proxy_stream *ps, const char *url, const char *node, struct api_status *st)
{
	for (int waited = 0; !ps->done && proxy_stream_code(ps) == 0; waited += PUMP_MS) {
		if (waited >= FIRST_ANSWER_MS || proxy_stream_pump(ps, PUMP_MS, -1, NULL) < 0) {
			api_status_set(st, 503, "ServiceUnavailable", "the agent of node %s did not answer %s", node, url);
			return -EIO;
		}
	}
	if (proxy_stream_code(ps) == 0) {
		api_status_set(st, 503, "ServiceUnavailable", "cannot reach the agent of node %s at %s: %s", node, url,
			       ps->error[0] ? ps->error : curl_easy_strerror(ps->result));
		return -EIO;
	}
	if (proxy_stream_code(ps) == 200)
		return 0;
	while (!ps->done && proxy_stream_pump(ps, PUMP_MS, -1, NULL) >= 0)
		;
	agent_error(ps, url, st);
	return -EIO;
}

int handlers_pod_log(const struct api_request *req, struct api_response *resp, struct api_status *st)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pod_target t = { 0 };
	_cleanup_free_ char *url = NULL;
	struct log_proxy *lp = NULL;
	int r;

	r = pod_proxy_resolve(req->reg, req->rt->ns, req->rt->name, handlers_query(req, "container"), &t, st);
	if (r < 0)
		return r;
	r = log_url(req, &t, &url);
	if (r >= 0) {
		lp = calloc(1, sizeof(*lp));
		r = lp ? proxy_stream_start(&lp->ps, url, NULL, 0) : -ENOMEM;
	}
	if (r < 0) {
		api_status_internal(st, r, "pods/log");
		goto fail;
	}
	lp->client_fd = ci ? ci->connect_fd : -1;
	lp->stop_fd = req->stop_fd;
	r = first_answer(&lp->ps, url, json_get_string(t.pod, "spec.nodeName") ?: "", st);
	if (r < 0)
		goto fail;
	resp->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, log_read, lp, log_proxy_free);
	if (!resp->stream) {
		r = -ENOMEM;
		api_status_internal(st, r, "pods/log");
		goto fail;
	}
	resp->code = 200;
	resp->content_type = "text/plain";
	pod_target_done(&t);
	return 0;
fail:
	if (lp)
		log_proxy_free(lp);
	pod_target_done(&t);
	return r;
}
