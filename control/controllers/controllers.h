/* The controllers of skiff-control: replication, endpoints, node lifecycle, node IPAM and
 * garbage collection, each a thread on a store watch inside the process (no HTTP hop). */
#ifndef SKIFF_CONTROLLERS_H
#define SKIFF_CONTROLLERS_H

#include <stdio.h>

#include "api/registry.h"

struct controllers_options {
	int node_monitor_grace_period_s; /* default 20: no heartbeat for this long → Ready Unknown */
	int pod_eviction_timeout_s;      /* default 30: NoExecute taint this old → pods deleted */
	const char *cluster_cidr;        /* default "10.244.0.0/16" */
	int node_cidr_mask_size;         /* default 24 */
	double node_eviction_rate;       /* default 10 nodes/s evicted at most */
	double unhealthy_zone_threshold; /* default 0.55: more dead nodes than this share stops eviction */
};
void controllers_options_init(struct controllers_options *o);
/* Sets one option from its skiff-control flag ("node-monitor-grace-period", "pod-eviction-timeout",
 * "cluster-cidr", "node-cidr-mask-size", "node-eviction-rate", "unhealthy-zone-threshold"; value
 * stays borrowed). Durations in Go's form ("40s", "5m", "1m30s") or plain seconds. 0; -EINVAL for
 * a bad value; -ENOENT for a flag that is not the controllers'. */
int controllers_options_set(struct controllers_options *o, const char *flag, const char *value);
/* The flags' --help lines, with their defaults. */
void controllers_options_print_help(FILE *out);

struct controllers;

/* Starts every controller's thread. opts NULL: defaults. NULL with errno set. */
struct controllers *controllers_start(struct registry *reg, const struct controllers_options *opts);
/* Stops and joins every thread; accepts NULL. Call before registry_free(). */
void controllers_stop(struct controllers *c);

#endif
