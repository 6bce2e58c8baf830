/* Running a command inside a running container (kubectl exec, exec probes): its mount, pid, net,
 * ipc and uts namespaces, its cgroup, env, user, working dir and capabilities. */
#ifndef SKIFF_AGENT_PODS_EXEC_H
#define SKIFF_AGENT_PODS_EXEC_H

#include <json-c/json.h>

#include "pods/runtime.h"

/* Runs argv (argv[0] looked up in the container's PATH when it has no '/') in container
 * `container` of pod `uid` and waits for it. stdin_fd/stdout_fd/stderr_fd become the command's
 * 0/1/2 (< 0: /dev/null). timeout_ms <= 0: no limit; past it the command is SIGKILLed and
 * -ETIMEDOUT returned. On success (0) *ret_exit_code is the command's exit status, or 128 + the
 * signal that killed it; 127 when argv[0] is not found, 126 when it cannot be executed.
 * -ENOENT: no such pod or container; -ESRCH: the container is not running. Blocking; safe to
 * call from several threads at once. */
int pod_exec_run(struct pod_runtime *rt, const char *uid, const char *container, char *const argv[], int stdin_fd,
		 int stdout_fd, int stderr_fd, int timeout_ms, int *ret_exit_code);

/* pod_exec_run that also SIGKILLs the command (-ECANCELED) once cancel_fd (>= 0) is readable:
 * for a client that went away. */
int pod_exec_run_cancel(struct pod_runtime *rt, const char *uid, const char *container, char *const argv[],
			int stdin_fd, int stdout_fd, int stderr_fd, int timeout_ms, int cancel_fd, int *ret_exit_code);

/* The pod's runtime state (runtime_state.h's shape: "pod", "containers".<name>.{state,
 * restartCount, reason, ...}) as last saved, read under the runtime lock without reaping
 * anything: for the log and exec endpoints, which only look. -ENOENT for an unknown pod. */
int pod_exec_state(struct pod_runtime *rt, const char *uid, json_object **ret_state);

#endif
