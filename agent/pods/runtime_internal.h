/* Internals shared by the pod runtime's files: runtime.c (API, sandbox, teardown) and
 * runtime_container.c (starting containers, their log readers, reaping). */
#ifndef SKIFF_AGENT_PODS_RUNTIME_INTERNAL_H
#define SKIFF_AGENT_PODS_RUNTIME_INTERNAL_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>

#include "pods/logs.h"
#include "pods/probe_manager.h"
#include "pods/runtime.h"

struct logger_entry {
	struct logger_entry *next;
	char *uid, *name;
	struct container_logger *logger;
};

struct pod_runtime {
	pthread_mutex_t lock;
	char *root_dir, *run_dir, *log_dir, *pause_path, *node_name, *dns_server, *host_ip;
	size_t log_max_bytes;
	struct runtime_cgroup_hooks cgroup;
	struct runtime_network_hooks network;
	struct logger_entry *loggers;
	char **stopping; /* uids whose grace period runs outside the lock; n_stopping of them */
	size_t n_stopping;
	/* uids whose start has let go of the lock while it spawns processes (rt_unlocked); every
	 * other call on such a pod waits on `idle` for it to end. Other pods go on meanwhile. */
	char **starting;
	size_t n_starting;
	pthread_cond_t idle;
	struct runtime_event_hooks events;
	struct runtime_device_hooks devices;
	struct probe_manager *probes;
};

/* Around the slow part of a start (forking and waiting for an exec): drops rt->lock, which the
 * pod's `starting` mark stands in for, and takes it back. */
void rt_unlock_for_spawn(struct pod_runtime *rt);
void rt_relock_after_spawn(struct pod_runtime *rt);

/* Log readers by pod uid (NULL: any pod) and container name (NULL: any container). */
struct logger_entry **rt_logger_find(struct pod_runtime *rt, const char *uid, const char *name);
void rt_logger_add(struct pod_runtime *rt, const char *uid, const char *name, struct container_logger *l);
/* finish: the process is gone, wait for its last output; else stop reading now. */
void rt_logger_drop(struct pod_runtime *rt, const char *uid, const char *name, bool finish);

/* <root or run>/pods/<uid>[/rest]; the run dir's FIFO of a container stream; its log file. */
char *rt_pod_path(struct pod_runtime *rt, bool run, const char *uid, const char *rest);
char *rt_fifo_path(struct pod_runtime *rt, const char *uid, const char *name, const char *stream);
char *rt_log_path(struct pod_runtime *rt, json_object *pod, const char *name, int restarts);
int rt_uid_check(const char *uid);

/* An event about container `name` of pod (NULL: the pod itself) through the events hook. */
void rt_event(struct pod_runtime *rt, json_object *pod, const char *name, const char *type, const char *reason,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* runtime_probes.c: rstate_should_start with a BackOff event when it enters a back-off; one
 * probe step for every app container (a failed liveness or startup probe kills its run);
 * "ready"/"started": false on running containers their readiness/startup probe does not pass
 * yet (before a status is built);
 * Killing events for the running containers of a pod being stopped. */
bool rt_should_start(struct pod_runtime *rt, json_object *pod, json_object *c, json_object *cs, const char *policy);
void rt_probe_containers(struct pod_runtime *rt, json_object *state, json_object *pod, const char *uid);
void rt_mark_unready(struct pod_runtime *rt, json_object *state, const char *uid);
void rt_stop_events(struct pod_runtime *rt, json_object *state);

/* Starts one container; a failure that is the pod's (image, spec) is left in cs, not returned. */
int rt_container_start(struct pod_runtime *rt, json_object *state, json_object *pod, json_object *c, json_object *cs);
/* Reaps exited containers; their log readers are finished. True when the state changed. */
bool rt_refresh_containers(struct pod_runtime *rt, const char *uid, json_object *state);

#endif
