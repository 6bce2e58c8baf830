/* Probe specs from core/v1 Probe objects and the result state machine (see probe.h). */
#include "pods/probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

static int int_or(json_object *probe, const char *key, int dflt)
{
	json_object *v = json_get_path(probe, key);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int(v) : dflt;
}

static int fail(char **ret_err, const char *key, const char *fmt, const char *what)
{
	char *m;

	if (asprintf(&m, "%s: %s%s", key, fmt, what ? what : "") < 0)
		m = NULL;
	*ret_err = m;
	return -EINVAL;
}

/* An IntOrString port: a number, or the name of one of the container's ports. */
static int resolve_port(json_object *container, json_object *port)
{
	json_object *ports = json_get_path(container, "ports");
	const char *name;

	if (json_object_is_type(port, json_type_int))
		return json_object_get_int(port);
	if (!json_object_is_type(port, json_type_string))
		return -1;
	name = json_object_get_string(port);
	for (size_t i = 0; json_object_is_type(ports, json_type_array) && i < json_object_array_length(ports); i++) {
		json_object *p = json_object_array_get_idx(ports, i);

		if (strcmp(json_get_string(p, "name") ?: "", name) == 0)
			return int_or(p, "containerPort", -1);
	}
	/* "8080" as a string is a number to the kubelet too. */
	return name[0] >= '0' && name[0] <= '9' ? atoi(name) : -1;
}

static char **strv_from(json_object *arr, const char *fmt_a, const char *fmt_b, const char *ka, const char *kb)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	char **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		int r = ka ? asprintf(&v[i], fmt_a, json_get_string(e, ka) ?: "", json_get_string(e, kb) ?: "")
			   : asprintf(&v[i], fmt_b, json_object_get_string(e) ?: "");

		if (r < 0) {
			v[i] = NULL;
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static int parse_handler(json_object *container, json_object *probe, const char *key, struct probe_spec *s,
			 char **ret_err)
{
	json_object *h;

	if ((h = json_get_path(probe, "exec"))) {
		s->kind = PROBE_EXEC;
		s->argv = strv_from(json_get_path(h, "command"), NULL, "%s", NULL, NULL);
		if (!s->argv)
			return -ENOMEM;
		return s->argv[0] ? 0 : fail(ret_err, key, "exec.command is empty", NULL);
	}
	if ((h = json_get_path(probe, "httpGet"))) {
		const char *scheme = json_get_string(h, "scheme");

		if (scheme && strcmp(scheme, "HTTP") != 0)
			return fail(ret_err, key, "httpGet.scheme ", scheme);
		s->kind = PROBE_HTTP;
		s->path = strdup(json_get_string(h, "path") ?: "/");
		s->headers = strv_from(json_get_path(h, "httpHeaders"), "%s: %s", NULL, "name", "value");
		if (!s->path || !s->headers)
			return -ENOMEM;
	} else if ((h = json_get_path(probe, "tcpSocket"))) {
		s->kind = PROBE_TCP;
	} else {
		return fail(ret_err, key, "no exec, httpGet or tcpSocket handler", NULL);
	}
	s->port = resolve_port(container, json_get_path(h, "port"));
	if (s->port <= 0 || s->port > 65535)
		return fail(ret_err, key, "port not found in the container's ports: ",
			    json_object_get_string(json_get_path(h, "port")) ?: "(none)");
	if (json_get_string(h, "host") && *json_get_string(h, "host") && !(s->host = strdup(json_get_string(h, "host"))))
		return -ENOMEM;
	return 0;
}

int probe_spec_parse(json_object *container, const char *key, struct probe_spec *ret, char **ret_err)
{
	json_object *probe = json_get_path(container, key);
	struct probe_spec s = { 0 };
	int r;

	*ret_err = NULL;
	if (!probe || !json_object_is_type(probe, json_type_object)) {
		*ret = s;
		return 0;
	}
	s.initial_delay_s = int_or(probe, "initialDelaySeconds", 0);
	s.period_s = int_or(probe, "periodSeconds", 10);
	s.timeout_s = int_or(probe, "timeoutSeconds", 1);
	s.success_threshold = int_or(probe, "successThreshold", 1);
	s.failure_threshold = int_or(probe, "failureThreshold", 3);
	if (s.period_s < 1)
		s.period_s = 1;
	if (s.timeout_s < 1)
		s.timeout_s = 1;
	if (s.success_threshold < 1)
		s.success_threshold = 1;
	if (s.failure_threshold < 1)
		s.failure_threshold = 1;
	r = parse_handler(container, probe, key, &s, ret_err);
	if (r < 0) {
		probe_spec_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void probe_spec_done(struct probe_spec *spec)
{
	if (!spec)
		return;
	strv_free(spec->argv);
	strv_free(spec->headers);
	free(spec->host);
	free(spec->path);
	*spec = (struct probe_spec){ 0 };
}

void probe_state_init(struct probe_state *st, const struct probe_spec *spec, bool initial_ok, int64_t started_ms)
{
	*st = (struct probe_state){ .ok = initial_ok, .next_ms = started_ms + (int64_t)spec->initial_delay_s * 1000 };
}

bool probe_state_record(struct probe_state *st, const struct probe_spec *spec, bool success, int64_t now_ms)
{
	bool was = st->ok;

	if (success) {
		st->failures = 0;
		if (++st->successes >= spec->success_threshold)
			st->ok = true;
	} else {
		st->successes = 0;
		if (++st->failures >= spec->failure_threshold)
			st->ok = false;
	}
	st->next_ms = now_ms + (int64_t)spec->period_s * 1000;
	return st->ok != was;
}
