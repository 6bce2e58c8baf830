/* The runtime's decisions on a pod's state, without a kernel: restart policy, back-off,
 * lastState, and the phase and statuses reported. */
#include <criterion/criterion.h>

#include <string.h>
#include <sys/wait.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "pods/runtime_state.h"

static json_object *exited_entry(json_object *state, const char *name, int code)
{
	json_object *cs = rstate_container(state, name);
	struct proc_id id = { .pid = 42, .start_time = 7 };

	rstate_set_running(cs, &id);
	rstate_set_exited(cs, code << 8); /* a wait status with that exit code */
	return cs;
}

Test(agent_runtime_state, backoff_schedule)
{
	static const int want[] = { 0, 0, 10, 20, 40, 80, 160, 300, 300 };

	for (int i = 1; i < 9; i++)
		cr_expect_eq(rstate_backoff_seconds(i), want[i], "restart %d", i);
}

Test(agent_runtime_state, restart_policies)
{
	_cleanup_json_ json_object *state = json_object_new_object();
	json_object *cs;

	cs = rstate_container(state, "fresh");
	cr_expect(rstate_should_start(cs, "Never", 1000), "a never-started container starts");
	cs = exited_entry(state, "ok", 0);
	cr_expect_str_eq(json_get_string(cs, "reason"), "Completed");
	cr_expect(!rstate_should_start(cs, "Never", 1000));
	cr_expect(!rstate_should_start(cs, "OnFailure", 1000));
	cr_expect_eq(json_object_get_int(json_get_path(cs, "restartCount")), 0);
	cr_expect(rstate_should_start(cs, "Always", 1000), "first restart at once");
	cr_expect_eq(json_object_get_int(json_get_path(cs, "restartCount")), 1);
	cr_expect_eq(json_object_get_int(json_get_path(cs, "lastState.terminated.exitCode")), 0);

	cs = exited_entry(state, "bad", 3);
	cr_expect_str_eq(json_get_string(cs, "reason"), "Error");
	cr_expect(!rstate_should_start(cs, "Never", 1000));
	cr_expect(rstate_should_start(cs, "OnFailure", 1000));
	/* It fails again: the second restart waits 10 s. */
	json_object_object_add(cs, "state", json_object_new_string("running"));
	json_object_object_add(cs, "pid", json_object_new_int(42));
	rstate_set_exited(cs, 3 << 8);
	cr_expect(!rstate_should_start(cs, "OnFailure", 1000));
	cr_expect_str_eq(json_get_string(cs, "state"), "waiting");
	cr_expect_str_eq(json_get_string(cs, "reason"), "CrashLoopBackOff");
	cr_expect_eq(json_object_get_int(json_get_path(cs, "restartCount")), 2);
	cr_expect(!rstate_should_start(cs, "OnFailure", 1009));
	cr_expect(rstate_should_start(cs, "OnFailure", 1010));
	cr_expect_eq(json_object_get_int(json_get_path(cs, "restartCount")), 2, "counted once");
}

Test(agent_runtime_state, killed_by_signal)
{
	_cleanup_json_ json_object *state = json_object_new_object();
	json_object *cs = rstate_container(state, "c");
	struct proc_id id = { .pid = 42, .start_time = 7 };

	rstate_set_running(cs, &id);
	rstate_set_exited(cs, SIGKILL);
	cr_expect_eq(json_object_get_int(json_get_path(cs, "exitCode")), 137);
	cr_expect_str_eq(json_get_string(cs, "reason"), "Killed");
	cr_expect_null(json_get_path(cs, "pid"));
	rstate_set_running(cs, &id);
	rstate_set_exited(cs, -1);
	cr_expect_str_eq(json_get_string(cs, "reason"), "Unknown");
}

static json_object *state_for(const char *spec)
{
	char buf[2048];
	json_object *state;

	snprintf(buf, sizeof(buf), "{\"pod\":{\"spec\":%s},\"podIP\":\"10.0.0.9\",\"startTime\":\"t\"}", spec);
	state = json_tokener_parse(buf);
	cr_assert(state);
	return state;
}

static const char *phase(json_object *state)
{
	static char buf[32];
	_cleanup_json_ json_object *st = rstate_pod_status(state);

	snprintf(buf, sizeof(buf), "%s", json_get_string(st, "phase"));
	return buf;
}

Test(agent_runtime_state, phases)
{
	_cleanup_json_ json_object *never = state_for("{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}");
	_cleanup_json_ json_object *always = state_for("{\"containers\":[{\"name\":\"a\"}]}");
	_cleanup_json_ json_object *init = state_for("{\"restartPolicy\":\"Never\",\"initContainers\":[{\"name\":\"i\"}],"
						     "\"containers\":[{\"name\":\"a\"}]}");
	_cleanup_json_ json_object *st = NULL;
	struct proc_id id = { .pid = 1, .start_time = 1 };

	cr_expect_str_eq(phase(never), "Pending");
	rstate_set_running(rstate_container(never, "a"), &id);
	cr_expect_str_eq(phase(never), "Pending", "b not started yet");
	rstate_set_running(rstate_container(never, "b"), &id);
	cr_expect_str_eq(phase(never), "Running");
	exited_entry(never, "a", 0);
	cr_expect_str_eq(phase(never), "Running");
	exited_entry(never, "b", 0);
	cr_expect_str_eq(phase(never), "Succeeded");
	exited_entry(never, "b", 1);
	cr_expect_str_eq(phase(never), "Failed");

	exited_entry(always, "a", 0);
	cr_expect_str_eq(phase(always), "Running", "Always restarts: never Succeeded");

	cr_expect_str_eq(phase(init), "Pending");
	exited_entry(init, "i", 0);
	cr_expect_str_eq(phase(init), "Pending", "init done, app not started");
	rstate_set_running(rstate_container(init, "a"), &id);
	cr_expect_str_eq(phase(init), "Running");
	exited_entry(init, "i", 2);
	cr_expect_str_eq(phase(init), "Failed");

	st = rstate_pod_status(init);
	cr_expect_str_eq(json_get_string(st, "podIP"), "10.0.0.9");
	cr_expect_str_eq(json_get_string(json_object_array_get_idx(json_get_path(st, "initContainerStatuses"), 0), "name"), "i");
	cr_expect_eq(json_object_get_int(json_get_path(json_object_array_get_idx(json_get_path(st, "initContainerStatuses"), 0),
						       "state.terminated.exitCode")),
		     2);
	cr_expect(json_object_get_boolean(
		json_get_path(json_object_array_get_idx(json_get_path(st, "containerStatuses"), 0), "ready")));
}
