/* The node table: STATUS from the Ready condition (+SchedulingDisabled), ROLES from
 * node-role labels, and the wide addresses and system-info columns. */
#include "api/table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#define ROLE_PREFIX "node-role.kubernetes.io/"

static void node_status(json_object *node, char *buf, size_t len)
{
	json_object *conds = json_get_path(node, "status.conditions");
	json_object *ready = NULL, *unsched = json_get_path(node, "spec.unschedulable");
	size_t n = conds && json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;

	/* The last Ready condition wins, as printNode builds a map by type. */
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = json_get_string(c, "type");

		if (type && strcmp(type, "Ready") == 0)
			ready = c;
	}
	if (!ready) {
		snprintf(buf, len, "Unknown");
	} else {
		const char *st = json_get_string(ready, "status");

		snprintf(buf, len, "%s", st && strcmp(st, "True") == 0 ? "Ready" : "NotReady");
	}
	if (unsched && json_object_get_boolean(unsched))
		snprintf(buf + strlen(buf), len - strlen(buf), ",SchedulingDisabled");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* findNodeRoles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values, sorted, unique. */
static char *node_roles(json_object *node)
{
	json_object *labels = json_get_path(node, "metadata.labels");
	size_t n = labels && json_object_is_type(labels, json_type_object) ? (size_t)json_object_object_length(labels)
									     : 0;
	_cleanup_free_ const char **roles = calloc(n + 1, sizeof(*roles));
	size_t k = 0, len = 0;
	char *out;

	if (!roles)
		return NULL;
	if (n) {
		json_object_object_foreach(labels, key, v) {
			const char *val = json_object_get_string(v);

			if (strncmp(key, ROLE_PREFIX, strlen(ROLE_PREFIX)) == 0 && key[strlen(ROLE_PREFIX)])
				roles[k++] = key + strlen(ROLE_PREFIX);
			else if (strcmp(key, "kubernetes.io/role") == 0 && val && *val)
				roles[k++] = val;
		}
	}
	if (k == 0)
		return strdup("<none>");
	qsort(roles, k, sizeof(*roles), cmp_str);
	for (size_t i = 0; i < k; i++)
		len += strlen(roles[i]) + 1;
	out = calloc(1, len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < k; i++) {
		if (i && strcmp(roles[i], roles[i - 1]) == 0)
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, roles[i]);
	}
	return out;
}

static const char *node_address(json_object *node, const char *type)
{
	json_object *addrs = json_get_path(node, "status.addresses");
	size_t n = addrs && json_object_is_type(addrs, json_type_array) ? json_object_array_length(addrs) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(addrs, i);
		const char *t = json_get_string(a, "type"), *addr = json_get_string(a, "address");

		if (t && strcmp(t, type) == 0)
			return addr ? addr : "";
	}
	return "<none>";
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "<unknown>";
}

static int node_cells(json_object *node, time_t now, json_object *cells)
{
	_cleanup_free_ char *roles = node_roles(node);
	char status[64], age[32];

	if (!roles)
		return -ENOMEM;
	node_status(node, status, sizeof(status));
	table_age_at(node, "metadata.creationTimestamp", now, age, sizeof(age));
	if (table_add_str(cells, json_get_string(node, "metadata.name")) < 0 || table_add_str(cells, status) < 0 ||
	    table_add_str(cells, roles) < 0 || table_add_str(cells, age) < 0 ||
	    table_add_str(cells, json_get_string(node, "status.nodeInfo.kubeletVersion")) < 0 ||
	    table_add_str(cells, node_address(node, "InternalIP")) < 0 ||
	    table_add_str(cells, node_address(node, "ExternalIP")) < 0 ||
	    table_add_str(cells, or_unknown(json_get_string(node, "status.nodeInfo.osImage"))) < 0 ||
	    table_add_str(cells, or_unknown(json_get_string(node, "status.nodeInfo.kernelVersion"))) < 0 ||
	    table_add_str(cells, or_unknown(json_get_string(node, "status.nodeInfo.containerRuntimeVersion"))) < 0)
		return -ENOMEM;
	return 0;
}

#define DOC_ADDRESSES                                                                                         \
	"List of addresses reachable to the node. Queried from cloud provider, if available. More info: "    \
	"https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as "  \
	"mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is " \
	"merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an "    \
	"example. Consumers should assume that addresses can change during the lifetime of a Node. However, "  \
	"there are some exceptions where this may not be possible, such as Pods that inherit a Node's address " \
	"in its own status or consumers of the downward API (status.hostIP)."

static const struct table_column node_columns[] = {
	TABLE_COL_NAME,
	{ "Status", "string", "", "The status of the node", 0 },
	{ "Roles", "string", "", "The roles of the node", 0 },
	TABLE_COL_AGE,
	{ "Version", "string", "", "Kubelet Version reported by the node.", 0 },
	{ "Internal-IP", "string", "", DOC_ADDRESSES, 1 },
	{ "External-IP", "string", "", DOC_ADDRESSES, 1 },
	{ "OS-Image", "string", "",
	  "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1 },
	{ "Kernel-Version", "string", "", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
	  1 },
	{ "Container-Runtime", "string", "",
	  "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1 },
};

const struct table_kind table_kind_nodes = { "nodes", node_columns, sizeof(node_columns) / sizeof(node_columns[0]),
					     node_cells };
