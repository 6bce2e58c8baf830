/* One container process: joins the sandbox's net/ipc/uts (and pid when shared) namespaces,
 * gets its own mount namespace over an overlayfs of its image, then execs the workload with
 * the default capability set, no_new_privs, the default seccomp filter, its uid/gid, and
 * stdout/stderr into log FIFOs. */
#ifndef SKIFF_AGENT_PODS_CONTAINER_H
#define SKIFF_AGENT_PODS_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pods/sandbox.h"

/* A bind mount into the container: a directory or a single file (/etc/hosts). */
struct container_mount {
	const char *source; /* host path */
	const char *target; /* absolute path inside the container */
	bool readonly;
};

struct container_spec {
	const char *name;
	const char *lower, *upper, *work; /* overlayfs layers: image rootfs (read-only), per-container dirs */
	const char *rootfs;               /* where the overlay is mounted (inside the new mount ns only) */
	const char *const *argv;          /* argv[0] is looked up in path_env when it has no '/' */
	const char *const *envp;
	const char *path_env;             /* PATH for that lookup */
	const char *cwd;                  /* made when missing, as Kubernetes does */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
	bool privileged;             /* all capabilities, rw /sys, no no_new_privs */
	unsigned long long caps;     /* bounding/effective/permitted set when not privileged */
	bool readonly_rootfs;
	bool seccomp_unconfined;     /* securityContext.seccompProfile Unconfined: no default filter */
	bool allow_privilege_escalation; /* no no_new_privs (setuid binaries work) */
	int netns, ipcns, utsns; /* the sandbox's, opened O_CLOEXEC */
	int pidns;               /* the sandbox's to share it; < 0: a new one (the container is PID 1) */
	const struct container_mount *mounts;
	size_t n_mounts;
	const char *stdout_fifo, *stderr_fifo;
	/* Called with the new pid before the child does anything (cgroup placement); a failure
	 * kills the child. NULL: none. */
	int (*attach)(void *userdata, pid_t pid);
	/* Called before the fork instead (when set, attach is not called): makes and prepares the
	 * container's cgroup and returns an O_DIRECTORY fd of it (or -errno), which the child is
	 * cloned straight into (sandbox_clone_pidns). The fd is closed here. */
	int (*cgroup_open)(void *userdata);
	void *userdata;
};

/* Starts the container; returns once it has exec'd (0, *ret set) or failed (-errno, and
 * failed_step, when not NULL, names the step that failed: "mount overlay", "pivot_root", ...). */
int container_spawn(const struct container_spec *spec, struct proc_id *ret, const char **failed_step);

/* The capabilities every unprivileged container keeps (Docker's default 14), as a bitmask. */
unsigned long long container_default_caps(void);
/* In a container's child before exec: the bounding set cut to keep and keep made the effective
 * and permitted sets (nothing when privileged). Async-signal-safe; -1 with errno. */
int container_drop_caps(bool privileged, unsigned long long keep);
/* A capability's number from its name ("NET_ADMIN" or "CAP_NET_ADMIN", any case); -EINVAL. */
int container_cap_from_name(const char *name);

#endif
