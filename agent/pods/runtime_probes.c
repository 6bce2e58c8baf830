/* The runtime's probes (see probe_manager.h) and the lifecycle events it emits around them:
 * BackOff when a container enters a back-off, Killing for a failed liveness or startup probe
 * and for a stop. */
#include "pods/runtime_internal.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <skiff/json.h>

#include "pods/probe_manager.h"
#include "pods/runtime_state.h"
#include "pods/sandbox.h"

/* rstate_should_start, with a BackOff event when the container enters a back-off. */
bool rt_should_start(struct pod_runtime *rt, json_object *pod, json_object *c, json_object *cs, const char *policy)
{
	bool exited = strcmp(json_get_string(cs, "state") ?: "", "exited") == 0, start;
	const char *name = json_get_string(c, "name") ?: "";

	start = rstate_should_start(cs, policy, time(NULL));
	if (exited && !start && strcmp(json_get_string(cs, "reason") ?: "", "CrashLoopBackOff") == 0)
		rt_event(rt, pod, name, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s", name,
			 json_get_string(pod, "metadata.name") ?: "");
	return start;
}

/* "pid:procStart" of a running container: what tells one run from the next. */
static bool run_id(json_object *cs, char buf[64])
{
	struct proc_id id;

	if (strcmp(json_get_string(cs, "state") ?: "", "running") != 0 || rstate_get_proc(cs, &id) < 0)
		return false;
	snprintf(buf, 64, "%d:%llu", id.pid, (unsigned long long)id.start_time);
	return true;
}

/* Kills a run whose liveness or startup probe (`failed`: "liveness", "startup") failed: SIGTERM
 * now, SIGKILL once the grace period (the probe's terminationGracePeriodSeconds, else the
 * pod's, else 30 s) is over; the restart follows from the restartPolicy when it has exited. */
static void probe_kill(struct pod_runtime *rt, json_object *pod, json_object *c, json_object *cs, const char *failed)
{
	const char *name = json_get_string(c, "name") ?: "";
	json_object *g = NULL, *deadline;
	struct proc_id id;
	char key[64];

	if (rstate_get_proc(cs, &id) < 0)
		return;
	if (failed) {
		snprintf(key, sizeof(key), "%sProbe.terminationGracePeriodSeconds", failed);
		g = json_get_path(c, key);
		if (!g)
			g = json_get_path(pod, "spec.terminationGracePeriodSeconds");
		rt_event(rt, pod, name, "Normal", "Killing", "Container %s failed %s probe, will be restarted", name, failed);
		proc_id_kill(&id, SIGTERM);
		json_object_object_add(cs, "killDeadline",
				       json_object_new_int64((int64_t)time(NULL) + (g ? json_object_get_int64(g) : 30)));
	} else if ((deadline = json_get_path(cs, "killDeadline")) && time(NULL) >= json_object_get_int64(deadline)) {
		proc_id_kill(&id, SIGKILL);
	}
}

/* Steps the probes of every app container; a failed liveness or startup probe kills its run. */
void rt_probe_containers(struct pod_runtime *rt, json_object *state, json_object *pod, const char *uid)
{
	json_object *specs = json_get_path(pod, "spec.containers");
	struct proc_id sb;
	bool have_sb = rstate_get_proc(json_get_path(state, "sandbox"), &sb) >= 0;

	for (size_t i = 0; specs && i < json_object_array_length(specs); i++) {
		json_object *c = json_object_array_get_idx(specs, i);
		json_object *cs = rstate_container(state, json_get_string(c, "name") ?: "");
		char run[64];
		bool running = cs && run_id(cs, run);
		const char *kill;

		if (!cs)
			continue;
		kill = probe_manager_step(rt->probes, &(struct probe_container){
			.ns = json_get_string(pod, "metadata.namespace") ?: "default",
			.pod_name = json_get_string(pod, "metadata.name") ?: "", .uid = uid,
			.name = json_get_string(c, "name") ?: "", .pod_ip = json_get_string(state, "podIP"), .spec = c,
			.run = running ? run : NULL, .sandbox = have_sb ? &sb : NULL });
		if (running)
			probe_kill(rt, pod, c, cs, kill);
	}
}

/* Marks running containers their readiness probe does not (yet) find ready, and those whose
 * startup probe has not passed yet as not started. */
void rt_mark_unready(struct pod_runtime *rt, json_object *state, const char *uid)
{
	json_object *specs = json_get_path(state, "pod.spec.containers");

	for (size_t i = 0; json_object_is_type(specs, json_type_array) && i < json_object_array_length(specs); i++) {
		json_object *c = json_object_array_get_idx(specs, i);
		json_object *cs = json_get_path(json_get_path(state, "containers"), json_get_string(c, "name") ?: "");
		char run[64];

		if (!cs || !run_id(cs, run))
			continue;
		json_object_object_add(cs, "ready", json_object_new_boolean(probe_manager_ready(rt->probes, uid, c, run)));
		json_object_object_add(cs, "started",
				       json_object_new_boolean(probe_manager_started(rt->probes, uid, c, run)));
	}
}

/* Killing for every container still running, as the kubelet says it on a pod's delete. */
void rt_stop_events(struct pod_runtime *rt, json_object *state)
{
	json_object *all = json_get_path(state, "containers"), *pod = json_get_path(state, "pod");
	char run[64];

	if (!all || !pod)
		return;
	json_object_object_foreach(all, name, cs) {
		if (run_id(cs, run))
			rt_event(rt, pod, name, "Normal", "Killing", "Stopping container %s", name);
	}
}
