/* The runtime's prober: liveness, readiness and startup state per container run, each due probe run on
 * a thread of its own so the runtime's lock (and the agent's sync) never waits on a probe. */
#ifndef SKIFF_AGENT_PODS_PROBE_MANAGER_H
#define SKIFF_AGENT_PODS_PROBE_MANAGER_H

#include <json-c/json.h>
#include <stdbool.h>

#include "pods/runtime.h"
#include "pods/sandbox.h"

struct probe_manager;

/* events (optional, copied) gets the Unhealthy events; rt is handed to exec probes. NULL
 * with errno set. */
struct probe_manager *probe_manager_new(struct pod_runtime *rt, const struct runtime_event_hooks *events);
/* Waits for the probes in flight (each is bounded by its timeout), then frees everything. */
void probe_manager_free(struct probe_manager *pm);

/* One container of a pod, as the runtime sees it at a sync. */
struct probe_container {
	const char *ns, *pod_name, *uid, *name, *pod_ip;
	json_object *spec;              /* the container's spec (its probes, its ports) */
	const char *run;                /* identifies this run of the container; NULL: not running */
	const struct proc_id *sandbox;  /* whose network namespace tcp/http probes use */
};

/* Brings the container's probes up to date: a new run starts over (readiness and startup
 * false, liveness true, initial delays counted from now), due probes are started (liveness and
 * readiness only once a startup probe has passed). Non-NULL ("liveness", "startup") once, when
 * that probe has failed failureThreshold times in a row: the caller kills this run. */
const char *probe_manager_step(struct probe_manager *pm, const struct probe_container *c);

/* Is this run of the container (spec: its spec) ready as far as probes go? True when it has
 * no readiness or startup probe; false for a run the manager has not seen yet. */
bool probe_manager_ready(struct probe_manager *pm, const char *uid, json_object *spec, const char *run);
/* Has its startup probe passed (the status's "started")? True when it has none. */
bool probe_manager_started(struct probe_manager *pm, const char *uid, json_object *spec, const char *run);

/* Forgets a pod's containers (probes in flight finish and are dropped). */
void probe_manager_forget(struct probe_manager *pm, const char *uid);

#endif
