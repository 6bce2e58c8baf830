/* The filters that decide whether a pod fits a node, in kube-scheduler's plugin order
 * (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit), and
 * the "0/N nodes are available: ..." message built from why each node was rejected. */
#ifndef SKIFF_SCHEDULER_FILTER_H
#define SKIFF_SCHEDULER_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler/model.h"

enum sched_fail {
	SCHED_FIT = 0,
	SCHED_FAIL_UNSCHEDULABLE, /* spec.unschedulable (cordon) not tolerated */
	SCHED_FAIL_TAINT,         /* verdict.taint names it */
	SCHED_FAIL_AFFINITY,      /* nodeSelector or required node affinity */
	SCHED_FAIL_PORTS,
	SCHED_FAIL_RESOURCES, /* verdict.too_many_pods and .insufficient say which */
};

struct sched_verdict {
	enum sched_fail fail;
	/* SCHED_FAIL_TAINT: the first untolerated taint (key and value, borrowed from the node
	 * or static for the readiness taints). */
	const char *taint_key, *taint_value;
	bool too_many_pods;
	uint32_t insufficient; /* bit i: resource slot i */
};

/* Runs the filters in order and stops at the first that rejects, as kube-scheduler does. */
bool sched_filter(const struct sched_pod *p, const struct sched_node *n, struct sched_verdict *ret);

/* Single filters (exposed for tests). */
bool sched_filter_unschedulable(const struct sched_pod *p, const struct sched_node *n);
bool sched_filter_taints(const struct sched_pod *p, const struct sched_node *n, const char **ret_key,
			 const char **ret_value);
bool sched_filter_affinity(const struct sched_pod *p, const struct sched_node *n);
bool sched_filter_ports(const struct sched_pod *p, const struct sched_node *n);
bool sched_filter_resources(const struct sched_pod *p, const struct sched_node *n, bool *ret_too_many,
			    uint32_t *ret_insufficient);
bool sched_tolerates(const struct sched_toleration *t, const char *key, const char *value, enum sched_effect effect);

/* "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu."
 * from the verdicts of every node; "no nodes available to schedule pods" when n is 0.
 * Caller frees; NULL on ENOMEM. */
char *sched_fit_message(const struct sched_verdict *v, size_t n);

#endif
