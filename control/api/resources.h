/* The resources skiff serves (core/v1 and coordination.k8s.io/v1): names, kinds, group,
 * scope and subresources, and the store keys their objects live under. One table that
 * discovery, routing, tables and validation all read. */
#ifndef SKIFF_API_RESOURCES_H
#define SKIFF_API_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

struct resource {
	const char *group;      /* "" for core, "coordination.k8s.io" */
	const char *version;    /* "v1" */
	const char *api_version; /* the objects' apiVersion: "v1", "coordination.k8s.io/v1" */
	const char *name;       /* plural, as in URLs: "pods" */
	const char *qualified;  /* "leases.coordination.k8s.io" outside core; NULL: name */
	const char *singular;   /* "pod" */
	const char *kind;       /* "Pod" */
	const char *list_kind;  /* "PodList" */
	const char *short_name; /* "po", or NULL */
	bool namespaced;
	bool in_all_category; /* kubectl get all */
	bool has_status;
	bool has_scale;
	bool has_binding;
	bool has_log_exec; /* pods/log, pods/exec (proxied to agents by a later issue) */
};

extern const struct resource resource_table[];
extern const size_t resource_count;

/* By plural name ("pods"); NULL if skiff does not serve it. Names are unique across groups. */
const struct resource *resource_by_name(const char *name);
/* By group ("" for core), version and plural name; NULL if skiff does not serve it there. */
const struct resource *resource_in_group(const char *group, const char *version, const char *name);
/* The API groups other than core, each once, in table order, into out (at most max).
 * Returns how many. */
size_t resource_groups(const char **out, size_t max);
/* By kind ("Pod"); NULL if unknown. */
const struct resource *resource_by_kind(const char *kind);

/* The name errors use: "pods", or "leases.coordination.k8s.io" outside the core group. Static. */
const char *resource_qualified_name(const struct resource *r);

/* "/registry/pods/default/web" or "/registry/nodes/n1". Caller frees. */
char *resource_key(const struct resource *r, const char *ns, const char *name);
/* Prefix of a namespace's objects ("/registry/pods/default/"), or of all of them when
 * ns is NULL or the resource is cluster-scoped ("/registry/pods/"). Caller frees. */
char *resource_prefix(const struct resource *r, const char *ns);

#endif
