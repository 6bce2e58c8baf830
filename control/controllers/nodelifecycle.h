/* The node lifecycle controller: watches node heartbeats (Lease renewals and Ready
 * condition heartbeats), marks silent nodes Ready=Unknown, taints not-ready and unreachable
 * nodes NoExecute, marks their pods not ready, and evicts those pods after a timeout —
 * rate-limited, and not at all while most nodes look dead (a control-plane partition). */
#ifndef SKIFF_CONTROLLERS_NODELIFECYCLE_H
#define SKIFF_CONTROLLERS_NODELIFECYCLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/registry.h"
#include "controllers/controllers.h"

#define LEASE_PREFIX "/registry/leases/kube-node-lease/"
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"
/* The toleration the registry's defaults give every pod (DefaultTolerationSeconds). */
#define DEFAULT_TOLERATION_SECONDS 300

struct nodelifecycle_controller;

struct nodelifecycle_controller *nodelifecycle_controller_start(struct registry *reg,
								const struct controllers_options *opts);
void nodelifecycle_controller_stop(struct nodelifecycle_controller *c);

/* More than threshold (0..1) of the nodes dead at once: evictions stop. */
bool nodelc_partitioned(size_t total, size_t dead, double threshold);
/* When (realtime seconds) pod is evicted from a node that got the NoExecute taint key at
 * tainted_at: the shortest tolerationSeconds of the pod's tolerations of that taint, -1
 * (never) when it tolerates it without a limit, tainted_at + timeout_s when it does not
 * tolerate it or holds only the registry's default toleration. */
int64_t nodelc_eviction_deadline(json_object *pod, const char *taint_key, int64_t tainted_at, int64_t timeout_s);

/* A token bucket: rate per second, burst max(1, rate). */
struct nodelc_bucket {
	double tokens, rate, burst;
	int64_t last_ms;
};
void nodelc_bucket_init(struct nodelc_bucket *b, double rate, int64_t now_ms);
bool nodelc_bucket_take(struct nodelc_bucket *b, int64_t now_ms);

#endif
