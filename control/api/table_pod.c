/* The pod table: printPod's READY, STATUS (phase, container and init-container reasons,
 * Terminating) and RESTARTS ("3 (5m ago)") cells, and the wide columns. */
#include "api/table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <skiff/json.h>

struct last_restart {
	bool set;
	time_t t;
};

static const char *str(json_object *o, const char *path)
{
	const char *s = json_get_string(o, path);

	return s ? s : "";
}

static bool is_true(json_object *o, const char *path)
{
	json_object *v = json_get_path(o, path);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static size_t arr_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* The condition of type in status.conditions, or NULL. */
static json_object *find_condition(json_object *pod, const char *type)
{
	json_object *conds = json_get_path(pod, "status.conditions");

	for (size_t i = 0; i < arr_len(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (strcmp(str(c, "type"), type) == 0)
			return c;
	}
	return NULL;
}

static bool condition_true(json_object *pod, const char *type)
{
	json_object *c = find_condition(pod, type);

	return c && strcmp(str(c, "status"), "True") == 0;
}

/* Sidecars: init containers with restartPolicy Always count as containers. */
static bool init_restartable(json_object *pod, const char *name)
{
	json_object *inits = json_get_path(pod, "spec.initContainers");

	for (size_t i = 0; i < arr_len(inits); i++) {
		json_object *c = json_object_array_get_idx(inits, i);

		if (strcmp(str(c, "name"), name) == 0)
			return strcmp(str(c, "restartPolicy"), "Always") == 0;
	}
	return false;
}

static void note_restart(json_object *cs, struct last_restart *lr)
{
	time_t t;

	if (!json_get_path(cs, "lastState.terminated"))
		return;
	if (table_parse_time(json_get_string(cs, "lastState.terminated.finishedAt"), &t) < 0)
		return;
	if (!lr->set || t > lr->t) {
		lr->set = true;
		lr->t = t;
	}
}

/* "Signal:9" / "ExitCode:1" for a terminated state without a reason. */
static void exit_reason(json_object *term, const char *prefix, char *buf, size_t len)
{
	int64_t sig = table_get_int(term, "signal");

	if (sig)
		snprintf(buf, len, "%sSignal:%lld", prefix, (long long)sig);
	else
		snprintf(buf, len, "%sExitCode:%lld", prefix, (long long)table_get_int(term, "exitCode"));
}

struct pod_summary {
	char reason[256];
	int64_t restarts, ready, total;
	struct last_restart last;
};

/* The init-container pass; true while the pod is still initializing. */
static bool scan_init(json_object *pod, struct pod_summary *ps, int64_t *sidecar_restarts,
		      struct last_restart *sidecar_last)
{
	json_object *st = json_get_path(pod, "status.initContainerStatuses");
	size_t n_init = arr_len(json_get_path(pod, "spec.initContainers"));

	for (size_t i = 0; i < arr_len(st); i++) {
		json_object *cs = json_object_array_get_idx(st, i);
		json_object *term = json_get_path(cs, "state.terminated");
		const char *wait = json_get_string(cs, "state.waiting.reason");
		bool sidecar = init_restartable(pod, str(cs, "name"));

		ps->restarts += table_get_int(cs, "restartCount");
		note_restart(cs, &ps->last);
		if (sidecar) {
			*sidecar_restarts += table_get_int(cs, "restartCount");
			note_restart(cs, sidecar_last);
		}
		if (term && table_get_int(term, "exitCode") == 0)
			continue;
		if (sidecar && is_true(cs, "started")) {
			ps->ready += is_true(cs, "ready");
			continue;
		}
		if (term) {
			const char *r = json_get_string(term, "reason");

			if (r && *r)
				snprintf(ps->reason, sizeof(ps->reason), "Init:%s", r);
			else
				exit_reason(term, "Init:", ps->reason, sizeof(ps->reason));
		} else if (json_get_path(cs, "state.waiting") && wait && *wait && strcmp(wait, "PodInitializing") != 0) {
			snprintf(ps->reason, sizeof(ps->reason), "Init:%s", wait);
		} else {
			snprintf(ps->reason, sizeof(ps->reason), "Init:%zu/%zu", i, n_init);
		}
		return true;
	}
	return false;
}

/* The container pass, last to first as printPod walks them. */
static void scan_containers(json_object *pod, struct pod_summary *ps)
{
	json_object *st = json_get_path(pod, "status.containerStatuses");
	bool has_running = false;

	for (size_t i = arr_len(st); i-- > 0;) {
		json_object *cs = json_object_array_get_idx(st, i);
		json_object *term = json_get_path(cs, "state.terminated");
		const char *wait = json_get_string(cs, "state.waiting.reason");
		const char *treason = term ? json_get_string(term, "reason") : NULL;

		ps->restarts += table_get_int(cs, "restartCount");
		note_restart(cs, &ps->last);
		if (json_get_path(cs, "state.waiting") && wait && *wait) {
			snprintf(ps->reason, sizeof(ps->reason), "%s", wait);
		} else if (term && treason && *treason) {
			snprintf(ps->reason, sizeof(ps->reason), "%s", treason);
		} else if (term) {
			exit_reason(term, "", ps->reason, sizeof(ps->reason));
		} else if (is_true(cs, "ready") && json_get_path(cs, "state.running")) {
			has_running = true;
			ps->ready++;
		}
	}
	if (strcmp(ps->reason, "Completed") == 0 && has_running)
		snprintf(ps->reason, sizeof(ps->reason), "%s", condition_true(pod, "Ready") ? "Running" : "NotReady");
}

static void summarize(json_object *pod, struct pod_summary *ps)
{
	json_object *inits = json_get_path(pod, "spec.initContainers");
	const char *phase = str(pod, "status.phase");
	json_object *sched = find_condition(pod, "PodScheduled");
	int64_t sidecar_restarts = 0;
	struct last_restart sidecar_last = { false, 0 };

	memset(ps, 0, sizeof(*ps));
	snprintf(ps->reason, sizeof(ps->reason), "%s", *str(pod, "status.reason") ? str(pod, "status.reason") : phase);
	if (sched && strcmp(str(sched, "reason"), "SchedulingGated") == 0)
		snprintf(ps->reason, sizeof(ps->reason), "SchedulingGated");
	ps->total = (int64_t)arr_len(json_get_path(pod, "spec.containers"));
	for (size_t i = 0; i < arr_len(inits); i++)
		ps->total += strcmp(str(json_object_array_get_idx(inits, i), "restartPolicy"), "Always") == 0;

	if (!scan_init(pod, ps, &sidecar_restarts, &sidecar_last) || condition_true(pod, "Initialized")) {
		ps->restarts = sidecar_restarts;
		ps->last = sidecar_last;
		scan_containers(pod, ps);
	}
	if (json_get_path(pod, "metadata.deletionTimestamp")) {
		if (strcmp(str(pod, "status.reason"), "NodeLost") == 0)
			snprintf(ps->reason, sizeof(ps->reason), "Unknown");
		else if (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)
			snprintf(ps->reason, sizeof(ps->reason), "Terminating");
	}
}

static void readiness_gates(json_object *pod, char *buf, size_t len)
{
	json_object *gates = json_get_path(pod, "spec.readinessGates");
	size_t n = arr_len(gates), ok = 0;

	if (n == 0) {
		snprintf(buf, len, "<none>");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *c = find_condition(pod, str(json_object_array_get_idx(gates, i), "conditionType"));

		ok += c && strcmp(str(c, "status"), "True") == 0;
	}
	snprintf(buf, len, "%zu/%zu", ok, n);
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "<none>";
}

static int pod_cells(json_object *pod, time_t now, json_object *cells)
{
	struct pod_summary ps;
	char ready[64], restarts[96], age[32], ago[32], gates[64];
	json_object *ips = json_get_path(pod, "status.podIPs");
	const char *ip = arr_len(ips) ? json_get_string(json_object_array_get_idx(ips, 0), "ip")
				      : json_get_string(pod, "status.podIP");

	summarize(pod, &ps);
	snprintf(ready, sizeof(ready), "%lld/%lld", (long long)ps.ready, (long long)ps.total);
	if (ps.restarts != 0 && ps.last.set) {
		table_format_age(ps.last.t, now, ago, sizeof(ago));
		snprintf(restarts, sizeof(restarts), "%lld (%s ago)", (long long)ps.restarts, ago);
	} else {
		snprintf(restarts, sizeof(restarts), "%lld", (long long)ps.restarts);
	}
	table_age_at(pod, "metadata.creationTimestamp", now, age, sizeof(age));
	readiness_gates(pod, gates, sizeof(gates));
	if (table_add_str(cells, json_get_string(pod, "metadata.name")) < 0 || table_add_str(cells, ready) < 0 ||
	    table_add_str(cells, ps.reason) < 0 || table_add_str(cells, restarts) < 0 ||
	    table_add_str(cells, age) < 0 || table_add_str(cells, or_none(ip)) < 0 ||
	    table_add_str(cells, or_none(json_get_string(pod, "spec.nodeName"))) < 0 ||
	    table_add_str(cells, or_none(json_get_string(pod, "status.nominatedNodeName"))) < 0 ||
	    table_add_str(cells, gates) < 0)
		return -ENOMEM;
	return 0;
}

static const struct table_column pod_columns[] = {
	TABLE_COL_NAME,
	{ "Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0 },
	{ "Status", "string", "", "The aggregate status of the containers in this pod.", 0 },
	{ "Restarts", "string", "",
	  "The number of times the containers in this pod have been restarted and when the last container in this "
	  "pod has restarted.",
	  0 },
	TABLE_COL_AGE,
	{ "IP", "string", "",
	  "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1 },
	{ "Node", "string", "",
	  "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for "
	  "preemption by the scheduler.",
	  1 },
	{ "Nominated Node", "string", "",
	  "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled "
	  "right away as preemption victims receive their graceful termination periods.",
	  1 },
	{ "Readiness Gates", "string", "",
	  "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its "
	  "containers are ready AND all conditions specified in the readiness gates have status equal to \"True\"",
	  1 },
};

const struct table_kind table_kind_pods = { "pods", pod_columns, sizeof(pod_columns) / sizeof(pod_columns[0]),
					    pod_cells };
