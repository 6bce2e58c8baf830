/* Discovery documents: /version, /api and /apis (legacy and aggregated apidiscovery.k8s.io/v2
 * forms), /apis/{group} and the APIResourceLists of /api/v1 and /apis/{group}/{version},
 * all derived from resources.h's table. */
#include "api/discovery.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/resources.h"

#ifndef SKIFF_GIT_COMMIT
#define SKIFF_GIT_COMMIT "unknown"
#endif

/* A subresource as Kubernetes lists it. group NULL: the core group. */
struct subresource {
	const char *name;
	const char *group, *version, *kind; /* responseKind; kind NULL = the parent's kind */
	const char *const *verbs;
};

static const char *const verbs_all[] = { "create", "delete", "deletecollection", "get", "list", "patch", "update",
					 "watch", NULL };
/* Namespaces are removed one at a time (their teardown is not a collection delete). */
static const char *const verbs_ns[] = { "create", "delete", "get", "list", "patch", "update", "watch", NULL };
static const char *const verbs_status[] = { "get", "patch", "update", NULL };
static const char *const verbs_create[] = { "create", NULL };
static const char *const verbs_get[] = { "get", NULL };
static const char *const verbs_exec[] = { "create", "get", NULL };

/* Sorted by name, as Kubernetes lists them. */
static size_t subresources_of(const struct resource *r, struct subresource *out)
{
	size_t n = 0;

	if (r->has_binding)
		out[n++] = (struct subresource){ "binding", NULL, "v1", "Binding", verbs_create };
	if (r->has_log_exec)
		out[n++] = (struct subresource){ "exec", NULL, "v1", "PodExecOptions", verbs_exec };
	if (r->has_log_exec)
		out[n++] = (struct subresource){ "log", NULL, "v1", NULL, verbs_get };
	if (r->has_scale)
		out[n++] = (struct subresource){ "scale", "autoscaling", "v1", "Scale", verbs_status };
	if (r->has_status)
		out[n++] = (struct subresource){ "status", NULL, "v1", NULL, verbs_status };
	return n;
}

static json_object *strings_json(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (; a && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static const char *const *resource_verbs(const struct resource *r)
{
	return strcmp(r->name, "namespaces") == 0 ? verbs_ns : verbs_all;
}

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void add_names_categories(json_object *o, const struct resource *r)
{
	if (r->short_name) {
		const char *sn[] = { r->short_name, NULL };

		json_object_object_add(o, "shortNames", strings_json(sn));
	}
	if (r->in_all_category) {
		const char *all[] = { "all", NULL };

		json_object_object_add(o, "categories", strings_json(all));
	}
}

json_object *discovery_version(void)
{
	json_object *v = json_object_new_object();

	if (!v)
		return NULL;
	/* kubectl's version dispatcher reads minor as a string; a number makes it fall back. */
	add_str(v, "major", "1");
	add_str(v, "minor", "32");
	add_str(v, "gitVersion", "v1.32.0");
	add_str(v, "gitCommit", SKIFF_GIT_COMMIT);
	add_str(v, "gitTreeState", "clean");
	add_str(v, "buildDate", "2024-12-11T18:04:20Z");
	add_str(v, "goVersion", "go1.23.3");
	add_str(v, "compiler", "gc");
	add_str(v, "platform", "linux/amd64");
	return v;
}

json_object *discovery_api_versions(void)
{
	json_object *v = json_object_new_object();
	json_object *cidrs = json_object_new_array(), *cidr = json_object_new_object();
	const char *versions[] = { "v1", NULL };

	if (!v || !cidrs || !cidr) {
		json_object_put(v);
		json_object_put(cidrs);
		json_object_put(cidr);
		return NULL;
	}
	add_str(v, "kind", "APIVersions");
	json_object_object_add(v, "versions", strings_json(versions));
	add_str(cidr, "clientCIDR", "0.0.0.0/0");
	add_str(cidr, "serverAddress", "");
	json_object_array_add(cidrs, cidr);
	json_object_object_add(v, "serverAddressByClientCIDRs", cidrs);
	return v;
}

static json_object *response_kind(const char *group, const char *version, const char *kind)
{
	json_object *rk = json_object_new_object();

	if (!rk)
		return NULL;
	add_str(rk, "group", group ? group : "");
	add_str(rk, "version", version);
	add_str(rk, "kind", kind);
	return rk;
}

static json_object *aggregated_resource(const struct resource *r)
{
	struct subresource subs[8];
	size_t n = subresources_of(r, subs);
	json_object *o = json_object_new_object(), *sa;

	if (!o)
		return NULL;
	add_str(o, "resource", r->name);
	json_object_object_add(o, "responseKind", response_kind(r->group, r->version, r->kind));
	add_str(o, "scope", r->namespaced ? "Namespaced" : "Cluster");
	add_str(o, "singularResource", r->singular);
	json_object_object_add(o, "verbs", strings_json(resource_verbs(r)));
	add_names_categories(o, r);
	if (n == 0)
		return o;
	sa = json_object_new_array();
	json_object_object_add(o, "subresources", sa);
	for (size_t i = 0; sa && i < n; i++) {
		json_object *s = json_object_new_object();

		if (!s)
			break;
		add_str(s, "subresource", subs[i].name);
		json_object_object_add(s, "responseKind",
				       response_kind(subs[i].group, subs[i].version, subs[i].kind ? subs[i].kind : r->kind));
		json_object_object_add(s, "verbs", strings_json(subs[i].verbs));
		json_object_array_add(sa, s);
	}
	return o;
}

static int cmp_resource(const void *a, const void *b)
{
	return strcmp((*(const struct resource *const *)a)->name, (*(const struct resource *const *)b)->name);
}

/* One group's resources ("" for core) sorted by plural name, as Kubernetes' discovery
 * lists them; NULL-terminated. */
static const struct resource **sorted_resources(const char *group, size_t *ret_n)
{
	const struct resource **v = calloc(resource_count + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < resource_count; i++)
		if (strcmp(resource_table[i].group, group) == 0)
			v[n++] = &resource_table[i];
	qsort(v, n, sizeof(*v), cmp_resource);
	*ret_n = n;
	return v;
}

static json_object *discovery_list(json_object *items)
{
	json_object *l = json_object_new_object();

	if (!l || !items) {
		json_object_put(l);
		json_object_put(items);
		return NULL;
	}
	add_str(l, "kind", "APIGroupDiscoveryList");
	add_str(l, "apiVersion", "apidiscovery.k8s.io/v2");
	json_object_object_add(l, "metadata", json_object_new_object());
	json_object_object_add(l, "items", items);
	return l;
}

/* One APIGroupDiscovery: the group's only version (v1) and its resources. */
static json_object *aggregated_group(const char *group)
{
	size_t n = 0;
	_cleanup_free_ const struct resource **res = sorted_resources(group, &n);
	json_object *g = json_object_new_object();
	json_object *versions = json_object_new_array(), *v1 = json_object_new_object();
	json_object *resources = json_object_new_array(), *meta = json_object_new_object();

	if (!res || !g || !versions || !v1 || !resources || !meta) {
		json_object_put(g);
		json_object_put(versions);
		json_object_put(v1);
		json_object_put(resources);
		json_object_put(meta);
		return NULL;
	}
	/* The core group has no name; Kubernetes sends metadata with a null creationTimestamp. */
	if (*group)
		add_str(meta, "name", group);
	json_object_object_add(meta, "creationTimestamp", NULL);
	json_object_object_add(g, "metadata", meta);
	json_object_object_add(g, "versions", versions);
	json_object_array_add(versions, v1);
	add_str(v1, "version", "v1");
	json_object_object_add(v1, "resources", resources);
	add_str(v1, "freshness", "Current");
	for (size_t i = 0; i < n; i++)
		json_object_array_add(resources, aggregated_resource(res[i]));
	return g;
}

json_object *discovery_api_aggregated(void)
{
	json_object *items = json_object_new_array(), *core = aggregated_group("");

	if (!items || !core) {
		json_object_put(items);
		json_object_put(core);
		return NULL;
	}
	json_object_array_add(items, core);
	return discovery_list(items);
}

static json_object *group_version_json(const char *group, const char *version)
{
	json_object *v = json_object_new_object();
	char gv[128];

	if (!v)
		return NULL;
	snprintf(gv, sizeof(gv), "%s/%s", group, version);
	add_str(v, "groupVersion", gv);
	add_str(v, "version", version);
	return v;
}

/* An APIGroup entry as /apis lists it (and /apis/{group} returns it, with kind). */
static json_object *group_json(const char *group)
{
	json_object *g = json_object_new_object(), *versions = json_object_new_array();

	if (!g || !versions) {
		json_object_put(g);
		json_object_put(versions);
		return NULL;
	}
	add_str(g, "name", group);
	json_object_object_add(g, "versions", versions);
	json_object_array_add(versions, group_version_json(group, "v1"));
	json_object_object_add(g, "preferredVersion", group_version_json(group, "v1"));
	return g;
}

json_object *discovery_apis(void)
{
	json_object *l = json_object_new_object(), *groups = json_object_new_array();
	const char *names[8];
	size_t n = resource_groups(names, 8);

	if (!l || !groups) {
		json_object_put(l);
		json_object_put(groups);
		return NULL;
	}
	add_str(l, "kind", "APIGroupList");
	add_str(l, "apiVersion", "v1");
	json_object_object_add(l, "groups", groups);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(groups, group_json(names[i]));
	return l;
}

json_object *discovery_apis_aggregated(void)
{
	json_object *items = json_object_new_array();
	const char *names[8];
	size_t n = resource_groups(names, 8);

	for (size_t i = 0; items && i < n; i++)
		json_object_array_add(items, aggregated_group(names[i]));
	return discovery_list(items);
}

json_object *discovery_group(const char *group)
{
	json_object *g = group_json(group);

	if (!g)
		return NULL;
	add_str(g, "kind", "APIGroup");
	add_str(g, "apiVersion", "v1");
	return g;
}

static json_object *legacy_entry(const struct resource *r, const struct subresource *sub)
{
	json_object *o = json_object_new_object();
	char name[128];

	if (!o)
		return NULL;
	snprintf(name, sizeof(name), "%s%s%s", r->name, sub ? "/" : "", sub ? sub->name : "");
	add_str(o, "name", name);
	add_str(o, "singularName", sub ? "" : r->singular);
	json_object_object_add(o, "namespaced", json_object_new_boolean(r->namespaced));
	if (sub && sub->group) {
		add_str(o, "group", sub->group);
		add_str(o, "version", sub->version);
	}
	add_str(o, "kind", sub && sub->kind ? sub->kind : r->kind);
	json_object_object_add(o, "verbs", strings_json(sub ? sub->verbs : resource_verbs(r)));
	if (!sub)
		add_names_categories(o, r);
	return o;
}

/* The APIResourceList of one group ("" for core, whose groupVersion is plain "v1"). */
static json_object *resource_list(const char *group)
{
	size_t n_res = 0;
	_cleanup_free_ const struct resource **res = sorted_resources(group, &n_res);
	json_object *l = json_object_new_object(), *arr = json_object_new_array();
	char gv[128];

	if (!res || !l || !arr) {
		json_object_put(l);
		json_object_put(arr);
		return NULL;
	}
	snprintf(gv, sizeof(gv), "%s%sv1", group, *group ? "/" : "");
	add_str(l, "kind", "APIResourceList");
	/* As Kubernetes: named groups' lists carry apiVersion, the core one does not. */
	if (*group)
		add_str(l, "apiVersion", "v1");
	add_str(l, "groupVersion", gv);
	json_object_object_add(l, "resources", arr);
	for (size_t i = 0; i < n_res; i++) {
		struct subresource subs[8];
		size_t n = subresources_of(res[i], subs);

		json_object_array_add(arr, legacy_entry(res[i], NULL));
		for (size_t j = 0; j < n; j++)
			json_object_array_add(arr, legacy_entry(res[i], &subs[j]));
	}
	return l;
}

json_object *discovery_api_v1(void)
{
	return resource_list("");
}

json_object *discovery_group_version(const char *group)
{
	return resource_list(group);
}
