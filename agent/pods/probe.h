/* Container probes (liveness, readiness): the spec as parsed from a core/v1 Probe, the
 * per-container state machine (pure: times are passed in), and running one probe. */
#ifndef SKIFF_AGENT_PODS_PROBE_H
#define SKIFF_AGENT_PODS_PROBE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pod_runtime;

enum probe_kind { PROBE_NONE, PROBE_EXEC, PROBE_TCP, PROBE_HTTP };

struct probe_spec {
	enum probe_kind kind;
	/* Kubernetes' defaults: 0, 10, 1, 1, 3. */
	int initial_delay_s, period_s, timeout_s, success_threshold, failure_threshold;
	char **argv;   /* exec: NULL-terminated */
	int port;      /* tcp, http: a named port already resolved from the container's ports */
	char *host;    /* tcp, http: NULL for the pod's IP */
	char *path;    /* http: "/" when unset */
	char **headers; /* http: "Name: value", NULL-terminated (may be NULL) */
};

/* The container's probe under key ("livenessProbe", "readinessProbe"): PROBE_NONE (0) when it
 * has none. -EINVAL with *ret_err (caller frees) for one that cannot run: no handler, a port
 * name the container does not declare, scheme HTTPS. */
int probe_spec_parse(json_object *container, const char *key, struct probe_spec *ret, char **ret_err);
void probe_spec_done(struct probe_spec *spec);

/* One probe of one container run. ok is the result the kubelet reports: a readiness probe
 * starts false, a liveness probe true; it flips after threshold results in a row. */
struct probe_state {
	int64_t next_ms;   /* monotonic: when the next probe is due */
	int successes, failures; /* results in a row */
	bool ok;
};

/* The state of a run that started at started_ms (monotonic). */
void probe_state_init(struct probe_state *st, const struct probe_spec *spec, bool initial_ok, int64_t started_ms);
static inline bool probe_due(const struct probe_state *st, int64_t now_ms)
{
	return now_ms >= st->next_ms;
}
/* Records one result at now_ms and schedules the next probe. True when ok flipped. */
bool probe_state_record(struct probe_state *st, const struct probe_spec *spec, bool success, int64_t now_ms);

/* Where a probe runs: the pod's network namespace (tcp, http) and its IP there (NULL or
 * empty: 127.0.0.1), the runtime and container for exec probes. */
struct probe_target {
	int netns_fd;
	const char *pod_ip;
	struct pod_runtime *rt;
	const char *uid, *container;
};

/* Runs one probe, blocking up to about its timeout. 1: success, 0: failure with the reason in
 * msg (as the kubelet words it: "HTTP probe failed with statuscode: 500"), < 0: it could not
 * be run (counted as a failure by the caller, msg says why). */
int probe_run(const struct probe_spec *spec, const struct probe_target *t, char *msg, size_t msg_size);
/* The exec part of probe_run: the command through pod_exec_run, exit 0 is a success, its
 * output (cut short) the failure's message. */
int probe_exec_run(const struct probe_spec *spec, const struct probe_target *t, char *msg, size_t msg_size);

#endif
