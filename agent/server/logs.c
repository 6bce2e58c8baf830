/* GET /containerLogs/NS/POD/CONTAINER: a container's CRI log files (pods/logs.h) as kubectl
 * logs shows them — messages only, or with their timestamps; tailLines, sinceSeconds/sinceTime,
 * limitBytes, previous (the run before the current one), and follow, which streams what the
 * container writes until it exits or the client goes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "pods/exec.h"
#include "pods/runtime_state.h"
#include "server/internal.h"

#define TS_LEN 30 /* "2026-11-28T10:00:00.123456789Z" */
#define FOLLOW_POLL_MS 250
#define DEAD_GRACE_S 2

struct log_stream {
	struct pod_runtime *rt;
	char *uid, *container, *path;
	int client_fd, stop_fd;
	int run; /* restartCount of the run being read */
	bool follow, timestamps, finished;
	time_t dead_since; /* monotonic seconds: when the process was first seen gone */
	long long limit;   /* limitBytes: the most bytes sent (< 0: no limit) */
	long long sent;
	char since[TS_LEN + 1]; /* "" or the oldest timestamp to show */
	FILE *f;
	char *out; /* formatted output not sent yet */
	size_t out_len, out_off, out_cap;
	char *line;
	size_t line_cap;
};

static void log_stream_free(void *cls)
{
	struct log_stream *ls = cls;

	if (!ls)
		return;
	if (ls->f)
		fclose(ls->f);
	free(ls->uid);
	free(ls->container);
	free(ls->path);
	free(ls->out);
	free(ls->line);
	free(ls);
}

static int out_append(struct log_stream *ls, const char *s, size_t n)
{
	if (ls->out_len + n > ls->out_cap) {
		size_t cap = ls->out_cap ? ls->out_cap * 2 : 4096;
		char *b;

		while (cap < ls->out_len + n)
			cap *= 2;
		b = realloc(ls->out, cap);
		if (!b)
			return -ENOMEM;
		ls->out = b;
		ls->out_cap = cap;
	}
	memcpy(ls->out + ls->out_len, s, n);
	ls->out_len += n;
	return 0;
}

/* One CRI line ("TS STREAM TAG MSG\n") as kubectl shows it, appended to the output; lines
 * before since are left out. */
static int format_line(struct log_stream *ls, const char *raw, size_t len)
{
	const char *stream = memchr(raw, ' ', len), *tag, *msg;
	size_t mlen;
	int r = 0;

	if (!stream || (size_t)(stream - raw) != TS_LEN)
		return 0; /* not a CRI line: never written by the logger */
	tag = memchr(stream + 1, ' ', len - (size_t)(stream + 1 - raw));
	if (!tag || (size_t)(tag + 2 - raw) > len)
		return 0;
	tag++;
	msg = tag + 1 < raw + len && tag[1] == ' ' ? tag + 2 : tag + 1;
	mlen = (size_t)(raw + len - msg);
	if (mlen && msg[mlen - 1] == '\n')
		mlen--;
	if (ls->since[0] && strncmp(raw, ls->since, TS_LEN) < 0)
		return 0;
	if (ls->timestamps) {
		r = out_append(ls, raw, TS_LEN);
		if (r >= 0)
			r = out_append(ls, " ", 1);
	}
	if (r >= 0)
		r = out_append(ls, msg, mlen);
	if (r >= 0 && *tag == 'F')
		r = out_append(ls, "\n", 1);
	return r;
}

/* Reads the complete lines f has now into the output (a line being written stays for later). */
static int read_lines(struct log_stream *ls, FILE *f)
{
	ssize_t len;
	int r = 0;

	clearerr(f);
	while (r >= 0 && (len = getline(&ls->line, &ls->line_cap, f)) > 0) {
		if (ls->line[len - 1] != '\n') {
			fseek(f, -(long)len, SEEK_CUR);
			break;
		}
		r = format_line(ls, ls->line, (size_t)len);
	}
	return r;
}

/* Keeps the last tail lines of the output (tail < 0: all). */
static void keep_last_lines(struct log_stream *ls, long tail)
{
	size_t i = ls->out_len, seen = 0;

	if (tail < 0)
		return;
	if (i > 0 && ls->out[i - 1] == '\n')
		i--;
	while (i > 0 && tail > 0) {
		if (ls->out[i - 1] == '\n' && ++seen == (size_t)tail)
			break;
		i--;
	}
	if (tail == 0)
		i = ls->out_len;
	memmove(ls->out, ls->out + i, ls->out_len - i);
	ls->out_len -= i;
}

/* The run's rotated part (.log.1) then the log itself, which stays open for follow. */
static int read_existing(struct log_stream *ls, long tail)
{
	_cleanup_free_ char *old = NULL;
	_cleanup_fclose_ FILE *f1 = NULL;
	int r = 0;

	if (asprintf(&old, "%s.1", ls->path) < 0)
		return -ENOMEM;
	f1 = fopen(old, "re");
	ls->f = fopen(ls->path, "re");
	if (f1)
		r = read_lines(ls, f1);
	if (r >= 0 && ls->f)
		r = read_lines(ls, ls->f);
	if (r >= 0)
		keep_last_lines(ls, tail);
	return r;
}

/* Is more of this run's output to come? Until the runtime has saved the run as over (it does
 * so after its log reader wrote the last line), or, when nothing reaps it, a while after its
 * process is gone. */
static bool run_goes_on(struct log_stream *ls)
{
	_cleanup_json_ json_object *state = NULL;
	struct timespec now;
	struct proc_id id;
	json_object *cs;

	if (pod_exec_state(ls->rt, ls->uid, &state) < 0)
		return false;
	cs = json_get_path(json_get_path(state, "containers"), ls->container);
	if (!cs || strcmp(json_get_string(cs, "state") ?: "", "running") != 0 ||
	    json_object_get_int(json_get_path(cs, "restartCount")) != ls->run)
		return false;
	if (rstate_get_proc(cs, &id) >= 0 && proc_id_alive(&id))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!ls->dead_since)
		ls->dead_since = now.tv_sec;
	return now.tv_sec - ls->dead_since < DEAD_GRACE_S;
}

/* The log file was rotated away under us (it is drained): read the new one. */
static void reopen_if_rotated(struct log_stream *ls)
{
	struct stat now, cur;

	if (ls->f && stat(ls->path, &now) == 0 && fstat(fileno(ls->f), &cur) == 0 && now.st_ino == cur.st_ino)
		return;
	if (ls->f)
		fclose(ls->f);
	ls->f = fopen(ls->path, "re");
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct log_stream *ls = cls;
	struct agent_request req = { .client_fd = ls->client_fd, .stop_fd = ls->stop_fd };

	(void)pos;
	for (;;) {
		if (ls->limit >= 0 && ls->sent >= ls->limit)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (ls->out_off < ls->out_len) {
			size_t n = ls->out_len - ls->out_off < max ? ls->out_len - ls->out_off : max;

			if (ls->limit >= 0 && (long long)n > ls->limit - ls->sent)
				n = (size_t)(ls->limit - ls->sent);
			ls->sent += (long long)n;

			memcpy(buf, ls->out + ls->out_off, n);
			ls->out_off += n;
			return (ssize_t)n;
		}
		ls->out_len = ls->out_off = 0;
		if (!ls->follow)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (ls->f && read_lines(ls, ls->f) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (ls->out_len)
			continue;
		if (ls->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		reopen_if_rotated(ls);
		/* One last read after the container is gone: its final lines may have just landed. */
		if (!run_goes_on(ls)) {
			ls->finished = true;
			continue;
		}
		if (agent_stream_cancelled(&req, FOLLOW_POLL_MS))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

/* since from sinceSeconds or sinceTime (RFC 3339), as a CRI timestamp to compare with. */
static int parse_since(const struct agent_request *req, char since[TS_LEN + 1])
{
	const char *secs = agent_query(req, "sinceSeconds"), *at = agent_query(req, "sinceTime");
	struct tm tm;
	time_t t;
	char *end;

	since[0] = '\0';
	if (secs && *secs) {
		long s = strtol(secs, &end, 10);

		if (*end || s <= 0)
			return -EINVAL;
		t = time(NULL) - s;
		gmtime_r(&t, &tm);
		strftime(since, TS_LEN + 1, "%Y-%m-%dT%H:%M:%S.000000000Z", &tm);
	} else if (at && *at) {
		if (strlen(at) < 19)
			return -EINVAL;
		snprintf(since, TS_LEN + 1, "%.19s.000000000Z", at);
	}
	return 0;
}

/* Which run to read: the current one, or with previous the one before; -ENOENT with the
 * answer filled in when there is none. */
static int pick_run(const struct agent_request *req, json_object *state, struct log_stream *ls,
		    struct MHD_Response **ret_resp, unsigned *ret_code)
{
	json_object *cs = json_get_path(json_get_path(state, "containers"), req->container);
	int restarts = cs ? json_object_get_int(json_get_path(cs, "restartCount")) : 0;
	_cleanup_free_ char *old = NULL;

	if (agent_query_bool(req, "previous")) {
		if (!cs || restarts == 0) {
			*ret_code = 400;
			*ret_resp = agent_status_response(400, "BadRequest",
							  "previous terminated container \"%s\" in pod \"%s\" not found",
							  req->container, req->pod);
			return -ENOENT;
		}
		ls->run = restarts - 1;
		ls->follow = false;
		return 0;
	}
	ls->run = restarts;
	ls->path = pod_runtime_log_path(req->rt, json_get_path(state, "pod"), req->container, restarts);
	if (!ls->path || asprintf(&old, "%s.1", ls->path) < 0)
		return -ENOMEM;
	if (access(ls->path, F_OK) == 0 || access(old, F_OK) == 0)
		return 0;
	if (restarts > 0) {
		/* Waiting to restart (back-off): the last run's log, as the kubelet shows it. */
		ls->run = restarts - 1;
		ls->follow = false;
		free(ls->path);
		ls->path = NULL;
		return 0;
	}
	*ret_code = 400;
	*ret_resp = agent_status_response(400, "BadRequest", "container \"%s\" in pod \"%s\" is waiting to start: %s",
					  req->container, req->pod,
					  (cs ? json_get_string(cs, "reason") : NULL) ?: "ContainerCreating");
	return -ENOENT;
}

static int setup_stream(const struct agent_request *req, json_object *state, struct log_stream *ls,
			struct MHD_Response **ret_resp, unsigned *ret_code)
{
	const char *tail_s = agent_query(req, "tailLines"), *limit_s = agent_query(req, "limitBytes");
	long tail = -1;
	char *end;
	int r;

	if (tail_s && *tail_s) {
		tail = strtol(tail_s, &end, 10);
		if (*end)
			tail = -2;
	}
	ls->limit = -1;
	if (limit_s && *limit_s) {
		ls->limit = strtoll(limit_s, &end, 10);
		if (*end || ls->limit <= 0)
			tail = -2;
	}
	if (tail < -1 || parse_since(req, ls->since) < 0) {
		*ret_code = 400;
		*ret_resp = agent_status_response(400, "BadRequest", "tailLines, sinceSeconds and limitBytes must be "
								     "numbers, sinceTime RFC 3339");
		return -EINVAL;
	}
	r = pick_run(req, state, ls, ret_resp, ret_code);
	if (r < 0)
		return r;
	if (!ls->path)
		ls->path = pod_runtime_log_path(req->rt, json_get_path(state, "pod"), req->container, ls->run);
	if (!ls->path)
		return -ENOMEM;
	return read_existing(ls, tail);
}

int agent_logs_serve(const struct agent_request *req, struct MHD_Response **ret_resp, unsigned *ret_code)
{
	_cleanup_json_ json_object *state = NULL;
	struct log_stream *ls;
	json_object *spec;
	int r;

	if (agent_pod_lookup(req, &state, &spec, ret_resp, ret_code) < 0)
		return 0;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	*ls = (struct log_stream){ .rt = req->rt, .uid = strdup(req->uid), .container = strdup(req->container),
				   .client_fd = req->client_fd, .stop_fd = req->stop_fd,
				   .follow = agent_query_bool(req, "follow"),
				   .timestamps = agent_query_bool(req, "timestamps") };
	r = ls->uid && ls->container ? setup_stream(req, state, ls, ret_resp, ret_code) : -ENOMEM;
	if (r < 0) {
		log_stream_free(ls);
		return r == -ENOMEM ? r : 0;
	}
	*ret_resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, ls, log_stream_free);
	if (!*ret_resp) {
		log_stream_free(ls);
		return -ENOMEM;
	}
	MHD_add_response_header(*ret_resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	*ret_code = 200;
	return 0;
}
