/* Whether this node can run pods: the cgroup parent (agent/pods/cgroup.h makes it), the
 * controllers the cgroup2 mount offers, the pause binary. Feeds the Ready and
 * CgroupControllersMissing conditions. */
#ifndef SKIFF_AGENT_NODE_HEALTH_H
#define SKIFF_AGENT_NODE_HEALTH_H

#include <stdbool.h>

struct node_health {
	bool runtime_ok;   /* cgroup parent made and pause binary present */
	char *not_ready;   /* why not, when !runtime_ok */
	char *missing;     /* "cpu, memory, pids" style list, NULL when none are missing */
	char *cgroup_path; /* the cgroup parent's absolute path, when it was made */
};

/* Checks the host and fills ret; 0 or -ENOMEM. cgroup_mount NULL: found from mountinfo. */
int node_health_check(const char *cgroup_mount, const char *cgroup_parent, const char *pause_path,
		      struct node_health *ret);
void node_health_done(struct node_health *h);
/* Joins a NULL-terminated list of names as "a, b"; NULL (and 0) for an empty list. */
int node_join_names(const char *const *names, char **ret);
/* Where skiff-pause is when not configured: beside our own executable. */
int node_default_pause_path(char **ret);

#endif
