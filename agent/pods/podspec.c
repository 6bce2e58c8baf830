/* A core/v1 Pod's container, translated for container_spawn (see podspec.h). */
#include "pods/podspec.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "pods/mounts.h"

/* Sets *ret_err to the message and returns -EINVAL (-ENOMEM when the message cannot be made). */
static int __attribute__((format(printf, 2, 3))) spec_error(char **ret_err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret_err, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*ret_err = NULL;
		return -ENOMEM;
	}
	return -EINVAL;
}

struct strv {
	char **v;
	size_t n;
};

static int strv_push(struct strv *s, const char *x)
{
	char **v = realloc(s->v, (s->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->v = v;
	v[s->n] = strdup(x);
	if (!v[s->n])
		return -ENOMEM;
	v[++s->n] = NULL;
	return 0;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static bool json_array_nonempty(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) && json_object_array_length(a) > 0;
}

static const char *env_lookup(const struct strv *env, const char *name, size_t len)
{
	for (size_t i = 0; env && i < env->n; i++)
		if (strncmp(env->v[i], name, len) == 0 && env->v[i][len] == '=')
			return env->v[i] + len + 1;
	return NULL;
}

/* Kubernetes' $(VAR) references: replaced by the variable when it is defined so far, left
 * as written when not; "$$" is a literal "$". New string. */
static char *expand_refs(const char *in, const struct strv *env)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	for (const char *p = in; *p; p++) {
		const char *end = p[0] == '$' && p[1] == '(' ? strchr(p + 2, ')') : NULL;
		const char *v = end ? env_lookup(env, p + 2, (size_t)(end - p - 2)) : NULL;

		if (p[0] == '$' && p[1] == '$') {
			fputc('$', f);
			p++;
		} else if (v) {
			fputs(v, f);
			p = end;
		} else {
			fputc(*p, f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int strv_push_expanded(struct strv *s, const char *x, const struct strv *env)
{
	_cleanup_free_ char *e = expand_refs(x, env);

	return e ? strv_push(s, e) : -ENOMEM;
}

/* Appends a JSON array of strings; with env, $(VAR) references in them are expanded. */
static int strv_push_json(struct strv *s, json_object *arr, const struct strv *env)
{
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		const char *x = json_object_get_string(json_object_array_get_idx(arr, i));

		if (!x)
			x = "";
		if ((r = env ? strv_push_expanded(s, x, env) : strv_push(s, x)) < 0)
			return r;
	}
	return 0;
}

/* Kubernetes: command replaces the entrypoint (and drops the image's cmd); args replace cmd. */
static int build_argv(json_object *c, json_object *img, const struct strv *env, struct strv *argv)
{
	json_object *command = json_get_path(c, "command"), *args = json_get_path(c, "args");
	bool has_cmd = json_array_nonempty(command), has_args = json_array_nonempty(args);
	int r;

	r = strv_push_json(argv, has_cmd ? command : json_get_path(img, "entrypoint"), has_cmd ? env : NULL);
	if (r >= 0 && (has_args || !has_cmd))
		r = strv_push_json(argv, has_args ? args : json_get_path(img, "cmd"), has_args ? env : NULL);
	if (r >= 0 && argv->n == 0)
		r = -EINVAL;
	return r;
}

/* Sets name=value, replacing an earlier value of that name (the image's, or a repeat). */
static int env_set(struct strv *env, const char *name, const char *value)
{
	_cleanup_free_ char *kv = NULL;
	size_t len = strlen(name);

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], name, len) == 0 && env->v[i][len] == '=') {
			free(env->v[i]);
			env->v[i] = TAKE_PTR(kv);
			return 0;
		}
	}
	return strv_push(env, kv);
}

static const char *field_ref(json_object *pod, const char *path, const struct podspec_context *ctx)
{
	if (strcmp(path, "status.podIP") == 0)
		return ctx->pod_ip ? ctx->pod_ip : "";
	if (strcmp(path, "spec.nodeName") == 0)
		return json_get_string(pod, "spec.nodeName") ?: (ctx->node_name ? ctx->node_name : "");
	if (strcmp(path, "metadata.name") == 0 || strcmp(path, "metadata.namespace") == 0 ||
	    strcmp(path, "metadata.uid") == 0 || strcmp(path, "spec.serviceAccountName") == 0)
		return json_get_string(pod, path) ?: "";
	return NULL;
}

static int build_env(json_object *pod, json_object *c, json_object *img, const struct podspec_context *ctx,
		     struct strv *env, char **ret_err)
{
	json_object *list = json_get_path(c, "env"), *ienv = json_get_path(img, "env");
	size_t n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	int r;

	r = env_set(env, "PATH", PODSPEC_DEFAULT_PATH);
	for (size_t i = 0; r >= 0 && ienv && i < json_object_array_length(ienv); i++) {
		const char *kv = json_object_get_string(json_object_array_get_idx(ienv, i));
		const char *eq = kv ? strchr(kv, '=') : NULL;
		_cleanup_free_ char *k = eq ? strndup(kv, (size_t)(eq - kv)) : NULL;

		if (k)
			r = env_set(env, k, eq + 1);
	}
	if (r >= 0)
		r = env_set(env, "HOSTNAME", json_get_string(pod, "metadata.name") ?: "");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_object *e = json_object_array_get_idx(list, i);
		const char *name = json_get_string(e, "name"), *value = json_get_string(e, "value");
		const char *path = json_get_string(e, "valueFrom.fieldRef.fieldPath");

		if (!name)
			continue;
		if (path) {
			value = field_ref(pod, path, ctx);
			if (!value)
				return spec_error(ret_err, "env %s: fieldRef %s is not supported", name, path);
		} else if (json_get_path(e, "valueFrom")) {
			return spec_error(ret_err, "env %s: only value and valueFrom.fieldRef are supported", name);
		}
		if (value) {
			_cleanup_free_ char *x = expand_refs(value, env);

			r = x ? env_set(env, name, x) : -ENOMEM;
		} else {
			r = env_set(env, name, "");
		}
	}
	return r;
}

bool podspec_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 63 || name[0] == '-' || name[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return false;
	return true;
}

static json_object *find_volume(json_object *pod, const char *name)
{
	json_object *vols = json_get_path(pod, "spec.volumes");
	size_t n = vols && json_object_is_type(vols, json_type_array) ? json_object_array_length(vols) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(vols, i);
		const char *vn = json_get_string(v, "name");

		if (vn && strcmp(vn, name) == 0)
			return v;
	}
	return NULL;
}

static int add_mount(struct podspec_container *ret, char *source, const char *target, bool ro)
{
	struct container_mount *m = realloc(ret->mounts, (ret->n_mounts + 1) * sizeof(*m));

	if (!m) {
		free(source);
		return -ENOMEM;
	}
	ret->mounts = m;
	m[ret->n_mounts++] = (struct container_mount){ .source = source, .target = strdup(target), .readonly = ro };
	return m[ret->n_mounts - 1].target ? 0 : -ENOMEM;
}

static int build_mounts(json_object *pod, json_object *c, const struct podspec_context *ctx,
			struct podspec_container *ret, char **ret_err)
{
	static const char *const etc_files[] = { "hosts", "hostname", "resolv.conf" };
	json_object *vms = json_get_path(c, "volumeMounts");
	size_t n = vms && json_object_is_type(vms, json_type_array) ? json_object_array_length(vms) : 0;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(etc_files); i++) {
		char *src, target[64];

		if (asprintf(&src, "%s/etc/%s", ctx->pod_dir, etc_files[i]) < 0)
			return -ENOMEM;
		snprintf(target, sizeof(target), "/etc/%s", etc_files[i]);
		if ((r = add_mount(ret, src, target, false)) < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(vms, i), *vol;
		const char *name = json_get_string(vm, "name"), *path = json_get_string(vm, "mountPath");
		const char *sub = json_get_string(vm, "subPath"), *host;
		json_object *ro = json_get_path(vm, "readOnly");
		char *src = NULL;

		vol = podspec_name_ok(name) ? find_volume(pod, name) : NULL;
		if (!vol || !path || path[0] != '/' || strstr(path, "..") || (sub && strstr(sub, "..")))
			return spec_error(ret_err, "volumeMount %s: %s", name ? name : "(unnamed)",
					  vol ? "mountPath must be absolute, without \"..\""
					      : "no such volume in spec.volumes");
		host = json_get_string(vol, "hostPath.path");
		if (json_get_path(vol, "emptyDir"))
			r = asprintf(&src, "%s/volumes/%s%s%s", ctx->pod_dir, name, sub ? "/" : "", sub ? sub : "");
		else if (host)
			r = asprintf(&src, "%s%s%s", host, sub ? "/" : "", sub ? sub : "");
		else
			return spec_error(ret_err, "volume %s: only emptyDir and hostPath are supported", name);
		if (r < 0)
			return -ENOMEM;
		if ((r = add_mount(ret, src, path, ro && json_object_get_boolean(ro))) < 0)
			return r;
	}
	return 0;
}

/* Docker's default set, then securityContext.capabilities: drop first, then add ("ALL"
 * names every capability in either list). */
static int build_caps(json_object *c, unsigned long long *ret, char **ret_err)
{
	static const char *const lists[] = { "securityContext.capabilities.drop", "securityContext.capabilities.add" };
	unsigned long long caps = container_default_caps();

	for (int l = 0; l < 2; l++) {
		json_object *a = json_get_path(c, lists[l]);
		size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;

		for (size_t i = 0; i < n; i++) {
			const char *name = json_object_get_string(json_object_array_get_idx(a, i));
			unsigned long long bits;
			int cap;

			if (name && strcasecmp(name, "ALL") == 0) {
				bits = (1ULL << (CAP_LAST_CAP + 1)) - 1;
			} else {
				cap = name ? container_cap_from_name(name) : -EINVAL;
				if (cap < 0)
					return spec_error(ret_err, "capability %s is not known", name ? name : "(null)");
				bits = 1ULL << cap;
			}
			caps = l == 0 ? caps & ~bits : caps | bits;
		}
	}
	*ret = caps;
	return 0;
}

/* The container's securityContext wins over the pod's, field by field. */
static json_object *security_field(json_object *pod, json_object *c, const char *field)
{
	char path[64];
	json_object *v;

	snprintf(path, sizeof(path), "securityContext.%s", field);
	v = json_get_path(c, path);
	if (v)
		return v;
	snprintf(path, sizeof(path), "spec.securityContext.%s", field);
	return json_get_path(pod, path);
}

/* runAsNonRoot (images here carry no USER: they run as root unless runAsUser says otherwise)
 * and seccompProfile, in the words kubelet uses for the same refusals. */
static int check_security(json_object *pod, json_object *c, struct podspec_container *out, char **ret_err)
{
	json_object *non_root = security_field(pod, c, "runAsNonRoot");
	const char *profile = json_get_string(security_field(pod, c, "seccompProfile"), "type");
	const char *ns = json_get_string(pod, "metadata.namespace") ?: "default";
	const char *pod_name = json_get_string(pod, "metadata.name") ?: "";
	const char *name = json_get_string(c, "name") ?: "";

	if (non_root && json_object_get_boolean(non_root) && out->set_uid && out->uid == 0)
		return spec_error(ret_err, "container's runAsUser breaks non-root policy (pod: \"%s/%s\", container: %s)", ns,
				  pod_name, name);
	if (non_root && json_object_get_boolean(non_root) && !out->set_uid)
		return spec_error(ret_err, "container has runAsNonRoot and image will run as root (pod: \"%s/%s\", container: %s)",
				  ns, pod_name, name);
	/* Unset means no_new_privs here: the default container is the hardened one. */
	out->allow_privilege_escalation = json_object_get_boolean(security_field(pod, c, "allowPrivilegeEscalation"));
	if (profile && strcmp(profile, "Unconfined") == 0)
		out->seccomp_unconfined = true;
	else if (profile && strcmp(profile, "RuntimeDefault") != 0)
		return spec_error(ret_err, "container %s: seccompProfile type %s is not supported (RuntimeDefault or Unconfined)",
				  name, profile);
	return 0;
}

int podspec_container_build(json_object *pod, json_object *c, json_object *img, const struct podspec_context *ctx,
			    struct podspec_container *ret, char **ret_err)
{
	struct podspec_container out = { 0 };
	struct strv argv = { 0 }, env = { 0 };
	json_object *uid = security_field(pod, c, "runAsUser"), *gid = security_field(pod, c, "runAsGroup");
	const char *wd = json_get_string(c, "workingDir");
	int r;

	if (!podspec_name_ok(json_get_string(c, "name")))
		return spec_error(ret_err, "container name \"%s\" is not a DNS label", json_get_string(c, "name") ?: "");
	r = build_env(pod, c, img, ctx, &env, ret_err);
	if (r >= 0)
		r = build_argv(c, img, &env, &argv);
	if (r == -EINVAL && !*ret_err)
		r = spec_error(ret_err, "container %s: no command given and the image has no entrypoint or cmd",
			       json_get_string(c, "name") ?: "");
	out.argv = argv.v;
	out.envp = env.v;
	if (r >= 0)
		r = build_mounts(pod, c, ctx, &out, ret_err);
	if (r >= 0)
		r = build_caps(c, &out.caps, ret_err);
	if (r < 0)
		goto fail;
	for (char **e = out.envp; e && *e && !out.path_env; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			out.path_env = strdup(*e + 5);
	if (!wd || !*wd)
		wd = json_get_string(img, "workingDir");
	out.cwd = strdup(wd && *wd ? wd : "/");
	if (!out.cwd || !out.path_env) {
		r = -ENOMEM;
		goto fail;
	}
	out.set_uid = uid != NULL;
	out.uid = uid ? (uid_t)json_object_get_int64(uid) : 0;
	/* A runAsUser without a group still sheds root's supplementary groups. */
	out.set_gid = gid != NULL || uid != NULL;
	out.gid = gid ? (gid_t)json_object_get_int64(gid) : 0;
	out.privileged = json_object_get_boolean(json_get_path(c, "securityContext.privileged"));
	out.readonly_rootfs = json_object_get_boolean(json_get_path(c, "securityContext.readOnlyRootFilesystem"));
	r = check_security(pod, c, &out, ret_err);
	if (r < 0)
		goto fail;
	*ret = out;
	return 0;
fail:
	podspec_container_done(&out);
	return r;
}

void podspec_container_done(struct podspec_container *c)
{
	strv_free(c->argv);
	strv_free(c->envp);
	free(c->path_env);
	free(c->cwd);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free((char *)c->mounts[i].source);
		free((char *)c->mounts[i].target);
	}
	free(c->mounts);
	*c = (struct podspec_container){ 0 };
}

int podspec_volumes_prepare(json_object *pod, const struct podspec_context *ctx)
{
	json_object *vols = json_get_path(pod, "spec.volumes");
	size_t n = vols && json_object_is_type(vols, json_type_array) ? json_object_array_length(vols) : 0;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_object *v = json_object_array_get_idx(vols, i);
		const char *name = json_get_string(v, "name"), *type = json_get_string(v, "hostPath.type");
		_cleanup_free_ char *dir = NULL;

		if (podspec_name_ok(name) && json_get_path(v, "emptyDir")) {
			if (asprintf(&dir, "%s/volumes/%s", ctx->pod_dir, name) < 0)
				return -ENOMEM;
			r = fs_mkdir_p(dir, 0777);
			/* World-writable as Kubernetes makes it, whatever the agent's umask. */
			if (r >= 0 && chmod(dir, 0777) < 0)
				r = -errno;
		} else if (type && strcmp(type, "DirectoryOrCreate") == 0) {
			r = fs_mkdir_p(json_get_string(v, "hostPath.path"), 0755);
		}
	}
	return r;
}
