/* Containers of a pod (see runtime_internal.h): image, spec and dirs to a running process,
 * its log reader, and reaping it when it exits. */
#include "pods/runtime_internal.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "pods/container.h"
#include "pods/image.h"
#include "pods/mounts.h"
#include "pods/podspec.h"
#include "pods/runtime_state.h"
#include "pods/sandbox.h"

/* --- log readers ------------------------------------------------------------------------ */

struct logger_entry **rt_logger_find(struct pod_runtime *rt, const char *uid, const char *name)
{
	struct logger_entry **p = &rt->loggers;

	for (; *p; p = &(*p)->next)
		if ((!uid || strcmp((*p)->uid, uid) == 0) && (!name || strcmp((*p)->name, name) == 0))
			return p;
	return NULL;
}

void rt_logger_add(struct pod_runtime *rt, const char *uid, const char *name, struct container_logger *l)
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

void rt_logger_drop(struct pod_runtime *rt, const char *uid, const char *name, bool finish)
{
	struct logger_entry **p, *e;

	while ((p = rt_logger_find(rt, uid, name))) {
		e = *p;
		*p = e->next;
		logger_entry_free(e, finish);
	}
}

/* --- paths -------------------------------------------------------------------------------- */

char *rt_pod_path(struct pod_runtime *rt, bool run, const char *uid, const char *rest)
{
	char *p;

	return asprintf(&p, "%s/pods/%s%s%s", run ? rt->run_dir : rt->root_dir, uid, rest ? "/" : "", rest ? rest : "") < 0
		       ? NULL
		       : p;
}

char *rt_fifo_path(struct pod_runtime *rt, const char *uid, const char *name, const char *stream)
{
	char *p;

	return asprintf(&p, "%s/pods/%s/fifo/%s.%s", rt->run_dir, uid, name, stream) < 0 ? NULL : p;
}

char *rt_log_path(struct pod_runtime *rt, json_object *pod, const char *name, int restarts)
{
	char *p;

	return asprintf(&p, "%s/%s_%s_%s/%s/%d.log", rt->log_dir, json_get_string(pod, "metadata.namespace") ?: "default",
			json_get_string(pod, "metadata.name") ?: "", json_get_string(pod, "metadata.uid") ?: "", name,
			restarts) < 0
		       ? NULL
		       : p;
}

int rt_uid_check(const char *uid)
{
	if (!uid || !*uid || strchr(uid, '/') || strcmp(uid, ".") == 0 || strcmp(uid, "..") == 0)
		return -EINVAL;
	return 0;
}

/* --- events -------------------------------------------------------------------------------- */

/* spec.initContainers{NAME} for an init container, else spec.containers{NAME}. */
static bool is_init_container(json_object *pod, const char *name)
{
	json_object *inits = json_get_path(pod, "spec.initContainers");

	for (size_t i = 0; json_object_is_type(inits, json_type_array) && i < json_object_array_length(inits); i++)
		if (strcmp(json_get_string(json_object_array_get_idx(inits, i), "name") ?: "", name) == 0)
			return true;
	return false;
}

void rt_event(struct pod_runtime *rt, json_object *pod, const char *name, const char *type, const char *reason,
	      const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL, *field = NULL;
	va_list ap;
	int r;

	if (!rt->events.emit)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0 || (name && asprintf(&field, "spec.%s{%s}", is_init_container(pod, name) ? "initContainers" : "containers",
				       name) < 0))
		return;
	rt->events.emit(rt->events.userdata,
			&(struct runtime_event){ .ns = json_get_string(pod, "metadata.namespace") ?: "default",
						 .pod_name = json_get_string(pod, "metadata.name") ?: "",
						 .pod_uid = json_get_string(pod, "metadata.uid") ?: "",
						 .field_path = field, .type = type, .reason = reason, .message = msg });
}

/* --- containers ----------------------------------------------------------------------------- */

struct attach_ctx {
	struct pod_runtime *rt;
	json_object *pod, *container;
};

static int attach_cb(void *userdata, pid_t pid)
{
	struct attach_ctx *a = userdata;
	int r;

	/* Called by container_spawn, which runs without the runtime's lock. */
	rt_relock_after_spawn(a->rt);
	r = a->rt->cgroup.container_attach(a->rt->cgroup.userdata, a->pod, a->container, pid);
	rt_unlock_for_spawn(a->rt);
	return r;
}

static int cgroup_open_cb(void *userdata)
{
	struct attach_ctx *a = userdata;
	int r;

	rt_relock_after_spawn(a->rt);
	r = a->rt->cgroup.container_cgroup(a->rt->cgroup.userdata, a->pod, a->container);
	rt_unlock_for_spawn(a->rt);
	return r;
}

/* The sandbox's net, ipc, uts namespaces, and the pid namespace containers join: the
 * sandbox's when the pod shares one, the host's for hostPID, else none (-1: a new one each). */
static int open_sandbox_ns(json_object *state, json_object *pod, int fds[4])
{
	static const char *const names[] = { "net", "ipc", "uts", "pid" };
	bool share = json_object_get_boolean(json_get_path(pod, "spec.shareProcessNamespace"));
	struct proc_id sb;
	int r = rstate_get_proc(json_get_path(state, "sandbox"), &sb);

	for (int i = 0; i < 4; i++)
		fds[i] = -1;
	for (int i = 0; r >= 0 && i < (share ? 4 : 3); i++) {
		fds[i] = sandbox_ns_open(&sb, names[i]);
		r = fds[i] < 0 ? fds[i] : 0;
	}
	if (r >= 0 && json_object_get_boolean(json_get_path(pod, "spec.hostPID"))) {
		if (fds[3] >= 0)
			close(fds[3]);
		fds[3] = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		r = fds[3] < 0 ? -errno : 0;
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

	if (asprintf(&rel, "containers/%s", name) < 0 || !(cdir = rt_pod_path(rt, false, uid, rel)))
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
/* The container's image and spec. > 0 when it must wait (reason and message left in cs). */
static int resolve_container(struct pod_runtime *rt, json_object *pod, json_object *c, json_object *cs,
			     const struct podspec_context *ctx, char **ret_lower, struct podspec_container *ret)
{
	const char *name = json_get_string(c, "name") ?: "", *image = json_get_string(c, "image") ?: "";
	_cleanup_free_ char *err = NULL;
	_cleanup_json_ json_object *img = NULL;
	int r;

	/* Before the name goes into a path. */
	if (!podspec_name_ok(name)) {
		spawn_failed(cs, "CreateContainerConfigError", "container name \"%s\" is not a DNS label", name);
		return 1;
	}
	r = image_lookup(rt->root_dir, image, ret_lower, &img);
	if (r == -ENOENT) {
		_cleanup_free_ char *store = image_store_dir(rt->root_dir);
		bool dflt = strcmp(rt->root_dir, IMAGE_DEFAULT_ROOT) == 0;

		rt_event(rt, pod, name, "Warning", "ErrImageNeverPull",
			 "Container image \"%s\" is not present with pull policy of Never", image);
		spawn_failed(cs, "ErrImageNeverPull",
			     "image \"%s\" not found in %s (import it with skiffctl image import %s PATH%s%s)", image,
			     store ? store : rt->root_dir, image, dflt ? "" : " --root ", dflt ? "" : rt->root_dir);
		return 1;
	}
	if (r < 0)
		return r;
	rt_event(rt, pod, name, "Normal", "Pulled", "Container image \"%s\" already present on machine", image);
	r = podspec_container_build(pod, c, img, ctx, ret, &err);
	if (r == -EINVAL) {
		rt_event(rt, pod, name, "Warning", "Failed", "Error: %s", err ? err : "invalid container spec");
		spawn_failed(cs, "CreateContainerConfigError", "%s", err ? err : "invalid container spec");
		return 1;
	}
	return r;
}

/* Dirs, FIFOs (held open in keep[] until the reader has them: a FIFO's buffer lives only
 * while someone has it open, so a container that exits at once would take its output with
 * it) and the sandbox's namespaces. */
static int prepare_container(struct pod_runtime *rt, json_object *state, json_object *pod, const char *name,
			     const struct podspec_context *ctx, const char *const fifos[2], char *dirs[3], int keep[2],
			     int ns[4])
{
	int r;

	r = podspec_volumes_prepare(pod, ctx);
	if (r >= 0)
		r = container_dirs(rt, json_get_string(pod, "metadata.uid"), name, dirs);
	for (int i = 0; r >= 0 && i < 2; i++) {
		r = log_fifo_make(fifos[i]);
		if (r >= 0) {
			keep[i] = open(fifos[i], O_RDWR | O_NONBLOCK | O_CLOEXEC);
			r = keep[i] < 0 ? -errno : 0;
		}
	}
	if (r >= 0)
		r = open_sandbox_ns(state, pod, ns);
	return r;
}

/* What the devices hook adds to a container: device binds after the spec's mounts, env
 * entries over the spec's (an entry of the same name in the spec is left out). */
struct dev_extras {
	char **paths, **env, **targets;
	struct container_mount *mounts;
	const char **envp;
	size_t n_mounts;
};

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void dev_extras_done(struct dev_extras *x)
{
	strv_free(x->paths);
	strv_free(x->env);
	strv_free(x->targets);
	free(x->mounts);
	free(x->envp);
}

static bool env_overridden(const char *entry, char **extra)
{
	size_t n = strcspn(entry, "=");

	for (char **e = extra; e && *e; e++)
		if (strncmp(*e, entry, n) == 0 && (*e)[n] == '=')
			return true;
	return false;
}

static int dev_extras_build(struct pod_runtime *rt, json_object *pod, json_object *c,
			    const struct podspec_container *pc, struct dev_extras *x)
{
	size_t np = 0, ne = 0, ns = 0, k = 0;
	int r;

	if (!rt->devices.container_devices)
		return 0;
	r = rt->devices.container_devices(rt->devices.userdata, pod, c, &x->paths, &x->env);
	if (r < 0)
		return r;
	while (x->paths && x->paths[np])
		np++;
	while (x->env && x->env[ne])
		ne++;
	while (pc->envp && pc->envp[ns])
		ns++;
	x->n_mounts = pc->n_mounts + np;
	x->mounts = calloc(x->n_mounts + 1, sizeof(*x->mounts));
	x->envp = calloc(ns + ne + 1, sizeof(*x->envp));
	x->targets = calloc(np + 1, sizeof(*x->targets));
	if (!x->mounts || !x->envp || !x->targets)
		return -ENOMEM;
	for (size_t i = 0; i < pc->n_mounts; i++)
		x->mounts[i] = pc->mounts[i];
	for (size_t i = 0; i < np; i++) {
		const char *base = strrchr(x->paths[i], '/');

		if (asprintf(&x->targets[i], "/dev/%s", base ? base + 1 : x->paths[i]) < 0) {
			x->targets[i] = NULL;
			return -ENOMEM;
		}
		x->mounts[pc->n_mounts + i] = (struct container_mount){ .source = x->paths[i], .target = x->targets[i] };
	}
	for (size_t i = 0; i < ns; i++)
		if (!env_overridden(pc->envp[i], x->env))
			x->envp[k++] = pc->envp[i];
	for (size_t i = 0; i < ne; i++)
		x->envp[k++] = x->env[i];
	return 0;
}

int rt_container_start(struct pod_runtime *rt, json_object *state, json_object *pod, json_object *c, json_object *cs)
{
	const char *uid = json_get_string(pod, "metadata.uid"), *name = json_get_string(c, "name") ?: "";
	_cleanup_free_ char *lower = NULL, *logp = NULL, *poddir = rt_pod_path(rt, false, uid, NULL);
	_cleanup_free_ char *out = rt_fifo_path(rt, uid, name, "stdout"), *errf = rt_fifo_path(rt, uid, name, "stderr");
	const char *const fifos[2] = { out, errf };
	char *dirs[3] = { NULL, NULL, NULL };
	struct podspec_container pc = { 0 };
	struct podspec_context ctx = { .pod_dir = poddir, .pod_ip = json_get_string(state, "podIP"), .node_name = rt->node_name };
	struct attach_ctx actx = { rt, pod, c };
	struct dev_extras dx = { 0 };
	struct container_spec spec;
	struct container_logger *l;
	struct proc_id id;
	const char *step = "setup";
	int keep[2] = { -1, -1 }, ns[4] = { -1, -1, -1, -1 }, r;

	if (!poddir || !out || !errf)
		return -ENOMEM;
	r = resolve_container(rt, pod, c, cs, &ctx, &lower, &pc);
	if (r != 0)
		return r < 0 ? r : 0;
	r = prepare_container(rt, state, pod, name, &ctx, fifos, dirs, keep, ns);
	if (r >= 0)
		r = dev_extras_build(rt, pod, c, &pc, &dx);
	if (r < 0)
		goto out;
	spec = (struct container_spec){
		.name = name, .lower = lower, .upper = dirs[0], .work = dirs[1], .rootfs = dirs[2],
		.argv = (const char *const *)pc.argv,
		.envp = dx.envp ? dx.envp : (const char *const *)pc.envp,
		.path_env = pc.path_env, .cwd = pc.cwd, .set_uid = pc.set_uid, .set_gid = pc.set_gid,
		.uid = pc.uid, .gid = pc.gid, .privileged = pc.privileged,
		.caps = pc.caps, .readonly_rootfs = pc.readonly_rootfs, .seccomp_unconfined = pc.seccomp_unconfined,
		.allow_privilege_escalation = pc.allow_privilege_escalation,
		.netns = ns[0], .ipcns = ns[1], .utsns = ns[2], .pidns = ns[3],
		.mounts = dx.mounts ? dx.mounts : pc.mounts, .n_mounts = dx.mounts ? dx.n_mounts : pc.n_mounts,
		.stdout_fifo = out, .stderr_fifo = errf,
		.attach = rt->cgroup.container_attach ? attach_cb : NULL,
		.cgroup_open = rt->cgroup.container_cgroup ? cgroup_open_cb : NULL, .userdata = &actx,
	};
	rt_unlock_for_spawn(rt);
	r = container_spawn(&spec, &id, &step);
	rt_relock_after_spawn(rt);
	if (r < 0) {
		spawn_failed(cs, "RunContainerError", "pod %s/%s: container %s: %s: %s",
			     json_get_string(pod, "metadata.namespace") ?: "", json_get_string(pod, "metadata.name") ?: "",
			     name, step, strerror(-r));
		rt_event(rt, pod, name, "Warning", "Failed", "Error: %s: %s", step, strerror(-r));
		r = 0;
		goto out;
	}
	rstate_set_running(cs, &id);
	rt_event(rt, pod, name, "Normal", "Created", "Created container %s", name);
	rt_event(rt, pod, name, "Normal", "Started", "Started container %s", name);
	json_object_object_add(cs, "image", json_object_new_string(json_get_string(c, "image") ?: ""));
	logp = rt_log_path(rt, pod, name, json_object_get_int(json_get_path(cs, "restartCount")));
	l = logp ? container_logger_start(out, errf, logp, rt->log_max_bytes, &id) : NULL;
	if (l)
		rt_logger_add(rt, uid, name, l);
	else
		log_warn("pod %s: container %s: no log reader: %m", uid, name);
out:
	for (int i = 0; i < 4; i++)
		if (ns[i] >= 0)
			close(ns[i]);
	for (int i = 0; i < 2; i++)
		if (keep[i] >= 0)
			close(keep[i]);
	dev_extras_done(&dx);
	podspec_container_done(&pc);
	for (int i = 0; i < 3; i++)
		free(dirs[i]);
	return r;
}

/* Reaps exited containers; their log readers are finished (the output is all written). */
/* A run killed by SIGKILL whose cgroup counted an OOM kill was the kernel's OOM kill: reason
 * OOMKilled, as kubelet reports it. Every run gets a fresh container cgroup
 * (cgroup_container_create), so the count is this run's alone. */
static void rt_note_oom_kill(struct pod_runtime *rt, const char *uid, const char *name, json_object *cs)
{
	uint64_t kills = 0;

	if (json_object_get_int(json_get_path(cs, "exitCode")) != 128 + SIGKILL || !rt->cgroup.container_oom_kills ||
	    rt->cgroup.container_oom_kills(rt->cgroup.userdata, uid, name, &kills) < 0 || kills == 0)
		return;
	json_object_object_add(cs, "reason", json_object_new_string("OOMKilled"));
}

bool rt_refresh_containers(struct pod_runtime *rt, const char *uid, json_object *state)
{
	json_object *all = json_get_path(state, "containers");
	bool changed = false;

	if (!all)
		return false;
	json_object_object_foreach(all, name, cs) {
		if (rstate_container_refresh(cs)) {
			rt_logger_drop(rt, uid, name, true);
			rt_note_oom_kill(rt, uid, name, cs);
			changed = true;
		}
	}
	return changed;
}
