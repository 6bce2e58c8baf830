/* A pod's runtime state on disk (<run>/pods/<uid>/state.json) and the core/v1 status made
 * from it. state: {"pod":{..},"sandbox":{"pid","procStart"},"podIP","startTime",
 * "containers":{"<name>":{"state":"waiting|running|exited","reason","message","pid",
 * "procStart","startedAt","finishedAt","exitCode","restartCount","image","lastState",
 * "backoffUntil","killDeadline"}}}; while a status is built, "ready": false marks a running
 * container its readiness probe does not find ready, "started": false one whose startup probe
 * has not passed yet. */
#ifndef SKIFF_AGENT_PODS_RUNTIME_STATE_H
#define SKIFF_AGENT_PODS_RUNTIME_STATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <time.h>

#include "pods/sandbox.h"

/* NULL with errno (ENOENT: no such pod) on failure. */
json_object *rstate_load(const char *run_dir, const char *uid);
int rstate_save(const char *run_dir, const char *uid, json_object *state);

/* RFC 3339 UTC, seconds: "2026-11-28T10:00:00Z". */
void rstate_now(char buf[32]);

/* The container's entry, made (state waiting) when missing. Borrowed. */
json_object *rstate_container(json_object *state, const char *name);
/* {"pid","procStart"} of obj; -ESRCH when absent. */
int rstate_get_proc(json_object *obj, struct proc_id *ret);
void rstate_set_proc(json_object *obj, const struct proc_id *id);

void rstate_set_waiting(json_object *cs, const char *reason, const char *message);
void rstate_set_running(json_object *cs, const struct proc_id *id);
/* Running -> exited (moving nothing else); wait_status -1: unknown (not our child). */
void rstate_set_exited(json_object *cs, int wait_status);
/* A running container whose process is gone becomes exited (reaped when it is our child).
 * True when the entry changed. */
bool rstate_container_refresh(json_object *cs);

/* Back-off before restart number n (1-based) of a container: 0 s for the first, then 10 s
 * doubling up to 300 s, as the kubelet does from its second restart on. */
int rstate_backoff_seconds(int restart);
/* Should the container run now under restartPolicy ("Always", "OnFailure", "Never") at time
 * now (epoch seconds)? Never started, or waiting after a failed start: yes. An exited one due
 * for a restart becomes lastState, restartCount goes up, and it waits in CrashLoopBackOff
 * until its back-off has passed (yes at once for a zero back-off). */
bool rstate_should_start(json_object *cs, const char *policy, time_t now);

/* The runtime status of runtime.h: phase (by restartPolicy), podIP, startTime,
 * initContainerStatuses and containerStatuses in spec order. New object. */
json_object *rstate_pod_status(json_object *state);

#endif
