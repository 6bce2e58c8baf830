/* A cluster's names (namespaces, links, cgroups, dirs) and its state.json: pids, subnet and the
 * settings a later down or restart-agent needs. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "cluster.h"
#include "pods/cgroup.h"

int cluster_name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CLUSTER_NAME_MAX || name[0] < 'a' || name[0] > 'z' || name[n - 1] == '-')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return -EINVAL;
	return 0;
}

int cluster_init(struct cluster *c, const char *name)
{
	int r;

	memset(c, 0, sizeof(*c));
	r = cluster_name_check(name);
	if (r < 0)
		return r;
	strcpy(c->name, name);
	if (asprintf(&c->state_dir, CLUSTER_STATE_ROOT "/%s", name) < 0) {
		c->state_dir = NULL;
		return -ENOMEM;
	}
	r = cgroup_find_mount(&c->cgroup_mount);
	if (r < 0 && r != -ENOENT)
		return r;
	return 0;
}

void cluster_done(struct cluster *c)
{
	free(c->state_dir);
	free(c->bin_dir);
	free(c->proxy_mode);
	free(c->log_dir);
	free(c->pin_root);
	free(c->cgroup_mount);
	memset(c, 0, sizeof(*c));
}

char *cluster_netns_name(const struct cluster *c, const char *role)
{
	char *s;

	return asprintf(&s, "%s-%s", c->name, role) < 0 ? NULL : s;
}

char *cluster_node_netns(const struct cluster *c, unsigned i)
{
	char *s;

	return asprintf(&s, "%s-node-%u", c->name, i) < 0 ? NULL : s;
}

char *cluster_path(const struct cluster *c, const char *fmt, ...)
{
	_cleanup_free_ char *rel = NULL;
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (r < 0) {
		rel = NULL;
		return NULL;
	}
	return asprintf(&s, "%s/%s", c->state_dir, rel) < 0 ? NULL : s;
}

void cluster_host_veth(const struct cluster *c, char buf[16])
{
	snprintf(buf, 16, "skc-%s", c->name);
}

char *cluster_cgroup_dir(const struct cluster *c)
{
	char *s;

	if (!c->cgroup_mount)
		return NULL;
	return asprintf(&s, "%s/" CGROUP_DEFAULT_PARENT "/%s", c->cgroup_mount, c->name) < 0 ? NULL : s;
}

char *cluster_log_path(const struct cluster *c, const char *what)
{
	char *s;

	if (!c->log_dir)
		return cluster_path(c, "log/%s.log", what);
	return asprintf(&s, "%s/%s.log", c->log_dir, what) < 0 ? NULL : s;
}

void cluster_ip(uint32_t net, unsigned host, char buf[16])
{
	uint32_t a = net | host;

	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static json_object *proc_to_json(const struct cluster_proc *p)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "startTime", json_object_new_uint64(p->start_time));
	return o;
}

static json_object *state_to_json(const struct cluster *c)
{
	json_object *o = json_object_new_object(), *agents = json_object_new_array();

	if (!o || !agents) {
		json_object_put(o);
		json_object_put(agents);
		return NULL;
	}
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "nodes", json_object_new_int((int)c->nodes));
	json_object_object_add(o, "subnet", json_object_new_int((int)c->subnet));
	json_object_object_add(o, "binDir", c->bin_dir ? json_object_new_string(c->bin_dir) : NULL);
	json_object_object_add(o, "proxyMode", c->proxy_mode ? json_object_new_string(c->proxy_mode) : NULL);
	json_object_object_add(o, "joinNodes", json_object_new_boolean(c->join_nodes));
	json_object_object_add(o, "logDir", c->log_dir ? json_object_new_string(c->log_dir) : NULL);
	json_object_object_add(o, "pinRoot", c->pin_root ? json_object_new_string(c->pin_root) : NULL);
	json_object_object_add(o, "control", proc_to_json(&c->control));
	for (unsigned i = 0; i < c->nodes && i < CLUSTER_MAX_NODES; i++)
		json_object_array_add(agents, proc_to_json(&c->agents[i]));
	json_object_object_add(o, "agents", agents);
	return o;
}

/* Written to a temp file and renamed: a crash leaves the old state or the new, never half. */
int cluster_state_save(const struct cluster *c)
{
	_cleanup_free_ char *path = cluster_path(c, "state.json"), *tmp = cluster_path(c, "state.json.tmp");
	json_object *o = state_to_json(c);
	int r = 0;

	if (!path || !tmp || !o) {
		json_object_put(o);
		return -ENOMEM;
	}
	if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY) < 0 || rename(tmp, path) < 0)
		r = errno ? -errno : -EIO;
	json_object_put(o);
	return r;
}

static void proc_from_json(json_object *o, struct cluster_proc *p)
{
	p->pid = (pid_t)json_object_get_int(json_member(o, "pid", json_type_int));
	p->start_time = json_object_get_uint64(json_member(o, "startTime", json_type_int));
}

static char *string_member(json_object *o, const char *key)
{
	const char *v = json_get_string(o, key);

	return v ? strdup(v) : NULL;
}

int cluster_state_load(struct cluster *c)
{
	_cleanup_free_ char *path = cluster_path(c, "state.json");
	json_object *o, *agents;

	if (!path)
		return -ENOMEM;
	if (access(path, R_OK) < 0)
		return -errno;
	o = json_object_from_file(path);
	if (!o)
		return -EBADMSG;
	c->nodes = (unsigned)json_object_get_int(json_member(o, "nodes", json_type_int));
	if (c->nodes > CLUSTER_MAX_NODES)
		c->nodes = CLUSTER_MAX_NODES;
	c->subnet = (unsigned)json_object_get_int(json_member(o, "subnet", json_type_int));
	free(c->bin_dir);
	c->bin_dir = string_member(o, "binDir");
	free(c->proxy_mode);
	c->proxy_mode = string_member(o, "proxyMode");
	free(c->log_dir);
	c->log_dir = string_member(o, "logDir");
	c->join_nodes = json_object_get_boolean(json_member(o, "joinNodes", json_type_boolean));
	free(c->pin_root);
	c->pin_root = string_member(o, "pinRoot");
	proc_from_json(json_member(o, "control", json_type_object), &c->control);
	agents = json_member(o, "agents", json_type_array);
	for (unsigned i = 0; i < c->nodes && i < json_object_array_length(agents); i++)
		proc_from_json(json_object_array_get_idx(agents, i), &c->agents[i]);
	json_object_put(o);
	return 0;
}
