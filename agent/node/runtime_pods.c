/* Glue from the reconciler's runtime ops to pod_runtime, with GPUs allocated per pod before
 * start and released after stop. */
#include "node/runtime_pods.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "gpu/alloc.h"
#include "gpu/discover.h"
#include "gpu/pod.h"
#include "net/pod_network.h"
#include "node/events.h"
#include "pods/cgroup.h"
#include "pods/runtime.h"

struct agent_runtime {
	struct cgroup_manager *cgroups;
	struct gpu_set gpus;
	struct gpu_allocator *alloc;
	struct pod_runtime *rt;
	char *run_dir, *log_dir;
	struct pod_network *net; /* NULL with --network none: pods get loopback only */
	struct event_recorder *_Atomic events; /* set once the API client is up; NULL: events dropped */
};

/* The runtime's events hook: to the recorder once there is one. */
static void emit_event(void *ud, const struct runtime_event *ev)
{
	struct agent_runtime *ar = ud;
	struct event_recorder *rec = atomic_load(&ar->events);

	if (rec)
		event_recorder_emit(rec, ev);
}

/* The runtime's devices hook: the container's GPUs (and the control nodes) bound into its /dev,
 * NVIDIA_VISIBLE_DEVICES naming them; nothing on a node without GPUs. */
static int container_devices(void *ud, json_object *pod, json_object *container, char ***ret_paths, char ***ret_env)
{
	struct agent_runtime *ar = ud;
	const char *uid = json_get_string(pod, "metadata.uid") ?: "", *name = json_get_string(container, "name") ?: "";
	struct gpu_device *devs = NULL;
	char **paths = NULL, **env = NULL, *visible = NULL;
	size_t n = 0;
	int r;

	if (ar->gpus.n_gpus == 0)
		return 0;
	r = gpu_container_devices(ar->alloc, uid, name, &devs, &n);
	if (r >= 0)
		r = gpu_visible_devices(ar->alloc, uid, name, &visible);
	if (r >= 0 && (!(paths = calloc(n + 1, sizeof(*paths))) || !(env = calloc(2, sizeof(*env))) ||
		       asprintf(&env[0], "NVIDIA_VISIBLE_DEVICES=%s", visible) < 0))
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (!(paths[i] = strdup(devs[i].path)))
			r = -ENOMEM;
	gpu_devices_free(devs, n);
	free(visible);
	if (r < 0) {
		for (size_t i = 0; paths && i < n; i++)
			free(paths[i]);
		free(paths);
		if (env)
			free(env[0]);
		free(env);
		return r;
	}
	*ret_paths = paths;
	*ret_env = env;
	return 0;
}

void agent_runtime_set_events(struct agent_runtime *ar, struct event_recorder *rec)
{
	atomic_store(&ar->events, rec);
}

void agent_runtime_free(struct agent_runtime *ar)
{
	if (!ar)
		return;
	pod_runtime_free(ar->rt);
	pod_network_free(ar->net);
	gpu_allocator_free(ar->alloc);
	gpu_set_clear(&ar->gpus);
	cgroup_manager_free(ar->cgroups);
	free(ar->run_dir);
	free(ar->log_dir);
	free(ar);
}

/* --network bridge: pods on the node's bridge, in this process's network namespace. */
/* Before a container's first process enters its cgroup: the default device policy unless it is
 * privileged (its GPUs' nodes added), then the filter that narrows GPUs to its own. */
static int container_prepare(void *ud, const char *cgroup_dir, json_object *pod, json_object *container)
{
	struct agent_runtime *ar = ud;
	struct device_rule gpus[32];
	size_t n = 0;
	int r;

	if (!json_object_get_boolean(json_get_path(container, "securityContext.privileged"))) {
		r = gpu_container_rules(ar->alloc, container, gpus, sizeof(gpus) / sizeof(gpus[0]), &n);
		if (r >= 0)
			r = device_policy_attach(cgroup_dir, gpus, n);
		if (r < 0)
			return log_error_errno(r, "device policy on %s: %m", cgroup_dir);
	}
	return gpu_container_prepare(ar->alloc, cgroup_dir, pod, container);
}

static int open_network(struct agent_runtime *ar, const struct agent_config *c, struct runtime_network_hooks *ret)
{
	_cleanup_free_ char *state = NULL;
	struct pod_network_config nc = { .node_name = c->node_name, .bridge = c->bridge_name,
					 .service_cidr = c->service_cidr };

	if (strcmp(c->network, "bridge") != 0)
		return 0;
	if (pod_network_in_pid1_netns()) {
		log_error("--network bridge: this agent runs in PID 1's network namespace (the machine's own), whose "
			  "interfaces, routes and sysctls it does not change: pods get loopback only (run the agent in "
			  "a node namespace, e.g. skiffctl cluster up, or give --network none)");
		return 0;
	}
	if (asprintf(&state, "%s/net", ar->run_dir) < 0)
		return -ENOMEM;
	nc.state_dir = state;
	ar->net = pod_network_new(&nc);
	if (!ar->net)
		return log_error_errno(-errno, "pod network (bridge %s, state in %s): %m", c->bridge_name, state);
	pod_network_hooks(ar->net, ret);
	return 0;
}

/* Addresses of pods that died while no agent was running are freed once the survivors are known. */
static int network_gc(struct agent_runtime *ar)
{
	char **uids = NULL;
	int r;

	if (!ar->net)
		return 0;
	r = pod_runtime_list(ar->rt, &uids);
	if (r >= 0)
		r = pod_network_gc(ar->net, uids);
	pod_runtime_uids_free(uids);
	if (r < 0)
		return log_error_errno(r, "freeing the addresses of pods gone from %s: %m", ar->run_dir);
	if (r > 0)
		log_info("freed %d address(es) of pods that ended while no agent ran", r);
	return 0;
}

struct pod_network *agent_runtime_network(struct agent_runtime *ar)
{
	return ar ? ar->net : NULL;
}

static int open_parts(struct agent_runtime *ar, const struct agent_config *c, const char *pause_path,
		      const char *host_ip)
{
	struct runtime_config rc = { 0 };
	struct cgroup_options co;
	int r;

	cgroup_options_init(&co);
	co.parent = c->cgroup_parent;
	co.pod_pids_max = c->pod_max_pids;
	ar->cgroups = cgroup_manager_new(&co);
	if (!ar->cgroups)
		return log_error_errno(-errno, "cgroup parent %s under the cgroup2 mount: %m", c->cgroup_parent);
	r = gpu_discover(c->gpu_devices, NULL, &ar->gpus);
	if (r < 0)
		return log_error_errno(r, "--gpu-devices %s: %m", c->gpu_devices);
	ar->alloc = gpu_allocator_new(c->root_dir, &ar->gpus);
	if (!ar->alloc)
		return log_error_errno(-errno, "GPU allocations in %s: %m", c->root_dir);
	cgroup_manager_set_container_prepare(ar->cgroups, container_prepare, ar);
	if (asprintf(&ar->run_dir, "%s/%s", c->run_dir, c->node_name) < 0 ||
	    asprintf(&ar->log_dir, "%s/logs", c->root_dir) < 0)
		return -ENOMEM;
	rc = (struct runtime_config){ .root_dir = c->root_dir, .run_dir = ar->run_dir, .log_dir = ar->log_dir,
				      .pause_path = pause_path, .node_name = c->node_name, .host_ip = host_ip };
	cgroup_runtime_hooks(ar->cgroups, &rc.cgroup);
	r = open_network(ar, c, &rc.network);
	if (r < 0)
		return r;
	rc.events = (struct runtime_event_hooks){ .userdata = ar, .emit = emit_event };
	rc.devices = (struct runtime_device_hooks){ .userdata = ar, .container_devices = container_devices };
	ar->rt = pod_runtime_new(&rc);
	if (!ar->rt)
		return log_error_errno(-errno, "pod runtime in %s and %s: %m", c->root_dir, ar->run_dir);
	r = pod_runtime_adopt(ar->rt);
	if (r < 0)
		return log_error_errno(r, "adopting the pods in %s: %m", ar->run_dir);
	if (r > 0)
		log_info("adopted %d running pod(s) from %s", r, ar->run_dir);
	return network_gc(ar);
}

struct agent_runtime *agent_runtime_new(const struct agent_config *c, const char *pause_path, const char *host_ip)
{
	struct agent_runtime *ar = calloc(1, sizeof(*ar));
	int r;

	if (!ar)
		return NULL;
	r = open_parts(ar, c, pause_path, host_ip);
	if (r < 0) {
		agent_runtime_free(ar);
		errno = -r;
		return NULL;
	}
	return ar;
}

static int op_start(void *ud, json_object *pod)
{
	struct agent_runtime *ar = ud;
	int r = gpu_allocate_pod(ar->alloc, pod);

	if (r == -ENOSPC)
		log_warn("pod %s/%s: not enough free GPUs on this node", json_get_string(pod, "metadata.namespace") ?: "",
			 json_get_string(pod, "metadata.name") ?: "");
	if (r < 0)
		return r;
	return pod_runtime_start(ar->rt, pod);
}

static int op_stop(void *ud, const char *uid, int grace_seconds)
{
	struct agent_runtime *ar = ud;
	int r = pod_runtime_stop(ar->rt, uid, grace_seconds);

	if (r < 0)
		return r;
	/* The runtime's teardown hook runs only while the pause lives; a pod whose grace period ran
	 * out was cgroup-killed, pause included, so its veth went with its namespace but its address
	 * is freed here. */
	if (ar->net && (r = pod_network_pod_teardown(ar->net, uid)) < 0)
		log_warn_errno(r, "pod %s: removing its network: %m", uid);
	return gpu_release_pod(ar->alloc, uid);
}

static int op_status(void *ud, const char *uid, json_object **ret)
{
	struct agent_runtime *ar = ud;

	return pod_runtime_status(ar->rt, uid, ret);
}

static int op_list(void *ud, char ***ret)
{
	struct agent_runtime *ar = ud;

	return pod_runtime_list(ar->rt, ret);
}

void agent_runtime_ops(struct agent_runtime *ar, struct reconcile_runtime *ret)
{
	*ret = (struct reconcile_runtime){ .rt = ar, .start = op_start, .stop = op_stop, .status = op_status,
					   .list = op_list, .uids_free = pod_runtime_uids_free };
}

struct pod_runtime *agent_runtime_pods(struct agent_runtime *ar)
{
	return ar ? ar->rt : NULL;
}
