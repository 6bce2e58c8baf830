/* A pod's runtime state on disk and the status made from it (see runtime_state.h). */
#include "pods/runtime_state.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "pods/mounts.h"

static char *state_path(const char *run_dir, const char *uid)
{
	char *p;

	return asprintf(&p, "%s/pods/%s/state.json", run_dir, uid) < 0 ? NULL : p;
}

json_object *rstate_load(const char *run_dir, const char *uid)
{
	_cleanup_free_ char *path = state_path(run_dir, uid), *buf = NULL;
	json_object *state;
	const char *err;
	int r;

	if (!path) {
		errno = ENOMEM;
		return NULL;
	}
	r = fs_read_file(path, &buf);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	state = json_parse_buffer(buf, strlen(buf), &err);
	if (!state || !json_object_is_type(state, json_type_object)) {
		json_object_put(state);
		errno = EBADMSG;
		return NULL;
	}
	return state;
}

int rstate_save(const char *run_dir, const char *uid, json_object *state)
{
	_cleanup_free_ char *path = state_path(run_dir, uid);

	if (!path)
		return -ENOMEM;
	return fs_write_file(path, json_object_to_json_string_ext(state, JSON_C_TO_STRING_PLAIN), 0600);
}

void rstate_now(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_object *rstate_container(json_object *state, const char *name)
{
	json_object *all = json_ensure_object(state, "containers"), *cs;

	if (!all)
		return NULL;
	if (json_object_object_get_ex(all, name, &cs))
		return cs;
	cs = json_object_new_object();
	if (!cs)
		return NULL;
	json_object_object_add(cs, "state", json_object_new_string("waiting"));
	json_object_object_add(cs, "restartCount", json_object_new_int(0));
	json_object_object_add(all, name, cs);
	return cs;
}

int rstate_get_proc(json_object *obj, struct proc_id *ret)
{
	json_object *pid = json_get_path(obj, "pid"), *start = json_get_path(obj, "procStart");

	if (!pid || !start || json_object_get_int(pid) <= 0)
		return -ESRCH;
	ret->pid = json_object_get_int(pid);
	ret->start_time = (uint64_t)json_object_get_int64(start);
	return 0;
}

void rstate_set_proc(json_object *obj, const struct proc_id *id)
{
	json_object_object_add(obj, "pid", json_object_new_int(id->pid));
	json_object_object_add(obj, "procStart", json_object_new_int64((int64_t)id->start_time));
}

static void set_str(json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
	else
		json_object_object_del(o, key);
}

void rstate_set_waiting(json_object *cs, const char *reason, const char *message)
{
	set_str(cs, "state", "waiting");
	set_str(cs, "reason", reason);
	set_str(cs, "message", message);
}

void rstate_set_running(json_object *cs, const struct proc_id *id)
{
	char now[32];

	rstate_now(now);
	set_str(cs, "state", "running");
	set_str(cs, "reason", NULL);
	set_str(cs, "message", NULL);
	set_str(cs, "startedAt", now);
	set_str(cs, "finishedAt", NULL);
	json_object_object_del(cs, "exitCode");
	json_object_object_del(cs, "backoffUntil");
	json_object_object_del(cs, "killDeadline");
	json_object_object_del(cs, "ready");
	json_object_object_del(cs, "started");
	rstate_set_proc(cs, id);
}

void rstate_set_exited(json_object *cs, int wait_status)
{
	char now[32];
	int code = 255;
	const char *reason = "Unknown"; /* adopted after a restart: not ours to reap */

	if (wait_status != -1 && WIFEXITED(wait_status)) {
		code = WEXITSTATUS(wait_status);
		reason = code == 0 ? "Completed" : "Error";
	} else if (wait_status != -1 && WIFSIGNALED(wait_status)) {
		code = 128 + WTERMSIG(wait_status);
		reason = WTERMSIG(wait_status) == SIGKILL ? "Killed" : "Error";
	}
	rstate_now(now);
	set_str(cs, "state", "exited");
	set_str(cs, "reason", reason);
	set_str(cs, "message", NULL);
	set_str(cs, "finishedAt", now);
	json_object_object_add(cs, "exitCode", json_object_new_int(code));
	json_object_object_del(cs, "pid");
	json_object_object_del(cs, "procStart");
	json_object_object_del(cs, "killDeadline");
	json_object_object_del(cs, "ready");
	json_object_object_del(cs, "started");
}

bool rstate_container_refresh(json_object *cs)
{
	struct proc_id id;
	int status = -1;
	pid_t r;

	if (strcmp(json_get_string(cs, "state") ?: "", "running") != 0 || rstate_get_proc(cs, &id) < 0)
		return false;
	r = waitpid(id.pid, &status, WNOHANG);
	if (r == id.pid) {
		rstate_set_exited(cs, status);
		return true;
	}
	if (r == 0 || proc_id_alive(&id))
		return false;
	rstate_set_exited(cs, -1);
	return true;
}

int rstate_backoff_seconds(int restart)
{
	int s = 10;

	if (restart <= 1)
		return 0;
	for (int i = 2; i < restart && s < 300; i++)
		s *= 2;
	return s < 300 ? s : 300;
}

static bool policy_restarts(const char *policy, json_object *cs)
{
	if (strcmp(policy, "Always") == 0)
		return true;
	return strcmp(policy, "OnFailure") == 0 && json_object_get_int(json_get_path(cs, "exitCode")) != 0;
}

/* The exited run becomes lastState.terminated; the count goes up. */
static void move_to_last_state(json_object *cs)
{
	static const char *const keys[] = { "exitCode", "reason", "startedAt", "finishedAt" };
	json_object *last = json_object_new_object(), *term = json_object_new_object(), *v;

	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (json_object_object_get_ex(cs, keys[i], &v))
			json_object_object_add(term, keys[i], json_object_get(v));
	json_object_object_add(last, "terminated", term);
	json_object_object_add(cs, "lastState", last);
	json_object_object_add(cs, "restartCount",
			       json_object_new_int(json_object_get_int(json_get_path(cs, "restartCount")) + 1));
	json_object_object_del(cs, "exitCode");
	json_object_object_del(cs, "finishedAt");
	json_object_object_del(cs, "startedAt");
}

bool rstate_should_start(json_object *cs, const char *policy, time_t now)
{
	const char *st = json_get_string(cs, "state") ?: "waiting";
	const char *reason = json_get_string(cs, "reason") ?: "";
	int backoff;
	char msg[128];

	if (strcmp(st, "waiting") == 0)
		return strcmp(reason, "CrashLoopBackOff") != 0 ||
		       now >= (time_t)json_object_get_int64(json_get_path(cs, "backoffUntil"));
	if (strcmp(st, "exited") != 0 || !policy_restarts(policy, cs))
		return false;
	move_to_last_state(cs);
	backoff = rstate_backoff_seconds(json_object_get_int(json_get_path(cs, "restartCount")));
	if (backoff == 0)
		return true;
	snprintf(msg, sizeof(msg), "back-off %ds restarting failed container", backoff);
	rstate_set_waiting(cs, "CrashLoopBackOff", msg);
	json_object_object_add(cs, "backoffUntil", json_object_new_int64((int64_t)now + backoff));
	return false;
}

static json_object *container_state_json(json_object *cs)
{
	static const char *const waiting[] = { "reason", "message", NULL };
	static const char *const running[] = { "startedAt", NULL };
	static const char *const exited[] = { "exitCode", "reason", "message", "startedAt", "finishedAt", NULL };
	const char *st = json_get_string(cs, "state") ?: "waiting";
	json_object *out = json_object_new_object(), *inner = json_object_new_object(), *v;
	const char *const *keys = waiting;

	if (strcmp(st, "running") == 0)
		keys = running;
	else if (strcmp(st, "exited") == 0)
		keys = exited;
	for (; *keys; keys++)
		if (json_object_object_get_ex(cs, *keys, &v))
			json_object_object_add(inner, *keys, json_object_get(v));
	json_object_object_add(out, strcmp(st, "exited") == 0 ? "terminated" : st, inner);
	return out;
}

struct phase_count {
	size_t n, running, exited, failed, never_started;
};

/* containerStatuses entries for one spec list, counting what the phase depends on. */
static json_object *status_list(json_object *state, json_object *specs, struct phase_count *pc)
{
	json_object *list = json_object_new_array(), *v;
	size_t n = specs && json_object_is_type(specs, json_type_array) ? json_object_array_length(specs) : 0;

	*pc = (struct phase_count){ .n = n };
	for (size_t i = 0; list && i < n; i++) {
		json_object *spec = json_object_array_get_idx(specs, i);
		const char *name = json_get_string(spec, "name") ?: "";
		json_object *cs = json_get_path(json_get_path(state, "containers"), name);
		json_object *o = json_object_new_object();
		const char *st = cs ? json_get_string(cs, "state") : "waiting";
		int restarts = cs ? json_object_get_int(json_get_path(cs, "restartCount")) : 0;

		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "image", json_object_new_string(json_get_string(spec, "image") ?: ""));
		json_object_object_add(o, "imageID", json_object_new_string(""));
		/* "ready": false is the prober's word on a running container (its readiness probe). */
		json_object_object_add(o, "ready", json_object_new_boolean(strcmp(st, "running") == 0 &&
									   (!json_object_object_get_ex(cs, "ready", &v) ||
									    json_object_get_boolean(v))));
		json_object_object_add(o, "started", json_object_new_boolean(strcmp(st, "running") == 0 &&
									     (!json_object_object_get_ex(cs, "started", &v) ||
									      json_object_get_boolean(v))));
		json_object_object_add(o, "restartCount", json_object_new_int(restarts));
		json_object_object_add(o, "state", cs ? container_state_json(cs) : json_object_new_object());
		if (cs && json_object_object_get_ex(cs, "lastState", &v))
			json_object_object_add(o, "lastState", json_object_get(v));
		json_object_array_add(list, o);
		pc->running += strcmp(st, "running") == 0;
		pc->exited += strcmp(st, "exited") == 0;
		pc->failed += strcmp(st, "exited") == 0 && json_object_get_int(json_get_path(cs, "exitCode")) != 0;
		pc->never_started += strcmp(st, "waiting") == 0 && restarts == 0;
	}
	return list;
}

/* Kubernetes' phase: Pending until every container has started once (init containers all
 * done); Succeeded/Failed only once all have exited and the policy restarts none of them. */
static const char *pod_phase(const char *policy, const struct phase_count *init, const struct phase_count *app)
{
	bool never = strcmp(policy, "Never") == 0, on_failure = strcmp(policy, "OnFailure") == 0;

	if (init->failed && never)
		return "Failed";
	if (init->exited - init->failed < init->n || app->n == 0 || app->never_started)
		return "Pending";
	if (app->exited == app->n && (never || (on_failure && app->failed == 0)))
		return app->failed ? "Failed" : "Succeeded";
	return "Running";
}

json_object *rstate_pod_status(json_object *state)
{
	const char *policy = json_get_string(state, "pod.spec.restartPolicy") ?: "Always";
	json_object *out = json_object_new_object(), *v;
	struct phase_count init, app;
	json_object *inits = status_list(state, json_get_path(state, "pod.spec.initContainers"), &init);
	json_object *apps = status_list(state, json_get_path(state, "pod.spec.containers"), &app);

	json_object_object_add(out, "phase", json_object_new_string(pod_phase(policy, &init, &app)));
	json_object_object_add(out, "podIP", json_object_new_string(json_get_string(state, "podIP") ?: ""));
	if (json_object_object_get_ex(state, "startTime", &v))
		json_object_object_add(out, "startTime", json_object_get(v));
	if (init.n)
		json_object_object_add(out, "initContainerStatuses", inits);
	else
		json_object_put(inits);
	json_object_object_add(out, "containerStatuses", apps);
	return out;
}
