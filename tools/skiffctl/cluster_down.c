/* skiffctl cluster down: stops the daemons, kills the pods' cgroups and removes everything up
 * made, from state.json where there is one and from the naming conventions where not, so it
 * also cleans after a crash or a half-finished up, and a second run finds nothing to do. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "cluster.h"
#include "pods/cgroup.h"
#include "pods/mounts.h"

#define AGENT_STOP_MS 10000
#define CONTROL_STOP_MS 15000
#define CGROUP_EMPTY_MS 10000

/* role of a /run/netns entry of this cluster: "fabric", "control" or "node-<n>"; NULL if none. */
static const char *netns_role(const struct cluster *c, const char *entry)
{
	size_t n = strlen(c->name);
	const char *role = entry + n + 1;
	unsigned i;
	char tail;

	if (strncmp(entry, c->name, n) != 0 || entry[n] != '-')
		return NULL;
	if (strcmp(role, "fabric") == 0 || strcmp(role, "control") == 0)
		return role;
	return sscanf(role, "node-%u%c", &i, &tail) == 1 ? role : NULL;
}

/* Calls fn for each of the cluster's namespaces in /run/netns whose role starts with only (NULL:
 * all), nodes first: they hold the agents, which must stop before the control. */
static int each_netns(const struct cluster *c, const char *only, int (*fn)(const char *name, void *arg), void *arg)
{
	static const char *const order[] = { "node-", "control", "fabric" };
	int found = 0;

	for (size_t o = 0; o < ELEMENTSOF(order); o++) {
		if (only && strcmp(only, order[o]) != 0)
			continue;
		DIR *d = opendir("/run/netns");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			const char *role = netns_role(c, de->d_name);

			if (!role || strncmp(role, order[o], strlen(order[o])) != 0)
				continue;
			found++;
			fn(de->d_name, arg);
		}
		if (d)
			closedir(d);
	}
	return found;
}

static int kill_in_netns(const char *name, void *arg)
{
	int n = proc_kill_netns(name);

	(void)arg;
	if (n > 0)
		log_info("netns %s: killed %d leftover process(es)", name, n);
	return 0;
}

/* arg: an int set to 1 when a removal fails. */
static int remove_netns(const char *name, void *arg)
{
	int r = netns_remove(name);

	if (r < 0) {
		log_warn_errno(r, "netns %s: remove: %m", name);
		*(int *)arg = 1;
	}
	return r;
}

static void stop_agents(struct cluster *c)
{
	for (unsigned i = 1; i <= c->nodes; i++) {
		int r = proc_stop(&c->agents[i - 1], AGENT_STOP_MS);

		if (r < 0)
			log_warn_errno(r, "cluster %s: stop the agent of node %u: %m", c->name, i);
	}
}

static int cgroup_populated(const char *dir)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	char key[32];
	int v;

	if (asprintf(&path, "%s/cgroup.events", dir) < 0)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fscanf(f, "%31s %d", key, &v) == 2)
		if (strcmp(key, "populated") == 0)
			return v;
	return 0;
}

static int rmdir_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP && rmdir(path) < 0 && errno != ENOENT)
		log_warn_errno(-errno, "rmdir %s: %m", path);
	return 0;
}

/* cgroup.kill takes the whole subtree: every pod of every node at once. <mount>/skiff goes too
 * when a cluster up made it and nothing else is left in it (an rmdir refuses otherwise). */
static int remove_cgroups(struct cluster *c)
{
	_cleanup_free_ char *dir = cluster_cgroup_dir(c), *kill_path = NULL, *root = NULL;
	_cleanup_close_ int fd = -1;
	int populated = 0;

	if (!dir || access(dir, F_OK) < 0)
		return 0;
	if (asprintf(&kill_path, "%s/cgroup.kill", dir) < 0)
		return -ENOMEM;
	fd = open(kill_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		log_warn_errno(-errno, "cgroup %s: cgroup.kill: %m", dir);
	for (int waited = 0; (populated = cgroup_populated(dir)) > 0 && waited < CGROUP_EMPTY_MS; waited += 50)
		usleep(50000);
	if (populated > 0)
		log_warn("cgroup %s: still populated %d ms after cgroup.kill", dir, CGROUP_EMPTY_MS);
	nftw(dir, rmdir_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (access(CLUSTER_CGROUP_ROOT_MARK, F_OK) == 0 &&
	    asprintf(&root, "%s/" CGROUP_DEFAULT_PARENT, c->cgroup_mount) >= 0) {
		if (rmdir(root) == 0 || errno == ENOENT)
			unlink(CLUSTER_CGROUP_ROOT_MARK);
		else if (errno != ENOTEMPTY && errno != EBUSY)
			log_warn_errno(-errno, "rmdir %s: %m", root);
	}
	return access(dir, F_OK) == 0 ? -ENOTEMPTY : 0;
}

/* Overlays and bind mounts the agents left below the state dir, deepest first, lazily. */
static int unmount_below(const char *dir)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, dlen = strlen(dir);
	char **mounts = NULL;
	size_t n = 0;
	int r = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096];
		char **grown;

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strncmp(mnt, dir, dlen) != 0 ||
		    (mnt[dlen] != '/' && mnt[dlen] != '\0'))
			continue;
		grown = realloc(mounts, (n + 1) * sizeof(*mounts));
		if (!grown || !(grown[n] = strdup(mnt))) {
			mounts = grown ? grown : mounts;
			r = -ENOMEM;
			break;
		}
		mounts = grown;
		n++;
	}
	/* Later lines are mounted later, so on top of or below the earlier ones: undo in reverse. */
	while (n > 0) {
		n--;
		if (umount2(mounts[n], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			log_warn_errno(-errno, "umount %s: %m", mounts[n]);
		free(mounts[n]);
	}
	free(mounts);
	return r;
}

/* fs_rm_rf never descends into a mount: whatever is still mounted below is reported, not lost. */
static int rm_rf(const char *path)
{
	int r = fs_rm_rf(path);

	if (r < 0)
		log_warn_errno(r, "remove %s: %m", path);
	return r;
}

/* Pins in a bpffs of the cluster's own went with its unmount; those below /sys/fs/bpf stay
 * until unlinked. */
static int remove_pins(const struct cluster *c)
{
	_cleanup_free_ char *dir = NULL;
	int r;

	if (asprintf(&dir, CLUSTER_BPF_ROOT "/%s", c->name) < 0)
		return -ENOMEM;
	r = rm_rf(dir);
	/* The agents made the shared parent; it goes when no other cluster or agent uses it. */
	rmdir(CLUSTER_BPF_ROOT);
	return r;
}

static int remove_host_link(const struct cluster *c)
{
	struct nl nl = { 0 };
	char name[16];
	int r = nl_open(&nl, -1);

	if (r < 0)
		return r;
	cluster_host_veth(c, name);
	r = nl_link_del_name(&nl, name);
	nl_close(&nl);
	return r;
}

int cluster_down(struct cluster *c)
{
	int r = cluster_state_load(c), failed = 0, found;
	bool had_state = r == 0;

	if (r < 0 && r != -ENOENT)
		log_warn_errno(r, "cluster %s: state %s/state.json unreadable (%m): going by names", c->name, c->state_dir);
	stop_agents(c);
	each_netns(c, "node-", kill_in_netns, NULL);
	failed |= remove_cgroups(c) < 0;
	if (proc_stop(&c->control, CONTROL_STOP_MS) < 0)
		failed = 1;
	each_netns(c, NULL, kill_in_netns, NULL);
	failed |= unmount_below(c->state_dir) < 0;
	failed |= remove_host_link(c) < 0;
	failed |= remove_pins(c) < 0;
	found = each_netns(c, NULL, remove_netns, &failed);
	if (!found && !had_state && access(c->state_dir, F_OK) < 0 && !failed) {
		log_info("cluster %s: nothing to remove", c->name);
		return 0;
	}
	failed |= rm_rf(c->state_dir) < 0;
	if (failed)
		return log_error_errno(-EBUSY, "cluster %s: some parts could not be removed (see above); run down again",
				       c->name);
	log_info("cluster %s: removed", c->name);
	return 0;
}
