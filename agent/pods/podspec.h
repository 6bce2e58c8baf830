/* From a core/v1 Pod and its image config to what one container process is started with:
 * argv (command/args over entrypoint/cmd), env (values and fieldRefs), working dir, ids,
 * privileged, and bind mounts (volumes + /etc/hosts, hostname, resolv.conf). No kernel calls. */
#ifndef SKIFF_AGENT_PODS_PODSPEC_H
#define SKIFF_AGENT_PODS_PODSPEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "pods/container.h"

#define PODSPEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct podspec_context {
	const char *pod_dir;   /* <root>/pods/<uid>: volumes/<name> for emptyDirs, etc/ for the files */
	const char *pod_ip;    /* status.podIP ("" when none) */
	const char *node_name; /* spec.nodeName when the pod has none */
};

struct podspec_container {
	char **argv, **envp; /* NULL-terminated */
	char *path_env, *cwd;
	bool set_uid, set_gid, privileged, readonly_rootfs, seccomp_unconfined;
	bool allow_privilege_escalation; /* securityContext.allowPrivilegeEscalation: true said outright */
	unsigned long long caps; /* the default set with securityContext.capabilities drop/add */
	uid_t uid;
	gid_t gid;
	struct container_mount *mounts;
	size_t n_mounts;
};

/* Is name a DNS label (1-63 of [a-z0-9-], alphanumeric at both ends), as Kubernetes requires
 * of container and volume names? They become path components here. */
bool podspec_name_ok(const char *name);

/* Fills ret. -EINVAL with *ret_err (NULL on entry; caller frees) saying what is wrong with the spec
 * (no command at all, a volumeMount naming no volume, an unsupported fieldRef, ...). */
int podspec_container_build(json_object *pod, json_object *container, json_object *image_config,
			    const struct podspec_context *ctx, struct podspec_container *ret, char **ret_err);
void podspec_container_done(struct podspec_container *c);

/* Makes the pod's emptyDir dirs (and DirectoryOrCreate hostPaths) under ctx->pod_dir. */
int podspec_volumes_prepare(json_object *pod, const struct podspec_context *ctx);

#endif
