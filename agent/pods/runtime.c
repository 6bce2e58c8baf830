/* The pod runtime (see runtime.h). A pod's whole state lives in <run>/pods/<uid>/state.json
 * (sandbox and container pids, starts, exits), so a restarted agent reads back exactly what
 * it left; in memory there are only the log readers. One lock guards the state; a start lets go
 * of it while processes are spawned, its pod marked starting so that pod's calls wait. */
#include "pods/runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "pods/logs.h"
#include "pods/mounts.h"
#include "pods/runtime_state.h"
#include "pods/sandbox.h"

#define DEFAULT_LOG_MAX_BYTES (10u << 20)
#define KILL_WAIT_MS 10000

/* --- lifecycle of the runtime -------------------------------------------------------------- */

struct pod_runtime *pod_runtime_new(const struct runtime_config *c)
{
	struct pod_runtime *rt;
	_cleanup_free_ char *pods_root = NULL, *pods_run = NULL;
	int r;

	if (!c || !c->root_dir || !c->run_dir || !c->log_dir || !c->pause_path) {
		errno = EINVAL;
		return NULL;
	}
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return NULL;
	pthread_mutex_init(&rt->lock, NULL);
	pthread_cond_init(&rt->idle, NULL);
	rt->root_dir = strdup(c->root_dir);
	rt->run_dir = strdup(c->run_dir);
	rt->log_dir = strdup(c->log_dir);
	rt->pause_path = strdup(c->pause_path);
	rt->node_name = strdup(c->node_name ? c->node_name : "");
	rt->dns_server = c->dns_server ? strdup(c->dns_server) : NULL;
	rt->host_ip = strdup(c->host_ip ? c->host_ip : "");
	rt->log_max_bytes = c->log_max_bytes ? c->log_max_bytes : DEFAULT_LOG_MAX_BYTES;
	rt->cgroup = c->cgroup;
	rt->network = c->network;
	rt->events = c->events;
	rt->devices = c->devices;
	rt->probes = probe_manager_new(rt, &c->events);
	if (!rt->probes || !rt->root_dir || !rt->run_dir || !rt->log_dir || !rt->pause_path || !rt->node_name || !rt->host_ip ||
	    (c->dns_server && !rt->dns_server) || asprintf(&pods_root, "%s/pods", c->root_dir) < 0 ||
	    asprintf(&pods_run, "%s/pods", c->run_dir) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	r = fs_mkdir_p(pods_root, 0711);
	if (r >= 0)
		r = fs_mkdir_p(pods_run, 0700);
	if (r >= 0)
		r = fs_mkdir_p(c->log_dir, 0755);
	if (r < 0)
		goto fail;
	return rt;
fail:
	pod_runtime_free(rt);
	errno = -r;
	return NULL;
}

void pod_runtime_free(struct pod_runtime *rt)
{
	if (!rt)
		return;
	/* First: exec probes in flight still use the runtime. */
	probe_manager_free(rt->probes);
	while (rt->loggers)
		rt_logger_drop(rt, NULL, NULL, false);
	for (size_t i = 0; i < rt->n_stopping; i++)
		free(rt->stopping[i]);
	free(rt->stopping);
	free(rt->starting);
	pthread_cond_destroy(&rt->idle);
	pthread_mutex_destroy(&rt->lock);
	free(rt->root_dir);
	free(rt->run_dir);
	free(rt->log_dir);
	free(rt->pause_path);
	free(rt->node_name);
	free(rt->dns_server);
	free(rt->host_ip);
	free(rt);
}

/* --- the sandbox ---------------------------------------------------------------------------- */

static int write_etc_files(struct pod_runtime *rt, json_object *pod, const char *uid, const char *ip)
{
	_cleanup_free_ char *dir = rt_pod_path(rt, false, uid, "etc"), *hosts = NULL, *resolv = NULL;
	const char *name = json_get_string(pod, "metadata.name") ?: "pod";
	const char *ns = json_get_string(pod, "metadata.namespace") ?: "default";
	char path[4096];
	int r;

	if (!dir)
		return -ENOMEM;
	r = fs_mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	if (asprintf(&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s%s%s%s",
		     ip && *ip ? ip : "", ip && *ip ? "\t" : "", ip && *ip ? name : "", ip && *ip ? "\n" : "") < 0)
		return -ENOMEM;
	if (rt->dns_server) {
		if (asprintf(&resolv, "nameserver %s\nsearch %s.svc.cluster.local svc.cluster.local cluster.local\n"
				      "options ndots:5\n", rt->dns_server, ns) < 0)
			return -ENOMEM;
	} else if (fs_read_file("/etc/resolv.conf", &resolv) < 0 && !(resolv = strdup(""))) {
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/hosts", dir);
	r = fs_write_file(path, hosts, 0644);
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	if (r >= 0)
		r = fs_write_file(path, resolv, 0644);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/hostname", dir);
	free(hosts);
	hosts = NULL;
	if (asprintf(&hosts, "%s\n", name) < 0) {
		hosts = NULL;
		return -ENOMEM;
	}
	return fs_write_file(path, hosts, 0644);
}

/* The pod name as a hostname: at most 63 characters, as Kubernetes cuts it. */
static void pod_hostname(json_object *pod, char buf[64])
{
	snprintf(buf, 64, "%s", json_get_string(pod, "metadata.name") ?: "pod");
}

static int sandbox_create(struct pod_runtime *rt, json_object *pod, const char *uid, json_object **ret_state)
{
	_cleanup_json_ json_object *state = json_object_new_object();
	_cleanup_free_ char *run = rt_pod_path(rt, true, uid, "fifo"), *podroot = rt_pod_path(rt, false, uid, NULL);
	_cleanup_close_ int netns = -1, cgfd = -1;
	char host[64], ip[64] = "", now[32];
	bool host_net = json_object_get_boolean(json_get_path(pod, "spec.hostNetwork"));
	int ns_flags = SANDBOX_NS_ALL;
	struct proc_id id;
	json_object *sb;
	int r;

	if (!state || !run || !podroot)
		return -ENOMEM;
	r = fs_mkdir_p(run, 0700);
	if (r >= 0)
		r = fs_mkdir_p(podroot, 0711);
	if (r >= 0 && rt->cgroup.pod_create)
		r = rt->cgroup.pod_create(rt->cgroup.userdata, pod);
	if (r < 0)
		return r;
	pod_hostname(pod, host);
	if (host_net)
		ns_flags &= ~(CLONE_NEWNET | CLONE_NEWUTS);
	if (json_object_get_boolean(json_get_path(pod, "spec.hostIPC")))
		ns_flags &= ~CLONE_NEWIPC;
	if (rt->cgroup.sandbox_cgroup) {
		cgfd = rt->cgroup.sandbox_cgroup(rt->cgroup.userdata, uid);
		if (cgfd < 0)
			return cgfd;
	}
	rt_unlock_for_spawn(rt);
	r = sandbox_start_in(rt->pause_path, host, ns_flags, cgfd, &id);
	rt_relock_after_spawn(rt);
	if (r < 0)
		return r;
	sb = json_object_new_object();
	rstate_set_proc(sb, &id);
	json_object_object_add(state, "sandbox", sb);
	json_object_object_add(state, "pod", json_clone(pod));
	rstate_now(now);
	json_object_object_add(state, "startTime", json_object_new_string(now));
	/* Saved at once: from here on a failure must find the pause to kill. */
	r = rstate_save(rt->run_dir, uid, state);
	if (r >= 0 && rt->cgroup.sandbox_attach && cgfd < 0)
		r = rt->cgroup.sandbox_attach(rt->cgroup.userdata, uid, id.pid);
	if (host_net)
		snprintf(ip, sizeof(ip), "%s", rt->host_ip);
	else if (r >= 0 && rt->network.pod_setup) {
		netns = sandbox_ns_open(&id, "net");
		r = netns < 0 ? netns : rt->network.pod_setup(rt->network.userdata, pod, netns, ip, sizeof(ip));
	}
	json_object_object_add(state, "podIP", json_object_new_string(ip));
	if (r >= 0)
		r = write_etc_files(rt, pod, uid, ip);
	if (r >= 0)
		r = rstate_save(rt->run_dir, uid, state);
	if (r < 0)
		return r;
	*ret_state = TAKE_PTR(state);
	return 0;
}

/* --- teardown ------------------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Signals every running container, waits until deadline (monotonic ms); true if all exited. */
static bool containers_signal_wait(json_object *state, int sig, int64_t deadline)
{
	json_object *all = json_get_path(state, "containers");
	bool all_gone = true;
	struct proc_id id;

	if (!all)
		return true;
	json_object_object_foreach(all, name, cs) {
		(void)name;
		if (rstate_get_proc(cs, &id) >= 0)
			proc_id_kill(&id, sig);
	}
	json_object_object_foreach(all, name2, cs2) {
		int status = -1;
		int64_t left = deadline - now_ms();

		(void)name2;
		if (rstate_get_proc(cs2, &id) < 0)
			continue;
		if (proc_id_wait(&id, left > 0 ? (int)left : 0, &status) < 0) {
			all_gone = false;
			continue;
		}
		rstate_set_exited(cs2, status);
	}
	return all_gone;
}

static int pod_teardown(struct pod_runtime *rt, const char *uid, json_object *state, int grace_seconds)
{
	_cleanup_free_ char *podroot = rt_pod_path(rt, false, uid, NULL), *podrun = rt_pod_path(rt, true, uid, NULL);
	struct proc_id sb;
	bool have_sb = state && rstate_get_proc(json_get_path(state, "sandbox"), &sb) >= 0;
	bool gone;
	int r = 0, k;

	if (!podroot || !podrun)
		return -ENOMEM;
	probe_manager_forget(rt->probes, uid);
	if (state) {
		gone = containers_signal_wait(state, SIGTERM, now_ms() + (int64_t)(grace_seconds > 0 ? grace_seconds : 0) * 1000);
		if (!gone) {
			if (rt->cgroup.pod_kill)
				rt->cgroup.pod_kill(rt->cgroup.userdata, uid);
			gone = containers_signal_wait(state, SIGKILL, now_ms() + KILL_WAIT_MS);
		}
		/* A process the kernel could not kill keeps its reader; never block on it. */
		rt_logger_drop(rt, uid, NULL, gone);
	}
	if (have_sb && proc_id_alive(&sb)) {
		/* A hostNetwork pod's namespace is the host's: nothing was set up there. */
		if (rt->network.pod_teardown && !json_object_get_boolean(json_get_path(state, "pod.spec.hostNetwork"))) {
			_cleanup_close_ int netns = sandbox_ns_open(&sb, "net");

			if (netns >= 0)
				rt->network.pod_teardown(rt->network.userdata, uid, netns);
		}
		proc_id_kill(&sb, SIGTERM);
		if (proc_id_wait(&sb, KILL_WAIT_MS, NULL) < 0) {
			proc_id_kill(&sb, SIGKILL);
			if (proc_id_wait(&sb, KILL_WAIT_MS, NULL) < 0)
				r = -EBUSY;
		}
	}
	if (rt->cgroup.pod_remove && (k = rt->cgroup.pod_remove(rt->cgroup.userdata, uid)) < 0 && r == 0)
		r = k;
	if ((k = fs_rm_rf(podroot)) < 0 && r == 0)
		r = k;
	if ((k = fs_rm_rf(podrun)) < 0 && r == 0)
		r = k;
	return r;
}

/* --- the API -------------------------------------------------------------------------------- */

static bool uids_have(char **v, size_t n, const char *uid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], uid) == 0)
			return true;
	return false;
}

static int uids_add(char ***v, size_t *n, const char *uid)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(uid);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void uids_del(char **v, size_t *n, const char *uid)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(v[i], uid) == 0) {
			free(v[i]);
			v[i] = v[--*n];
			return;
		}
	}
}

static bool stopping_has(struct pod_runtime *rt, const char *uid)
{
	return uids_have(rt->stopping, rt->n_stopping, uid);
}

static int stopping_add(struct pod_runtime *rt, const char *uid)
{
	return uids_add(&rt->stopping, &rt->n_stopping, uid);
}

static void stopping_del(struct pod_runtime *rt, const char *uid)
{
	uids_del(rt->stopping, &rt->n_stopping, uid);
}

/* With rt->lock held: until no start of this pod is spawning without the lock. */
static void wait_not_starting(struct pod_runtime *rt, const char *uid)
{
	while (uids_have(rt->starting, rt->n_starting, uid))
		pthread_cond_wait(&rt->idle, &rt->lock);
}

void rt_unlock_for_spawn(struct pod_runtime *rt)
{
	pthread_mutex_unlock(&rt->lock);
}

void rt_relock_after_spawn(struct pod_runtime *rt)
{
	pthread_mutex_lock(&rt->lock);
}

/* Init containers run one at a time, in order, each to success, before any app container.
 * True when they are all done. */
static bool init_containers_done(struct pod_runtime *rt, json_object *state, json_object *pod, int *ret)
{
	json_object *specs = json_get_path(pod, "spec.initContainers");
	const char *policy = json_get_string(pod, "spec.restartPolicy") ?: "Always";

	/* An init container that failed is retried unless the pod never restarts anything. */
	if (strcmp(policy, "Always") == 0)
		policy = "OnFailure";
	for (size_t i = 0; specs && i < json_object_array_length(specs); i++) {
		json_object *c = json_object_array_get_idx(specs, i);
		json_object *cs = rstate_container(state, json_get_string(c, "name") ?: "");
		const char *st = cs ? json_get_string(cs, "state") : NULL;

		if (!cs) {
			*ret = -ENOMEM;
			return false;
		}
		if (strcmp(st, "exited") == 0 && json_object_get_int(json_get_path(cs, "exitCode")) == 0)
			continue;
		if (rt_should_start(rt, pod, c, cs, policy))
			*ret = rt_container_start(rt, state, pod, c, cs);
		return false;
	}
	return true;
}

static int start_locked(struct pod_runtime *rt, json_object *pod, const char *uid)
{
	_cleanup_json_ json_object *state = rstate_load(rt->run_dir, uid);
	json_object *specs = json_get_path(pod, "spec.containers");
	const char *policy = json_get_string(pod, "spec.restartPolicy") ?: "Always";
	struct proc_id sb;
	int r = 0;

	if (state && (rstate_get_proc(json_get_path(state, "sandbox"), &sb) < 0 || !proc_id_alive(&sb))) {
		log_info("pod %s: sandbox gone, making a new one", uid);
		pod_teardown(rt, uid, state, 0);
		json_object_put(TAKE_PTR(state));
	}
	if (!state) {
		r = sandbox_create(rt, pod, uid, &state);
		if (r < 0) {
			_cleanup_json_ json_object *partial = rstate_load(rt->run_dir, uid);

			pod_teardown(rt, uid, partial, 0);
			return r;
		}
	}
	json_object_object_add(state, "pod", json_clone(pod));
	rt_refresh_containers(rt, uid, state);
	if (!init_containers_done(rt, state, pod, &r))
		specs = NULL;
	for (size_t i = 0; r >= 0 && specs && i < json_object_array_length(specs); i++) {
		json_object *c = json_object_array_get_idx(specs, i);
		json_object *cs = rstate_container(state, json_get_string(c, "name") ?: "");

		if (!cs)
			r = -ENOMEM;
		else if (rt_should_start(rt, pod, c, cs, policy))
			r = rt_container_start(rt, state, pod, c, cs);
	}
	rt_probe_containers(rt, state, pod, uid);
	rstate_save(rt->run_dir, uid, state);
	return r;
}

int pod_runtime_start(struct pod_runtime *rt, json_object *pod)
{
	const char *uid = json_get_string(pod, "metadata.uid");
	int r;

	if (rt_uid_check(uid) < 0 || !json_get_string(pod, "metadata.name"))
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	wait_not_starting(rt, uid);
	if (stopping_has(rt, uid))
		r = -EBUSY;
	else
		r = uids_add(&rt->starting, &rt->n_starting, uid);
	if (r >= 0) {
		r = start_locked(rt, pod, uid);
		uids_del(rt->starting, &rt->n_starting, uid);
		pthread_cond_broadcast(&rt->idle);
	}
	pthread_mutex_unlock(&rt->lock);
	return r;
}

int pod_runtime_stop(struct pod_runtime *rt, const char *uid, int grace_seconds)
{
	_cleanup_json_ json_object *state = NULL;
	int r;

	if (rt_uid_check(uid) < 0)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	wait_not_starting(rt, uid);
	if (stopping_has(rt, uid)) {
		pthread_mutex_unlock(&rt->lock);
		return -EBUSY;
	}
	state = rstate_load(rt->run_dir, uid);
	rt_stop_events(rt, state);
	/* A terminating pod is probed no more (its failures would be no news). */
	probe_manager_forget(rt->probes, uid);
	/* The grace period is spent without the lock, so other pods' calls go on meanwhile; the
	 * pod is marked stopping so nobody starts it again under our feet. */
	if (state && grace_seconds > 0 && stopping_add(rt, uid) >= 0) {
		containers_signal_wait(state, SIGTERM, now_ms());
		pthread_mutex_unlock(&rt->lock);
		containers_signal_wait(state, 0, now_ms() + (int64_t)grace_seconds * 1000);
		pthread_mutex_lock(&rt->lock);
		stopping_del(rt, uid);
	}
	r = pod_teardown(rt, uid, state, 0);
	pthread_mutex_unlock(&rt->lock);
	return r;
}

int pod_runtime_status(struct pod_runtime *rt, const char *uid, json_object **ret_status)
{
	_cleanup_json_ json_object *state = NULL;
	int r = 0;

	if (rt_uid_check(uid) < 0)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	wait_not_starting(rt, uid);
	state = rstate_load(rt->run_dir, uid);
	if (!state)
		r = errno == ENOENT ? -ENOENT : -errno;
	else if (rt_refresh_containers(rt, uid, state))
		rstate_save(rt->run_dir, uid, state);
	if (state)
		rt_mark_unready(rt, state, uid);
	pthread_mutex_unlock(&rt->lock);
	if (r < 0)
		return r;
	*ret_status = rstate_pod_status(state);
	return *ret_status ? 0 : -ENOMEM;
}

int pod_runtime_list(struct pod_runtime *rt, char ***ret_uids)
{
	_cleanup_free_ char *dir = NULL;
	char **uids = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (asprintf(&dir, "%s/pods", rt->run_dir) < 0)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return -errno;
	uids = calloc(1, sizeof(*uids));
	while (uids && (de = readdir(d))) {
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		grown = realloc(uids, (n + 2) * sizeof(*uids));
		if (!grown) {
			pod_runtime_uids_free(uids);
			uids = NULL;
			break;
		}
		uids = grown;
		uids[n + 1] = NULL;
		uids[n] = strdup(de->d_name);
		if (!uids[n]) {
			pod_runtime_uids_free(uids);
			uids = NULL;
			break;
		}
		n++;
	}
	closedir(d);
	if (!uids)
		return -ENOMEM;
	*ret_uids = uids;
	return 0;
}

void pod_runtime_uids_free(char **uids)
{
	for (char **p = uids; p && *p; p++)
		free(*p);
	free(uids);
}

/* Reopens the log readers of a live pod's running containers (none yet for this uid). */
static void adopt_logs(struct pod_runtime *rt, const char *uid, json_object *state)
{
	json_object *all = json_get_path(state, "containers"), *pod = json_get_path(state, "pod");
	struct proc_id id;

	if (!all || rt_logger_find(rt, uid, NULL))
		return;
	json_object_object_foreach(all, name, cs) {
		_cleanup_free_ char *out = rt_fifo_path(rt, uid, name, "stdout"), *err = rt_fifo_path(rt, uid, name, "stderr");
		_cleanup_free_ char *logp = rt_log_path(rt, pod, name, json_object_get_int(json_get_path(cs, "restartCount")));
		struct container_logger *l;

		if (rstate_get_proc(cs, &id) < 0 || !proc_id_alive(&id) || !out || !err || !logp)
			continue;
		l = container_logger_start(out, err, logp, rt->log_max_bytes, &id);
		if (l)
			rt_logger_add(rt, uid, name, l);
	}
}

int pod_runtime_adopt(struct pod_runtime *rt)
{
	char **uids = NULL;
	int r, adopted = 0;

	r = pod_runtime_list(rt, &uids);
	if (r < 0 || !uids)
		return r < 0 ? r : -ENOMEM;
	pthread_mutex_lock(&rt->lock);
	for (char **u = uids; *u; u++) {
		_cleanup_json_ json_object *state = NULL;
		struct proc_id sb;

		wait_not_starting(rt, *u);
		state = rstate_load(rt->run_dir, *u);

		if (state && rstate_get_proc(json_get_path(state, "sandbox"), &sb) >= 0 && proc_id_alive(&sb)) {
			rt_refresh_containers(rt, *u, state);
			adopt_logs(rt, *u, state);
			rstate_save(rt->run_dir, *u, state);
			adopted++;
		} else {
			log_info("pod %s: sandbox gone while the agent was away, cleaning up", *u);
			pod_teardown(rt, *u, state, 0);
		}
	}
	pthread_mutex_unlock(&rt->lock);
	pod_runtime_uids_free(uids);
	return adopted;
}

int pod_runtime_netns_fd(struct pod_runtime *rt, const char *uid)
{
	_cleanup_json_ json_object *state = NULL;
	struct proc_id sb;
	int r;

	if (rt_uid_check(uid) < 0)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	wait_not_starting(rt, uid);
	state = rstate_load(rt->run_dir, uid);
	r = state ? rstate_get_proc(json_get_path(state, "sandbox"), &sb) : -ENOENT;
	pthread_mutex_unlock(&rt->lock);
	return r < 0 ? r : sandbox_ns_open(&sb, "net");
}

char *pod_runtime_log_path(struct pod_runtime *rt, json_object *pod, const char *container, int restart_count)
{
	return rt_log_path(rt, pod, container, restart_count);
}
