/* The pod runtime: what the agent core calls to run, stop, inspect and re-adopt pods on this
 * node without a container runtime (skiff-pause sandbox + namespaced, overlayfs containers). */
#ifndef SKIFF_AGENT_POD_RUNTIME_H
#define SKIFF_AGENT_POD_RUNTIME_H

#include <json-c/json.h>
#include <stddef.h>
#include <sys/types.h>

/* Seams to other rooms. Every hook is optional (NULL: skipped); each returns 0 or -errno and
 * gets `userdata` back. The cgroup hooks map one to one onto agent/pods/cgroup.h:
 * cgroup_limits_from_pod + cgroup_pod_create, cgroup_attach(.., CGROUP_SANDBOX_NAME, pid),
 * cgroup_limits_from_container + cgroup_container_create + cgroup_attach, cgroup_pod_kill,
 * cgroup_pod_remove. */
struct runtime_cgroup_hooks {
	void *userdata;
	/* Makes the pod's cgroup (<parent>/pod-<uid>) with its limits from the pod spec. */
	int (*pod_create)(void *userdata, json_object *pod);
	/* Moves the pause process into the pod's sandbox cgroup. */
	int (*sandbox_attach)(void *userdata, const char *pod_uid, pid_t pid);
	/* Makes the container's cgroup (limits from its spec) and moves pid in, before it execs. */
	int (*container_attach)(void *userdata, json_object *pod, json_object *container, pid_t pid);
	/* What the two attach hooks do, before the process exists: return an O_DIRECTORY fd of the
	 * sandbox's / the container's cgroup (made, and for a container prepared) that the process
	 * is cloned into (the caller closes it). When set they are used instead of the attach ones. */
	int (*sandbox_cgroup)(void *userdata, const char *pod_uid);
	int (*container_cgroup)(void *userdata, json_object *pod, json_object *container);
	/* cgroup.kill on the whole pod: used when the grace period has run out. */
	int (*pod_kill)(void *userdata, const char *pod_uid);
	/* Removes the pod's cgroups (all processes are gone by then). */
	int (*pod_remove)(void *userdata, const char *pod_uid);
	/* The OOM kills counted in the container's memory.events (oom_kill) so far: a run that ends
	 * with the count grown was OOM-killed. */
	int (*container_oom_kills)(void *userdata, const char *pod_uid, const char *container, uint64_t *ret);
};

struct runtime_network_hooks {
	void *userdata;
	/* Wires the sandbox's network namespace (netns_fd, loopback already up) and writes the
	 * pod IP into ret_ip. Called once per sandbox, before any container starts. */
	int (*pod_setup)(void *userdata, json_object *pod, int netns_fd, char *ret_ip, size_t ip_size);
	/* Undoes pod_setup; the namespace still exists when it is called. */
	int (*pod_teardown)(void *userdata, const char *pod_uid, int netns_fd);
};

struct runtime_device_hooks {
	void *userdata;
	/* The host device nodes the container gets in its /dev (each bound at /dev/<its name>: its GPUs)
	 * and the env entries ("NAME=value", overriding the spec's: NVIDIA_VISIBLE_DEVICES) it
	 * gets. Each a new NULL-terminated array or NULL; the runtime frees the strings and the
	 * arrays. */
	int (*container_devices)(void *userdata, json_object *pod, json_object *container, char ***ret_paths,
				 char ***ret_env);
};

/* An event about a pod, as the kubelet records them (reasons Pulled, Created, Started, Killing,
 * BackOff, Unhealthy, Failed). Strings are borrowed for the call. */
struct runtime_event {
	const char *ns, *pod_name, *pod_uid;
	const char *field_path; /* "spec.containers{NAME}" or "spec.initContainers{NAME}"; NULL: the pod */
	const char *type;       /* "Normal" or "Warning" */
	const char *reason, *message;
};

struct runtime_event_hooks {
	void *userdata;
	/* Must not block (queue the event): it is called with the runtime's lock held, and from
	 * probe threads. */
	void (*emit)(void *userdata, const struct runtime_event *ev);
};

struct runtime_config {
	const char *root_dir;   /* persistent: <root>/images/<name>/, <root>/pods/<uid>/ (overlay upper, volumes) */
	const char *run_dir;    /* survives only until reboot: <run>/pods/<uid>/ (pids, log fifos) */
	const char *log_dir;    /* <log>/<ns>_<name>_<uid>/<container>/<restartCount>.log (CRI format) */
	const char *pause_path; /* the skiff-pause binary */
	const char *node_name;  /* for spec.nodeName fieldRefs when the pod has none yet */
	const char *dns_server; /* nameserver line of every pod's /etc/resolv.conf; NULL: copy the host's */
	const char *host_ip;    /* status.podIP of hostNetwork pods (they keep the host's net and uts) */
	size_t log_max_bytes;   /* rotate a container log past this size (0: 10 MiB) */
	struct runtime_cgroup_hooks cgroup;
	struct runtime_network_hooks network;
	struct runtime_event_hooks events;
	struct runtime_device_hooks devices;
};

struct pod_runtime;

/* Makes the root, run and log dirs if missing. NULL with errno set on failure. */
struct pod_runtime *pod_runtime_new(const struct runtime_config *config);
/* Forgets the runtime (stops its log readers); running pods keep running and can be adopted. */
void pod_runtime_free(struct pod_runtime *rt);

/* Brings a pod (a core/v1 Pod object with metadata.uid) to running: the sandbox if missing,
 * then each container not running that the restartPolicy says should run. Idempotent: a pod
 * already running is left alone. A missing image is not an error: the container waits with
 * reason ErrImageNeverPull (see pod_runtime_status) and 0 is returned.
 * Call it again on every sync, not only when the pod changes: each call is one step, and it
 * is what runs the next init container, restarts exited containers (restartPolicy, back-off
 * in CrashLoopBackOff) and retries waiting ones (an image imported since). */
int pod_runtime_start(struct pod_runtime *rt, json_object *pod);

/* SIGTERM to every container, up to grace_seconds for them to exit, then cgroup kill (or
 * SIGKILL); then the sandbox, its mounts, namespaces, pod dir and run-dir state are removed.
 * Logs stay. 0 as well when the pod is unknown. The grace period is spent without holding the
 * runtime: other pods' calls go on, while this pod's start (and a second stop) get -EBUSY. */
int pod_runtime_stop(struct pod_runtime *rt, const char *uid, int grace_seconds);

/* The pod's status as the runtime sees it, a new object (caller puts it):
 * { "phase": "Pending|Running|Succeeded|Failed", "podIP": "...", "startTime": "...",
 *   "containerStatuses": [ core/v1 ContainerStatus: name, image, ready, restartCount, started,
 *                          state.{waiting{reason,message},running{startedAt},
 *                                 terminated{exitCode,reason,startedAt,finishedAt}} ] }
 * Reaps containers that have exited. -ENOENT when the pod is unknown. */
int pod_runtime_status(struct pod_runtime *rt, const char *uid, json_object **ret_status);

/* The uids of every pod the runtime knows (from the run dir), a NULL-terminated array the
 * caller frees with pod_runtime_uids_free. */
int pod_runtime_list(struct pod_runtime *rt, char ***ret_uids);
void pod_runtime_uids_free(char **uids);

/* After an agent restart: finds the sandboxes in the run dir, keeps those whose pause process
 * is still alive (no second sandbox is made for them) and reopens their containers' logs;
 * cleans up what is left of dead ones. Returns the number of pods adopted. */
int pod_runtime_adopt(struct pod_runtime *rt);

/* Opens the pod's network namespace (O_CLOEXEC), for network code that runs later. */
int pod_runtime_netns_fd(struct pod_runtime *rt, const char *uid);

/* The log file of one run of a container (restart_count as in its status), for whoever serves
 * `kubectl logs`: <log_dir>/<ns>_<name>_<uid>/<container>/<restart_count>.log, the run before
 * it rotated to .log.1. New string; NULL on allocation failure. */
char *pod_runtime_log_path(struct pod_runtime *rt, json_object *pod, const char *container, int restart_count);

#endif
