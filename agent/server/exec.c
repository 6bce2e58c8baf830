/* POST /exec/NS/POD/CONTAINER?command=..: runs the command in the container (pods/exec.h) on
 * its own thread and streams its stdout and stderr back as agent_proto.h frames as they come,
 * then one Status frame with the exit code. The request body is the command's stdin. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <skiff/agent_proto.h>
#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "pods/exec.h"
#include "server/internal.h"

#define EXEC_POLL_MS 250

struct exec_stream {
	struct pod_runtime *rt;
	char *uid, *container, *pod;
	char **argv;
	size_t argc;
	int stdin_fd;
	int out[2], err[2]; /* pipes: [0] ours, [1] the command's */
	int client_fd, stop_fd;
	int cancel_fd; /* eventfd: kills the command when the client is gone */
	pthread_t thread;
	bool running;
	int result, exit_code;
	bool done;
};

static void exec_stream_free(void *cls)
{
	struct exec_stream *x = cls;

	if (!x)
		return;
	/* The client hung up before the end: the command is killed. */
	if (x->running) {
		uint64_t one = 1;

		if (write(x->cancel_fd, &one, sizeof(one)) < 0)
			log_warn("exec: cannot cancel the command of pod %s: %m", x->pod);
		pthread_join(x->thread, NULL);
	}
	if (x->cancel_fd >= 0)
		close(x->cancel_fd);
	for (int i = 0; i < 2; i++) {
		if (x->out[i] >= 0)
			close(x->out[i]);
		if (x->err[i] >= 0)
			close(x->err[i]);
	}
	if (x->stdin_fd >= 0)
		close(x->stdin_fd);
	for (size_t i = 0; i < x->argc; i++)
		free(x->argv[i]);
	free(x->argv);
	free(x->uid);
	free(x->container);
	free(x->pod);
	free(x);
}

static void *exec_thread(void *ud)
{
	struct exec_stream *x = ud;

	x->result = pod_exec_run_cancel(x->rt, x->uid, x->container, x->argv, x->stdin_fd, x->out[1], x->err[1], 0,
					x->cancel_fd, &x->exit_code);
	/* Our copies of the write ends: EOF on the read ends once the command's are gone too. */
	close(x->out[1]);
	close(x->err[1]);
	x->out[1] = x->err[1] = -1;
	return NULL;
}

/* The final Status frame's JSON, as the kubelet words it. */
static json_object *exit_status(struct exec_stream *x)
{
	json_object *o = json_object_new_object(), *details, *causes, *cause;
	char code[16], msg[96];

	json_object_object_add(o, "metadata", json_object_new_object());
	if (x->result >= 0 && x->exit_code == 0) {
		json_object_object_add(o, "status", json_object_new_string("Success"));
		return o;
	}
	json_object_object_add(o, "status", json_object_new_string("Failure"));
	if (x->result < 0) {
		json_object_object_add(o, "reason", json_object_new_string("InternalError"));
		json_object_object_add(o, "message", x->result == -ESRCH
				? json_object_new_string("container is not running")
				: json_object_new_string(strerror(-x->result)));
		return o;
	}
	snprintf(code, sizeof(code), "%d", x->exit_code);
	details = json_object_new_object();
	causes = json_object_new_array();
	cause = json_object_new_object();
	json_object_object_add(cause, "reason", json_object_new_string("ExitCode"));
	json_object_object_add(cause, "message", json_object_new_string(code));
	json_object_array_add(causes, cause);
	json_object_object_add(details, "causes", causes);
	snprintf(msg, sizeof(msg), "command terminated with non-zero exit code: exit status %d", x->exit_code);
	json_object_object_add(o, "reason", json_object_new_string("NonZeroExitCode"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "details", details);
	return o;
}

static ssize_t frame(uint8_t *buf, enum exec_channel ch, const void *data, size_t len)
{
	exec_frame_header(buf, ch, (uint32_t)len);
	memcpy(buf + EXEC_FRAME_HEADER, data, len);
	return (ssize_t)(EXEC_FRAME_HEADER + len);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct exec_stream *x = cls;
	struct agent_request req = { .client_fd = x->client_fd, .stop_fd = x->stop_fd };
	uint8_t *buf = (uint8_t *)out;

	(void)pos;
	if (x->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max <= EXEC_FRAME_HEADER)
		return 0;
	for (;;) {
		struct pollfd p[2] = { { .fd = x->out[0], .events = POLLIN }, { .fd = x->err[0], .events = POLLIN } };
		int n = poll(p, 2, EXEC_POLL_MS);

		for (int i = 0; n > 0 && i < 2; i++) {
			ssize_t got;

			if (!p[i].revents)
				continue;
			got = read(p[i].fd, buf + EXEC_FRAME_HEADER, max - EXEC_FRAME_HEADER);
			if (got > 0) {
				exec_frame_header(buf, i == 0 ? EXEC_CH_STDOUT : EXEC_CH_STDERR, (uint32_t)got);
				return EXEC_FRAME_HEADER + got;
			}
			/* EOF (or an error): poll ignores a negative fd from now on. */
			close(p[i].fd);
			*(i == 0 ? &x->out[0] : &x->err[0]) = -1;
		}
		if (x->out[0] < 0 && x->err[0] < 0) {
			_cleanup_json_ json_object *st = NULL;
			const char *s;

			pthread_join(x->thread, NULL);
			x->running = false;
			st = exit_status(x);
			s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
			if (strlen(s) + EXEC_FRAME_HEADER > max)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			x->done = true;
			return frame(buf, EXEC_CH_STATUS, s, strlen(s));
		}
		if (n == 0 && agent_stream_cancelled(&req, 0))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

struct argv_collect {
	struct exec_stream *x;
	int r;
};

static enum MHD_Result collect_command(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct argv_collect *c = cls;
	struct exec_stream *x = c->x;
	char **a;

	(void)kind;
	if (strcmp(key, "command") != 0)
		return MHD_YES;
	a = realloc(x->argv, (x->argc + 2) * sizeof(*a));
	if (!a || !(a[x->argc] = strdup(value ? value : ""))) {
		if (a)
			x->argv = a;
		c->r = -ENOMEM;
		return MHD_NO;
	}
	x->argv = a;
	x->argv[++x->argc] = NULL;
	return MHD_YES;
}

/* stdin as a memfd holding the request body (no body: /dev/null). */
static int make_stdin(const struct agent_request *req)
{
	int fd;

	if (!req->body_len)
		return -1;
	fd = memfd_create("exec-stdin", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, req->body, req->body_len) != (ssize_t)req->body_len || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int start(const struct agent_request *req, struct exec_stream *x)
{
	struct argv_collect c = { x, 0 };

	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_command, &c);
	if (c.r < 0)
		return c.r;
	if (x->argc == 0)
		return -EINVAL;
	x->stdin_fd = make_stdin(req);
	x->cancel_fd = eventfd(0, EFD_CLOEXEC);
	if (x->cancel_fd < 0 || pipe2(x->out, O_CLOEXEC) < 0 || pipe2(x->err, O_CLOEXEC) < 0)
		return -errno;
	if (pthread_create(&x->thread, NULL, exec_thread, x) != 0)
		return -EAGAIN;
	x->running = true;
	return 0;
}

/* The container must be running for a command to join it. */
static bool container_running(json_object *state, const char *name)
{
	json_object *cs = json_get_path(json_get_path(state, "containers"), name);

	return cs && strcmp(json_get_string(cs, "state") ?: "", "running") == 0;
}

int agent_exec_serve(const struct agent_request *req, struct MHD_Response **ret_resp, unsigned *ret_code)
{
	_cleanup_json_ json_object *state = NULL;
	struct exec_stream *x;
	json_object *spec;
	int r;

	if (agent_pod_lookup(req, &state, &spec, ret_resp, ret_code) < 0)
		return 0;
	if (!container_running(state, req->container)) {
		*ret_code = 400;
		*ret_resp = agent_status_response(400, "BadRequest", "container \"%s\" in pod \"%s\" is not running",
						  req->container, req->pod);
		return 0;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	*x = (struct exec_stream){ .rt = req->rt, .uid = strdup(req->uid), .container = strdup(req->container),
				   .pod = strdup(req->pod), .stdin_fd = -1, .cancel_fd = -1, .out = { -1, -1 }, .err = { -1, -1 },
				   .client_fd = req->client_fd, .stop_fd = req->stop_fd };
	r = x->uid && x->container && x->pod ? start(req, x) : -ENOMEM;
	if (r < 0) {
		exec_stream_free(x);
		if (r != -EINVAL)
			return r;
		*ret_code = 400;
		*ret_resp = agent_status_response(400, "BadRequest", "you must specify at least one command for the container");
		return 0;
	}
	*ret_resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EXEC_FRAME_MAX + EXEC_FRAME_HEADER, stream_read,
						      x, exec_stream_free);
	if (!*ret_resp) {
		exec_stream_free(x);
		return -ENOMEM;
	}
	MHD_add_response_header(*ret_resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	*ret_code = 200;
	return 0;
}
