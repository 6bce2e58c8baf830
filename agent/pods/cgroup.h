/* Pod cgroups on the cgroup v2 hierarchy: <mount>/<parent>/pod-<uid>/<container>, limits where
 * the controllers exist, OOM-kill counts, cgroup.kill and bounded removal. */
#ifndef SKIFF_AGENT_PODS_CGROUP_H
#define SKIFF_AGENT_PODS_CGROUP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The sandbox (skiff-pause) lives in its own child of the pod cgroup, as Kubernetes' sandbox
 * container does: cgroup v2 lets no process sit in a cgroup whose children have controllers
 * enabled. The leading '_' keeps it apart from every container name (DNS labels have none). */
#define CGROUP_SANDBOX_NAME "_pause"
#define CGROUP_DEFAULT_PARENT "skiff"
#define CGROUP_DEFAULT_POD_PIDS_MAX 1024

/* What a cgroup should be limited to; 0 in a field means "no limit". */
struct cgroup_limits {
	int64_t cpu_limit_milli;    /* limits.cpu -> cpu.max */
	int64_t cpu_request_milli;  /* requests.cpu -> cpu.weight (0: the minimum, as Kubernetes) */
	int64_t memory_limit_bytes; /* limits.memory -> memory.max */
	int64_t pids_max;           /* pids.max */
};

/* --- Pure limit math (cgroup_limits.c) --- */

/* cpu.max content: "<millicores*100> 100000" (quota at least 1000 us, as Kubernetes), or
 * "max 100000" when limit_milli is 0. */
void cgroup_cpu_max_format(int64_t limit_milli, char *buf, size_t size);
/* Kubernetes' requests.cpu -> cpu.shares (millicores*1024/1000, 2..262144) -> cpu.weight. */
uint64_t cgroup_cpu_weight(int64_t request_milli);
/* memory.max / pids.max content: the number, or "max" when 0. */
void cgroup_max_format(int64_t value, char *buf, size_t size);
/* A container's limits from its core/v1 spec (resources.limits/requests; a cpu request
 * defaults to the cpu limit, as the API server's defaulting does). pids_max stays 0.
 * -EINVAL on an unparsable quantity. */
int cgroup_limits_from_container(json_object *container, struct cgroup_limits *ret);
/* The pod cgroup's limits: cpu/memory limits are the sums over spec.containers only when every
 * container has one (else unlimited), the cpu request is the sum; pids_max is pod_pids_max. */
int cgroup_limits_from_pod(json_object *pod, int64_t pod_pids_max, struct cgroup_limits *ret);
/* The oom_kill counter from memory.events content; -ENOENT when the line is missing. */
int cgroup_parse_oom_kill(const char *memory_events, uint64_t *ret);

/* --- The pod hierarchy (cgroup.c) --- */

struct cgroup_options {
	const char *parent;   /* below the cgroup2 mount, e.g. "skiff" or "kubepods/skiff" */
	int64_t pod_pids_max; /* pids.max of every pod cgroup; 0: unlimited */
	const char *mount;    /* NULL: found from /proc/self/mountinfo */
};
void cgroup_options_init(struct cgroup_options *opts);

struct cgroup_manager;

/* Finds the cgroup2 mount, makes <mount>/<parent> and enables cpu, memory and pids in every
 * subtree_control from the mount down to it, where the kernel offers them.
 * NULL with errno set (-ENOENT: no cgroup2 mount). */
struct cgroup_manager *cgroup_manager_new(const struct cgroup_options *opts);
void cgroup_manager_free(struct cgroup_manager *m);
/* <mount>/<parent>, borrowed. */
const char *cgroup_manager_root(const struct cgroup_manager *m);
/* The controllers (of cpu, memory, pids) the hierarchy does not offer here: a NULL-terminated
 * array of static names, borrowed; empty when all exist. Their limits are never written, so
 * the caller reports them once as not enforced. */
const char *const *cgroup_missing_controllers(const struct cgroup_manager *m);

/* Finds the cgroup2 mount point in /proc/self/mountinfo (new string). -ENOENT when none. */
int cgroup_find_mount(char **ret_path);

/* Path of the pod cgroup (container NULL) or of one of its children: a new string. */
int cgroup_path(const struct cgroup_manager *m, const char *pod_uid, const char *container, char **ret);

/* Makes pod-<uid> (idempotent), enables the available controllers for its children and writes
 * the limits whose controller exists. */
int cgroup_pod_create(struct cgroup_manager *m, const char *pod_uid, const struct cgroup_limits *limits);
/* Makes pod-<uid>/<container> (the pod must exist) with its limits, fresh for every run of the
 * container: an old, empty cgroup of that name is removed first, so the oom_kill counter and any
 * device program start anew. -EBUSY while a process of the previous run is still in it. */
int cgroup_container_create(struct cgroup_manager *m, const char *pod_uid, const char *container,
			    const struct cgroup_limits *limits);
/* Moves pid into pod-<uid>/<container> (CGROUP_SANDBOX_NAME for the pause process; made
 * without limits if missing). */
int cgroup_attach(struct cgroup_manager *m, const char *pod_uid, const char *container, pid_t pid);
/* An O_DIRECTORY fd of pod-<uid>/<container> (CGROUP_SANDBOX_NAME made if missing), to clone a
 * process straight into (CLONE_INTO_CGROUP). */
int cgroup_open(struct cgroup_manager *m, const char *pod_uid, const char *container);
/* The container's oom_kill counter for its current run (see cgroup_container_create): after
 * the container exits, > 0 means it was OOM-killed (reason OOMKilled). -EOPNOTSUPP without the
 * memory controller. */
int cgroup_container_oom_kills(struct cgroup_manager *m, const char *pod_uid, const char *container,
			       uint64_t *ret);
/* Called after a container's cgroup is made and before its process enters (the GPU device
 * filter goes on here); 0 or -errno, which fails the attach. */
typedef int (*cgroup_container_prepare_fn)(void *userdata, const char *cgroup_dir, json_object *pod,
					   json_object *container);
void cgroup_manager_set_container_prepare(struct cgroup_manager *m, cgroup_container_prepare_fn fn,
					  void *userdata);

/* SIGKILLs every process of the pod (cgroup.kill). 0 when the pod cgroup is gone. */
int cgroup_pod_kill(struct cgroup_manager *m, const char *pod_uid);
/* Waits up to timeout_ms for every cgroup of the pod to be empty, then removes them bottom-up.
 * -EBUSY when processes are still there at the deadline; 0 when already gone. */
int cgroup_pod_remove(struct cgroup_manager *m, const char *pod_uid, int timeout_ms);

/* --- The runtime's seam (agent/pods/runtime.h) --- */

struct runtime_cgroup_hooks;
/* Fills hooks (userdata m) for pod_runtime's config: pod_create = limits from the pod +
 * cgroup_pod_create; sandbox_attach; container_attach = limits from the container +
 * cgroup_container_create + the prepare callback + cgroup_attach; sandbox_cgroup and
 * container_cgroup the same with cgroup_open for the attach; pod_kill; pod_remove (waits
 * up to CGROUP_REMOVE_TIMEOUT_MS). */
#define CGROUP_REMOVE_TIMEOUT_MS 10000
void cgroup_runtime_hooks(struct cgroup_manager *m, struct runtime_cgroup_hooks *ret);

#endif
