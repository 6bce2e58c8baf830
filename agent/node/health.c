/* Runtime readiness probes: the cgroup parent and its missing controllers, the pause binary. */
#include "node/health.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "pods/cgroup.h"

int node_join_names(const char *const *names, char **ret)
{
	size_t len = 0;
	char *out;

	*ret = NULL;
	for (size_t i = 0; names && names[i]; i++)
		len += strlen(names[i]) + 2;
	if (len == 0)
		return 0;
	out = calloc(1, len + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; names[i]; i++) {
		if (i)
			strcat(out, ", ");
		strcat(out, names[i]);
	}
	*ret = out;
	return 0;
}

static int cgroup_check(const char *mount, const char *parent, struct node_health *h, char **ret_why)
{
	struct cgroup_options o;
	struct cgroup_manager *m;
	int r;

	cgroup_options_init(&o);
	o.parent = parent;
	o.mount = mount;
	m = cgroup_manager_new(&o);
	if (!m) {
		r = -errno;
		if (r == -ENOMEM)
			return r;
		h->missing = strdup("cpu, memory, pids");
		if (r == -ENOENT && !mount)
			return asprintf(ret_why, "no cgroup2 mount in /proc/self/mountinfo") < 0 ? -ENOMEM : 0;
		return asprintf(ret_why, "cannot create cgroup parent %s: %s", parent, strerror(-r)) < 0 ? -ENOMEM : 0;
	}
	h->cgroup_path = strdup(cgroup_manager_root(m));
	r = node_join_names(cgroup_missing_controllers(m), &h->missing);
	cgroup_manager_free(m);
	return h->cgroup_path ? r : -ENOMEM;
}

int node_health_check(const char *cgroup_mount, const char *cgroup_parent, const char *pause_path,
		      struct node_health *ret)
{
	struct node_health h = { 0 };
	char *why = NULL;
	int r;

	r = cgroup_check(cgroup_mount, cgroup_parent, &h, &why);
	if (r >= 0 && !why && (!pause_path || access(pause_path, X_OK) < 0) &&
	    asprintf(&why, "pause binary %s is missing or not executable (build it: make)",
		     pause_path ? pause_path : "(none)") < 0) {
		why = NULL;
		r = -ENOMEM;
	}
	if (r < 0) {
		free(why);
		node_health_done(&h);
		return r;
	}
	h.runtime_ok = !why;
	h.not_ready = why;
	*ret = h;
	return 0;
}

void node_health_done(struct node_health *h)
{
	free(h->not_ready);
	free(h->missing);
	free(h->cgroup_path);
	*h = (struct node_health){ 0 };
}

int node_default_pause_path(char **ret)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -errno;
	exe[n] = '\0';
	return asprintf(ret, "%s/skiff-pause", dirname(exe)) < 0 ? -ENOMEM : 0;
}
