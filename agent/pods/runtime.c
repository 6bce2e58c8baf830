/* The pod runtime (see runtime.h). A pod's whole state lives in <run>/pods/<uid>/state.json
 * (sandbox and container pids, starts, exits), so a restarted agent reads back exactly what
 * it left; in memory there are only the log readers. One lock serialises every call. */
#include "pods/runtime.h"

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

#include "pods/container.h"
#include "pods/image.h"
#include "pods/logs.h"
#include "pods/mounts.h"
#include "pods/podspec.h"
#include "pods/runtime_state.h"
#include "pods/sandbox.h"

#define DEFAULT_LOG_MAX_BYTES (10u << 20)
#define KILL_WAIT_MS 10000

struct logger_entry {
	struct logger_entry *next;
	char *uid, *name;
	struct container_logger *logger;
};

struct pod_runtime {
	pthread_mutex_t lock;
	char *root_dir, *run_dir, *log_dir, *pause_path, *node_name, *dns_server;
	size_t log_max_bytes;
	struct runtime_cgroup_hooks cgroup;
	struct runtime_network_hooks network;
	struct logger_entry *loggers;
};

/* --- log readers ------------------------------------------------------------------------ */

static struct logger_entry **logger_find(struct pod_runtime *rt, const char *uid, const char *name)
{
	struct logger_entry **p = &rt->loggers;

	for (; *p; p = &(*p)->next)
		if (strcmp((*p)->uid, uid) == 0 && (!name || strcmp((*p)->name, name) == 0))
			return p;
	return NULL;
}

static void logger_add(struct pod_runtime *rt, const char *uid, const char *name, struct container_logger *l)
{
	struct logger_entry *e = calloc(1, sizeof(*e));

	if (!e || !(e->uid = strdup(uid)) || !(e->name = strdup(name))) {
		if (e)
			free(e->uid);
		free(e);
		container_logger_free(l);
		return;
	}
	e->logger = l;
	e->next = rt->loggers;
	rt->loggers = e;
}

static void logger_entry_free(struct logger_entry *e, bool finish)
{
	if (finish)
		container_logger_finish(e->logger);
	else
		container_logger_free(e->logger);
	free(e->uid);
	free(e->name);
	free(e);
}

/* finish: the process is gone, wait for its last output; else stop reading now. */
static void logger_drop(struct pod_runtime *rt, const char *uid, const char *name, bool finish)
{
	struct logger_entry **p, *e;

	while ((p = logger_find(rt, uid, name))) {
		e = *p;
		*p = e->next;
		logger_entry_free(e, finish);
	}
}

/* --- paths -------------------------------------------------------------------------------- */

static char *pod_path(struct pod_runtime *rt, bool run, const char *uid, const char *rest)
{
	char *p;

	return asprintf(&p, "%s/pods/%s%s%s", run ? rt->run_dir : rt->root_dir, uid, rest ? "/" : "", rest ? rest : "") < 0
		       ? NULL
		       : p;
}

static char *fifo_path(struct pod_runtime *rt, const char *uid, const char *name, const char *stream)
{
	char *p;

	return asprintf(&p, "%s/pods/%s/fifo/%s.%s", rt->run_dir, uid, name, stream) < 0 ? NULL : p;
}

static char *log_path(struct pod_runtime *rt, json_object *pod, const char *name, int restarts)
{
	char *p;

	return asprintf(&p, "%s/%s_%s_%s/%s/%d.log", rt->log_dir, json_get_string(pod, "metadata.namespace") ?: "default",
			json_get_string(pod, "metadata.name") ?: "", json_get_string(pod, "metadata.uid") ?: "", name,
			restarts) < 0
		       ? NULL
		       : p;
}

static int uid_check(const char *uid)
{
	if (!uid || !*uid || strchr(uid, '/') || strcmp(uid, ".") == 0 || strcmp(uid, "..") == 0)
		return -EINVAL;
	return 0;
}

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
	rt->root_dir = strdup(c->root_dir);
	rt->run_dir = strdup(c->run_dir);
	rt->log_dir = strdup(c->log_dir);
	rt->pause_path = strdup(c->pause_path);
	rt->node_name = strdup(c->node_name ? c->node_name : "");
	rt->dns_server = c->dns_server ? strdup(c->dns_server) : NULL;
	rt->log_max_bytes = c->log_max_bytes ? c->log_max_bytes : DEFAULT_LOG_MAX_BYTES;
	rt->cgroup = c->cgroup;
	rt->network = c->network;
	if (!rt->root_dir || !rt->run_dir || !rt->log_dir || !rt->pause_path || !rt->node_name ||
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
	while (rt->loggers) {
		struct logger_entry *e = rt->loggers;

		rt->loggers = e->next;
		logger_entry_free(e, false);
	}
	pthread_mutex_destroy(&rt->lock);
	free(rt->root_dir);
	free(rt->run_dir);
	free(rt->log_dir);
	free(rt->pause_path);
	free(rt->node_name);
	free(rt->dns_server);
	free(rt);
}

/* --- the sandbox ---------------------------------------------------------------------------- */

static int write_etc_files(struct pod_runtime *rt, json_object *pod, const char *uid, const char *ip)
{
	_cleanup_free_ char *dir = pod_path(rt, false, uid, "etc"), *hosts = NULL, *resolv = NULL;
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
	snprintf(path, sizeof(path), "%s/hostname", dir);
	free(hosts);
	if (r >= 0 && asprintf(&hosts, "%s\n", name) < 0)
		return -ENOMEM;
	if (r >= 0)
		r = fs_write_file(path, hosts, 0644);
	return r;
}

/* The pod name as a hostname: at most 63 characters, as Kubernetes cuts it. */
static void pod_hostname(json_object *pod, char buf[64])
{
	snprintf(buf, 64, "%s", json_get_string(pod, "metadata.name") ?: "pod");
}

static int sandbox_create(struct pod_runtime *rt, json_object *pod, const char *uid, json_object **ret_state)
{
	_cleanup_json_ json_object *state = json_object_new_object();
	_cleanup_free_ char *run = pod_path(rt, true, uid, "fifo"), *podroot = pod_path(rt, false, uid, NULL);
	_cleanup_close_ int netns = -1;
	char host[64], ip[64] = "", now[32];
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
	r = sandbox_start(rt->pause_path, host, &id);
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
	if (r >= 0 && rt->cgroup.sandbox_attach)
		r = rt->cgroup.sandbox_attach(rt->cgroup.userdata, uid, id.pid);
	if (r >= 0 && rt->network.pod_setup) {
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

/* --- containers ----------------------------------------------------------------------------- */

struct attach_ctx {
	struct pod_runtime *rt;
	json_object *pod, *container;
};

static int attach_cb(void *userdata, pid_t pid)
{
	struct attach_ctx *a = userdata;

	return a->rt->cgroup.container_attach(a->rt->cgroup.userdata, a->pod, a->container, pid);
}

static int open_sandbox_ns(json_object *state, bool share_pid, int fds[4])
{
	static const char *const names[] = { "net", "ipc", "uts", "pid" };
	struct proc_id sb;
	int r = rstate_get_proc(json_get_path(state, "sandbox"), &sb);

	for (int i = 0; i < 4; i++)
		fds[i] = -1;
	for (int i = 0; r >= 0 && i < (share_pid ? 4 : 3); i++) {
		fds[i] = sandbox_ns_open(&sb, names[i]);
		r = fds[i] < 0 ? fds[i] : 0;
	}
	return r;
}

/* The container's overlay dirs, fresh each start (a restarted container starts from its
 * image again, as in Kubernetes). */
static int container_dirs(struct pod_runtime *rt, const char *uid, const char *name, char *ret[3])
{
	static const char *const sub[] = { "upper", "work", "rootfs" };
	_cleanup_free_ char *rel = NULL, *cdir = NULL;
	int r;

	if (asprintf(&rel, "containers/%s", name) < 0 || !(cdir = pod_path(rt, false, uid, rel)))
		return -ENOMEM;
	r = fs_rm_rf(cdir);
	for (int i = 0; r >= 0 && i < 3; i++) {
		if (asprintf(&ret[i], "%s/%s", cdir, sub[i]) < 0)
			return -ENOMEM;
		r = fs_mkdir_p(ret[i], 0755);
	}
	return r;
}

static void spawn_failed(json_object *cs, const char *reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void spawn_failed(json_object *cs, const char *reason, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	rstate_set_waiting(cs, reason, msg ? msg : reason);
	log_warn("%s", msg ? msg : reason);
}

/* Starts one container; a failure that is the pod's (image, spec) is left in cs, not returned. */
static int container_start(struct pod_runtime *rt, json_object *state, json_object *pod, json_object *c, json_object *cs)
{
	const char *uid = json_get_string(pod, "metadata.uid"), *name = json_get_string(c, "name") ?: "";
	const char *image = json_get_string(c, "image") ?: "";
	_cleanup_free_ char *lower = NULL, *err = NULL, *poddir = pod_path(rt, false, uid, NULL);
	_cleanup_free_ char *out = fifo_path(rt, uid, name, "stdout"), *errf = fifo_path(rt, uid, name, "stderr");
	_cleanup_json_ json_object *img = NULL;
	char *dirs[3] = { NULL, NULL, NULL };
	struct podspec_container pc = { 0 };
	struct podspec_context ctx = { .pod_dir = poddir, .pod_ip = json_get_string(state, "podIP"), .node_name = rt->node_name };
	struct attach_ctx actx = { rt, pod, c };
	struct container_spec spec;
	struct container_logger *l;
	struct proc_id id;
	const char *step = "setup";
	_cleanup_free_ char *logp = NULL;
	int ns[4], r;

	if (!poddir || !out || !errf)
		return -ENOMEM;
	r = image_lookup(rt->root_dir, image, &lower, &img);
	if (r == -ENOENT) {
		_cleanup_free_ char *store = image_store_dir(rt->root_dir);

		spawn_failed(cs, "ErrImageNeverPull", "image \"%s\" not found in %s (import it with skiffctl image import %s PATH)",
			     image, store ? store : rt->root_dir, image);
		return 0;
	}
	if (r < 0)
		return r;
	r = podspec_container_build(pod, c, img, &ctx, &pc, &err);
	if (r == -EINVAL) {
		spawn_failed(cs, "CreateContainerConfigError", "%s", err ? err : "invalid container spec");
		return 0;
	}
	if (r >= 0)
		r = podspec_volumes_prepare(pod, &ctx);
	if (r >= 0)
		r = container_dirs(rt, uid, name, dirs);
	if (r >= 0)
		r = log_fifo_make(out);
	if (r >= 0)
		r = log_fifo_make(errf);
	if (r >= 0)
		r = open_sandbox_ns(state, json_object_get_boolean(json_get_path(pod, "spec.shareProcessNamespace")), ns);
	if (r < 0)
		goto out;
	spec = (struct container_spec){
		.name = name, .lower = lower, .upper = dirs[0], .work = dirs[1], .rootfs = dirs[2],
		.argv = (const char *const *)pc.argv, .envp = (const char *const *)pc.envp,
		.path_env = pc.path_env, .cwd = pc.cwd, .set_uid = pc.set_uid, .set_gid = pc.set_gid,
		.uid = pc.uid, .gid = pc.gid, .privileged = pc.privileged,
		.netns = ns[0], .ipcns = ns[1], .utsns = ns[2], .pidns = ns[3],
		.mounts = pc.mounts, .n_mounts = pc.n_mounts, .stdout_fifo = out, .stderr_fifo = errf,
		.attach = rt->cgroup.container_attach ? attach_cb : NULL, .userdata = &actx,
	};
	r = container_spawn(&spec, &id, &step);
	for (int i = 0; i < 4; i++)
		if (ns[i] >= 0)
			close(ns[i]);
	if (r < 0) {
		spawn_failed(cs, "RunContainerError", "pod %s/%s: container %s: %s: %s",
			     json_get_string(pod, "metadata.namespace") ?: "", json_get_string(pod, "metadata.name") ?: "",
			     name, step, strerror(-r));
		r = 0;
		goto out;
	}
	rstate_set_running(cs, &id);
	json_object_object_add(cs, "image", json_object_new_string(image));
	logp = log_path(rt, pod, name, json_object_get_int(json_get_path(cs, "restartCount")));
	l = logp ? container_logger_start(out, errf, logp, rt->log_max_bytes, &id) : NULL;
	if (l)
		logger_add(rt, uid, name, l);
	else
		log_warn("pod %s: container %s: no log reader: %m", uid, name);
out:
	podspec_container_done(&pc);
	for (int i = 0; i < 3; i++)
		free(dirs[i]);
	return r;
}

/* Reaps exited containers; their log readers are finished (the output is all written). */
static bool refresh_containers(struct pod_runtime *rt, const char *uid, json_object *state)
{
	json_object *all = json_get_path(state, "containers");
	bool changed = false;

	if (!all)
		return false;
	json_object_object_foreach(all, name, cs) {
		if (rstate_container_refresh(cs)) {
			logger_drop(rt, uid, name, true);
			changed = true;
		}
	}
	return changed;
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
	_cleanup_free_ char *podroot = pod_path(rt, false, uid, NULL), *podrun = pod_path(rt, true, uid, NULL);
	struct proc_id sb;
	bool have_sb = state && rstate_get_proc(json_get_path(state, "sandbox"), &sb) >= 0;
	bool gone;
	int r = 0, k;

	if (!podroot || !podrun)
		return -ENOMEM;
	if (state) {
		gone = containers_signal_wait(state, SIGTERM, now_ms() + (int64_t)(grace_seconds > 0 ? grace_seconds : 0) * 1000);
		if (!gone) {
			if (rt->cgroup.pod_kill)
				rt->cgroup.pod_kill(rt->cgroup.userdata, uid);
			gone = containers_signal_wait(state, SIGKILL, now_ms() + KILL_WAIT_MS);
		}
		/* A process the kernel could not kill keeps its reader; never block on it. */
		logger_drop(rt, uid, NULL, gone);
	}
	if (have_sb && proc_id_alive(&sb)) {
		if (rt->network.pod_teardown) {
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
		if (rstate_should_start(cs, policy, time(NULL)))
			*ret = container_start(rt, state, pod, c, cs);
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
	refresh_containers(rt, uid, state);
	if (!init_containers_done(rt, state, pod, &r))
		specs = NULL;
	for (size_t i = 0; r >= 0 && specs && i < json_object_array_length(specs); i++) {
		json_object *c = json_object_array_get_idx(specs, i);
		json_object *cs = rstate_container(state, json_get_string(c, "name") ?: "");

		if (!cs)
			r = -ENOMEM;
		else if (rstate_should_start(cs, policy, time(NULL)))
			r = container_start(rt, state, pod, c, cs);
	}
	rstate_save(rt->run_dir, uid, state);
	return r;
}

int pod_runtime_start(struct pod_runtime *rt, json_object *pod)
{
	const char *uid = json_get_string(pod, "metadata.uid");
	int r;

	if (uid_check(uid) < 0 || !json_get_string(pod, "metadata.name"))
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	r = start_locked(rt, pod, uid);
	pthread_mutex_unlock(&rt->lock);
	return r;
}

int pod_runtime_stop(struct pod_runtime *rt, const char *uid, int grace_seconds)
{
	_cleanup_json_ json_object *state = NULL;
	int r;

	if (uid_check(uid) < 0)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	state = rstate_load(rt->run_dir, uid);
	r = pod_teardown(rt, uid, state, grace_seconds);
	pthread_mutex_unlock(&rt->lock);
	return r;
}

int pod_runtime_status(struct pod_runtime *rt, const char *uid, json_object **ret_status)
{
	_cleanup_json_ json_object *state = NULL;
	int r = 0;

	if (uid_check(uid) < 0)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	state = rstate_load(rt->run_dir, uid);
	if (!state)
		r = errno == ENOENT ? -ENOENT : -errno;
	else if (refresh_containers(rt, uid, state))
		rstate_save(rt->run_dir, uid, state);
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
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			uids = grown;
			if (grown)
				grown[n] = NULL;
			pod_runtime_uids_free(uids);
			uids = NULL;
			break;
		}
		uids = grown;
		uids[++n] = NULL;
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

	if (!all || logger_find(rt, uid, NULL))
		return;
	json_object_object_foreach(all, name, cs) {
		_cleanup_free_ char *out = fifo_path(rt, uid, name, "stdout"), *err = fifo_path(rt, uid, name, "stderr");
		_cleanup_free_ char *logp = log_path(rt, pod, name, json_object_get_int(json_get_path(cs, "restartCount")));
		struct container_logger *l;

		if (rstate_get_proc(cs, &id) < 0 || !proc_id_alive(&id) || !out || !err || !logp)
			continue;
		l = container_logger_start(out, err, logp, rt->log_max_bytes, &id);
		if (l)
			logger_add(rt, uid, name, l);
	}
}

int pod_runtime_adopt(struct pod_runtime *rt)
{
	char **uids = NULL;
	int r, adopted = 0;

	r = pod_runtime_list(rt, &uids);
	if (r < 0)
		return r;
	pthread_mutex_lock(&rt->lock);
	for (char **u = uids; *u; u++) {
		_cleanup_json_ json_object *state = rstate_load(rt->run_dir, *u);
		struct proc_id sb;

		if (state && rstate_get_proc(json_get_path(state, "sandbox"), &sb) >= 0 && proc_id_alive(&sb)) {
			refresh_containers(rt, *u, state);
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

	if (uid_check(uid) < 0)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	state = rstate_load(rt->run_dir, uid);
	r = state ? rstate_get_proc(json_get_path(state, "sandbox"), &sb) : -ENOENT;
	pthread_mutex_unlock(&rt->lock);
	return r < 0 ? r : sandbox_ns_open(&sb, "net");
}
