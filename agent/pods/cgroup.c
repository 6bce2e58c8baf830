/* The pod cgroup hierarchy on cgroup v2: finds the mount, enables the controllers the kernel
 * offers from the mount down, writes only the limits whose controller exists, kills and removes. */
#include "pods/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pods/runtime.h"
#include "skiff/cleanup.h"
#include "skiff/json.h"

enum { CTRL_CPU, CTRL_MEMORY, CTRL_PIDS, CTRL_COUNT };
#define CGROUP_RERUN_WAIT_MS 500
static const char *const ctrl_names[CTRL_COUNT] = { "cpu", "memory", "pids" };

struct cgroup_manager {
	char *root; /* <mount>/<parent> */
	int64_t pod_pids_max;
	bool have[CTRL_COUNT];
	const char *missing[CTRL_COUNT + 1];
	cgroup_container_prepare_fn prepare;
	void *prepare_userdata;
};

void cgroup_options_init(struct cgroup_options *opts)
{
	*opts = (struct cgroup_options){
		.parent = CGROUP_DEFAULT_PARENT,
		.pod_pids_max = CGROUP_DEFAULT_POD_PIDS_MAX,
		.mount = NULL,
	};
}

static int file_write(const char *dir, const char *name, const char *content)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(content);

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, content, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

/* Reads a small cgroup file into buf (NUL-terminated). */
static int file_read(const char *dir, const char *name, char *buf, size_t size)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Is word one of the space-separated words of list? */
static bool word_in(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len) {
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return true;
	}
	return false;
}

/* mountinfo escapes spaces and the like as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int cgroup_find_mount(char **ret_path)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096], fstype[64];
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root mountpoint ... - fstype source options */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
			continue;
		unescape_octal(mnt);
		*ret_path = strdup(mnt);
		return *ret_path ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

/* Enables in dir's subtree_control each wanted controller dir offers; records what it offers. */
static int controllers_enable(const char *dir, bool have[CTRL_COUNT])
{
	char offered[512], enabled[512], cmd[64] = "";
	int r;

	r = file_read(dir, "cgroup.controllers", offered, sizeof(offered));
	if (r < 0)
		return r;
	r = file_read(dir, "cgroup.subtree_control", enabled, sizeof(enabled));
	if (r < 0)
		return r;
	for (int i = 0; i < CTRL_COUNT; i++) {
		have[i] = word_in(offered, ctrl_names[i]);
		if (have[i] && !word_in(enabled, ctrl_names[i])) {
			strcat(cmd, cmd[0] ? " +" : "+");
			strcat(cmd, ctrl_names[i]);
		}
	}
	return cmd[0] ? file_write(dir, "cgroup.subtree_control", cmd) : 0;
}

static int mkdir_ok(const char *path)
{
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* Makes every directory from mount down to mount/parent, enabling controllers on the way. */
static int hierarchy_prepare(const char *mount, const char *parent, bool have[CTRL_COUNT])
{
	_cleanup_free_ char *path = strdup(mount);
	_cleanup_free_ char *rest = strdup(parent ? parent : CGROUP_DEFAULT_PARENT);
	char *save = NULL;
	int r;

	if (!path || !rest)
		return -ENOMEM;
	r = controllers_enable(path, have);
	for (char *tok = strtok_r(rest, "/", &save); r >= 0 && tok; tok = strtok_r(NULL, "/", &save)) {
		char *next;

		if (strcmp(tok, ".") == 0 || strcmp(tok, "..") == 0)
			return -EINVAL;
		if (asprintf(&next, "%s/%s", path, tok) < 0)
			return -ENOMEM;
		free(path);
		path = next;
		r = mkdir_ok(path);
		if (r >= 0)
			r = controllers_enable(path, have);
	}
	return r;
}

struct cgroup_manager *cgroup_manager_new(const struct cgroup_options *opts)
{
	struct cgroup_manager *m = calloc(1, sizeof(*m));
	_cleanup_free_ char *mount = NULL;
	size_t n = 0;
	int r;

	if (!m)
		return NULL;
	r = opts->mount ? ((mount = strdup(opts->mount)) ? 0 : -ENOMEM) : cgroup_find_mount(&mount);
	if (r >= 0)
		r = hierarchy_prepare(mount, opts->parent, m->have);
	if (r >= 0 && asprintf(&m->root, "%s/%s", mount, opts->parent ? opts->parent : CGROUP_DEFAULT_PARENT) < 0) {
		m->root = NULL;
		r = -ENOMEM;
	}
	if (r < 0) {
		cgroup_manager_free(m);
		errno = -r;
		return NULL;
	}
	m->pod_pids_max = opts->pod_pids_max;
	for (int i = 0; i < CTRL_COUNT; i++)
		if (!m->have[i])
			m->missing[n++] = ctrl_names[i];
	m->missing[n] = NULL;
	return m;
}

void cgroup_manager_free(struct cgroup_manager *m)
{
	if (!m)
		return;
	free(m->root);
	free(m);
}

const char *cgroup_manager_root(const struct cgroup_manager *m)
{
	return m->root;
}

const char *const *cgroup_missing_controllers(const struct cgroup_manager *m)
{
	return m->missing;
}

static bool name_ok(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int cgroup_path(const struct cgroup_manager *m, const char *pod_uid, const char *container, char **ret)
{
	int n;

	if (!name_ok(pod_uid) || (container && !name_ok(container)))
		return -EINVAL;
	n = container ? asprintf(ret, "%s/pod-%s/%s", m->root, pod_uid, container)
		      : asprintf(ret, "%s/pod-%s", m->root, pod_uid);
	return n < 0 ? -ENOMEM : 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for "populated 0" in cgroup.events, woken by the kernel's notification on that file. */
static int wait_unpopulated(const char *dir, int64_t deadline)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&path, "%s/cgroup.events", dir) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		char buf[256];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		int64_t left;

		if (n < 0)
			return -errno;
		buf[n] = '\0';
		if (strstr(buf, "populated 0"))
			return 0;
		left = deadline - now_ms();
		if (left <= 0)
			return -EBUSY;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

/* Writes each limit whose controller exists; a missing controller's file is never touched. */
static int limits_write(const struct cgroup_manager *m, const char *dir, const struct cgroup_limits *l)
{
	char buf[64];
	int r = 0;

	if (m->have[CTRL_CPU]) {
		cgroup_cpu_max_format(l->cpu_limit_milli, buf, sizeof(buf));
		r = file_write(dir, "cpu.max", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cgroup_cpu_weight(l->cpu_request_milli));
		if (r >= 0)
			r = file_write(dir, "cpu.weight", buf);
	}
	if (r >= 0 && m->have[CTRL_MEMORY]) {
		cgroup_max_format(l->memory_limit_bytes, buf, sizeof(buf));
		r = file_write(dir, "memory.max", buf);
		/* Kubernetes' default NoSwap: a limit is not stretched by swap. The file exists only
		 * where the kernel accounts swap. */
		if (r >= 0 && file_write(dir, "memory.swap.max", "0") == -ENOENT)
			r = 0;
	}
	if (r >= 0 && m->have[CTRL_PIDS]) {
		cgroup_max_format(l->pids_max, buf, sizeof(buf));
		r = file_write(dir, "pids.max", buf);
	}
	return r;
}

int cgroup_pod_create(struct cgroup_manager *m, const char *pod_uid, const struct cgroup_limits *limits)
{
	_cleanup_free_ char *path = NULL;
	bool have[CTRL_COUNT];
	int r;

	r = cgroup_path(m, pod_uid, NULL, &path);
	if (r < 0)
		return r;
	r = mkdir_ok(path);
	if (r < 0)
		return r;
	r = controllers_enable(path, have);
	if (r < 0)
		return r;
	return limits_write(m, path, limits);
}

int cgroup_container_create(struct cgroup_manager *m, const char *pod_uid, const char *container,
			    const struct cgroup_limits *limits)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = cgroup_path(m, pod_uid, container, &path);
	if (r < 0)
		return r;
	r = rmdir(path) < 0 ? -errno : 0;
	if (r == -EBUSY) {
		/* The last task may leave the cgroup a moment after its parent reaped it. */
		r = wait_unpopulated(path, now_ms() + CGROUP_RERUN_WAIT_MS);
		if (r >= 0)
			r = rmdir(path) < 0 ? -errno : 0;
	}
	if (r < 0 && r != -ENOENT)
		return r; /* EBUSY: the previous run still has a process in it */
	/* Plain mkdir: a missing pod cgroup is the caller's bug, not something to paper over. */
	if (mkdir(path, 0755) < 0)
		return -errno;
	return limits_write(m, path, limits);
}

/* The path of pod-<uid>/<container>, the sandbox's made when missing. */
static int cgroup_target(struct cgroup_manager *m, const char *pod_uid, const char *container, char **ret)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (!container)
		return -EINVAL;
	r = cgroup_path(m, pod_uid, container, &path);
	if (r < 0)
		return r;
	if (strcmp(container, CGROUP_SANDBOX_NAME) == 0) {
		r = mkdir_ok(path);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(path);
	return 0;
}

int cgroup_attach(struct cgroup_manager *m, const char *pod_uid, const char *container, pid_t pid)
{
	_cleanup_free_ char *path = NULL;
	char buf[32];
	int r;

	r = cgroup_target(m, pod_uid, container, &path);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return file_write(path, "cgroup.procs", buf);
}

int cgroup_open(struct cgroup_manager *m, const char *pod_uid, const char *container)
{
	_cleanup_free_ char *path = NULL;
	int r, fd;

	r = cgroup_target(m, pod_uid, container, &path);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cgroup_container_oom_kills(struct cgroup_manager *m, const char *pod_uid, const char *container,
			       uint64_t *ret)
{
	_cleanup_free_ char *path = NULL;
	char buf[1024];
	int r;

	if (!m->have[CTRL_MEMORY])
		return -EOPNOTSUPP;
	r = cgroup_path(m, pod_uid, container, &path);
	if (r < 0)
		return r;
	r = file_read(path, "memory.events", buf, sizeof(buf));
	if (r < 0)
		return r;
	return cgroup_parse_oom_kill(buf, ret);
}

int cgroup_pod_kill(struct cgroup_manager *m, const char *pod_uid)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = cgroup_path(m, pod_uid, NULL, &path);
	if (r < 0)
		return r;
	r = file_write(path, "cgroup.kill", "1");
	return r == -ENOENT ? 0 : r;
}

/* rmdir of dir's child cgroups (depth first), then of dir itself. */
static int tree_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r >= 0 && (e = readdir(d))) {
		_cleanup_free_ char *child = NULL;

		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (asprintf(&child, "%s/%s", dir, e->d_name) < 0)
			r = -ENOMEM;
		else
			r = tree_remove(child);
	}
	closedir(d);
	if (r < 0)
		return r;
	return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

int cgroup_pod_remove(struct cgroup_manager *m, const char *pod_uid, int timeout_ms)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = cgroup_path(m, pod_uid, NULL, &path);
	if (r < 0)
		return r;
	r = wait_unpopulated(path, now_ms() + timeout_ms);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return tree_remove(path);
}

void cgroup_manager_set_container_prepare(struct cgroup_manager *m, cgroup_container_prepare_fn fn,
					  void *userdata)
{
	m->prepare = fn;
	m->prepare_userdata = userdata;
}

static int hook_pod_create(void *userdata, json_object *pod)
{
	struct cgroup_manager *m = userdata;
	struct cgroup_limits l;
	int r = cgroup_limits_from_pod(pod, m->pod_pids_max, &l);

	return r < 0 ? r : cgroup_pod_create(m, json_get_string(pod, "metadata.uid"), &l);
}

static int hook_sandbox_attach(void *userdata, const char *pod_uid, pid_t pid)
{
	return cgroup_attach(userdata, pod_uid, CGROUP_SANDBOX_NAME, pid);
}

static int hook_sandbox_cgroup(void *userdata, const char *pod_uid)
{
	return cgroup_open(userdata, pod_uid, CGROUP_SANDBOX_NAME);
}

/* The container's cgroup made afresh with its limits and prepared (device programs), empty. */
static int container_make(struct cgroup_manager *m, json_object *pod, json_object *container)
{
	const char *uid = json_get_string(pod, "metadata.uid");
	const char *name = json_get_string(container, "name");
	_cleanup_free_ char *path = NULL;
	struct cgroup_limits l;
	int r;

	r = cgroup_limits_from_container(container, &l);
	if (r >= 0)
		r = cgroup_container_create(m, uid, name, &l);
	if (r >= 0 && m->prepare) {
		r = cgroup_path(m, uid, name, &path);
		if (r >= 0)
			r = m->prepare(m->prepare_userdata, path, pod, container);
	}
	return r;
}

static int hook_container_attach(void *userdata, json_object *pod, json_object *container, pid_t pid)
{
	int r = container_make(userdata, pod, container);

	return r < 0 ? r : cgroup_attach(userdata, json_get_string(pod, "metadata.uid"),
					 json_get_string(container, "name"), pid);
}

static int hook_container_cgroup(void *userdata, json_object *pod, json_object *container)
{
	int r = container_make(userdata, pod, container);

	return r < 0 ? r : cgroup_open(userdata, json_get_string(pod, "metadata.uid"),
				       json_get_string(container, "name"));
}

static int hook_container_oom_kills(void *userdata, const char *pod_uid, const char *container, uint64_t *ret)
{
	return cgroup_container_oom_kills(userdata, pod_uid, container, ret);
}

static int hook_pod_kill(void *userdata, const char *pod_uid)
{
	return cgroup_pod_kill(userdata, pod_uid);
}

static int hook_pod_remove(void *userdata, const char *pod_uid)
{
	return cgroup_pod_remove(userdata, pod_uid, CGROUP_REMOVE_TIMEOUT_MS);
}

void cgroup_runtime_hooks(struct cgroup_manager *m, struct runtime_cgroup_hooks *ret)
{
	*ret = (struct runtime_cgroup_hooks){
		.userdata = m,
		.pod_create = hook_pod_create,
		.sandbox_attach = hook_sandbox_attach,
		.container_attach = hook_container_attach,
		.sandbox_cgroup = hook_sandbox_cgroup,
		.container_cgroup = hook_container_cgroup,
		.pod_kill = hook_pod_kill,
		.pod_remove = hook_pod_remove,
		.container_oom_kills = hook_container_oom_kills,
	};
}
