/* The table of served resources (see resources.h). */
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORE .group = "", .version = "v1", .api_version = "v1"
#define COORDINATION .group = "coordination.k8s.io", .version = "v1", .api_version = "coordination.k8s.io/v1"

const struct resource resource_table[] = {
	{ CORE, .name = "namespaces", .singular = "namespace", .kind = "Namespace", .list_kind = "NamespaceList",
	  .short_name = "ns", .namespaced = false, .has_status = true },
	{ CORE, .name = "pods", .singular = "pod", .kind = "Pod", .list_kind = "PodList", .short_name = "po",
	  .namespaced = true, .in_all_category = true, .has_status = true, .has_binding = true,
	  .has_log_exec = true },
	{ CORE, .name = "services", .singular = "service", .kind = "Service", .list_kind = "ServiceList",
	  .short_name = "svc", .namespaced = true, .in_all_category = true, .has_status = true },
	{ CORE, .name = "endpoints", .singular = "endpoints", .kind = "Endpoints", .list_kind = "EndpointsList",
	  .short_name = "ep", .namespaced = true },
	{ CORE, .name = "replicationcontrollers", .singular = "replicationcontroller", .kind = "ReplicationController",
	  .list_kind = "ReplicationControllerList", .short_name = "rc", .namespaced = true,
	  .in_all_category = true, .has_status = true, .has_scale = true },
	{ CORE, .name = "nodes", .singular = "node", .kind = "Node", .list_kind = "NodeList", .short_name = "no",
	  .namespaced = false, .has_status = true },
	{ CORE, .name = "events", .singular = "event", .kind = "Event", .list_kind = "EventList", .short_name = "ev",
	  .namespaced = true },
	/* Node heartbeats: kube-node-lease/<node> is what the node lifecycle controller reads. */
	{ COORDINATION, .name = "leases", .qualified = "leases.coordination.k8s.io", .singular = "lease",
	  .kind = "Lease", .list_kind = "LeaseList", .namespaced = true },
};
const size_t resource_count = sizeof(resource_table) / sizeof(resource_table[0]);

const struct resource *resource_by_name(const char *name)
{
	for (size_t i = 0; i < resource_count; i++)
		if (strcmp(resource_table[i].name, name) == 0)
			return &resource_table[i];
	return NULL;
}

const struct resource *resource_in_group(const char *group, const char *version, const char *name)
{
	const struct resource *r = resource_by_name(name);

	if (!r || strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
		return NULL;
	return r;
}

size_t resource_groups(const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < resource_count && n < max; i++) {
		const char *g = resource_table[i].group;
		size_t j;

		if (!*g)
			continue;
		for (j = 0; j < n && strcmp(out[j], g) != 0; j++)
			;
		if (j == n)
			out[n++] = g;
	}
	return n;
}

const struct resource *resource_by_kind(const char *kind)
{
	for (size_t i = 0; i < resource_count; i++)
		if (strcmp(resource_table[i].kind, kind) == 0)
			return &resource_table[i];
	return NULL;
}

const char *resource_qualified_name(const struct resource *r)
{
	return r->qualified ? r->qualified : r->name;
}

char *resource_key(const struct resource *r, const char *ns, const char *name)
{
	char *key = NULL;

	if (r->namespaced) {
		if (asprintf(&key, "/registry/%s/%s/%s", r->name, ns, name) < 0)
			return NULL;
	} else if (asprintf(&key, "/registry/%s/%s", r->name, name) < 0) {
		return NULL;
	}
	return key;
}

char *resource_prefix(const struct resource *r, const char *ns)
{
	char *prefix = NULL;

	if (r->namespaced && ns) {
		if (asprintf(&prefix, "/registry/%s/%s/", r->name, ns) < 0)
			return NULL;
	} else if (asprintf(&prefix, "/registry/%s/", r->name) < 0) {
		return NULL;
	}
	return prefix;
}
