/* OpenAPI v3, one document per group version (core, coordination.k8s.io): every served
 * path and operation with its x-kubernetes-group-version-kind and query parameters, so
 * kubectl picks server-side field validation. No kind schemas on purpose: kubectl apply then computes strategic
 * merge patches from its compiled-in core/v1 types instead of a partial schema. */
#include "api/discovery.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/resources.h"

#define PATCH_SCHEMA "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"

enum op_params {
	P_LIST = 1 << 0,   /* list/watch selectors, limit, continue, resourceVersion */
	P_WRITE = 1 << 1,  /* dryRun, fieldManager, fieldValidation */
	P_FORCE = 1 << 2,  /* apply's force */
	P_DELETE = 1 << 3, /* dryRun, gracePeriodSeconds, propagationPolicy */
};

struct query_param {
	const char *name, *type, *description;
	unsigned sets;
};

static const struct query_param query_params[] = {
	{ "allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\".", P_LIST },
	{ "continue", "string", "The continue option should be set when retrieving more results from the server.",
	  P_LIST },
	{ "dryRun", "string",
	  "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry "
	  "run stages will be processed",
	  P_WRITE | P_DELETE },
	{ "fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these "
				    "changes.",
	  P_WRITE },
	{ "fieldSelector", "string", "A selector to restrict the list of returned objects by their fields.", P_LIST },
	{ "fieldValidation", "string",
	  "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) "
	  "containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
	  P_WRITE },
	{ "force", "boolean", "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests.",
	  P_FORCE },
	{ "gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted.", P_DELETE },
	{ "labelSelector", "string", "A selector to restrict the list of returned objects by their labels.", P_LIST },
	{ "limit", "integer", "limit is a maximum number of responses to return for a list call.", P_LIST },
	{ "propagationPolicy", "string",
	  "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', "
	  "'Foreground'.",
	  P_DELETE },
	{ "resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be "
				       "served from.",
	  P_LIST },
	{ "timeoutSeconds", "integer", "Timeout for the list/watch call.", P_LIST },
	{ "watch", "boolean", "Watch for changes to the described resources and return them as a stream.", P_LIST },
};

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static json_object *param(const char *name, const char *in, const char *type, const char *description)
{
	json_object *p = json_object_new_object(), *schema = json_object_new_object();

	add_str(p, "name", name);
	add_str(p, "in", in);
	add_str(p, "description", description);
	if (strcmp(in, "path") == 0)
		json_object_object_add(p, "required", json_object_new_boolean(true));
	add_str(schema, "type", type);
	json_object_object_add(schema, "uniqueItems", json_object_new_boolean(true));
	json_object_object_add(p, "schema", schema);
	return p;
}

static json_object *gvk(const char *group, const char *version, const char *kind)
{
	json_object *g = json_object_new_object();

	add_str(g, "group", group);
	add_str(g, "kind", kind);
	add_str(g, "version", version);
	return g;
}

static json_object *json_content(const char *const *types, const char *ref)
{
	json_object *content = json_object_new_object();

	for (; *types; types++) {
		json_object *media = json_object_new_object(), *schema = json_object_new_object();

		if (ref)
			add_str(schema, "$ref", ref);
		else
			add_str(schema, "type", "object");
		json_object_object_add(media, "schema", schema);
		json_object_object_add(content, *types, media);
	}
	return content;
}

struct op {
	const char *method;    /* "get", "post", "put", "patch", "delete" */
	const char *action;    /* x-kubernetes-action */
	const char *id_verb;   /* operationId prefix: "read", "list", "patch", ... */
	unsigned params;
};

struct target {
	const char *group, *version, *kind; /* the GVK operations carry */
	const char *id;                     /* operationId tail: "NamespacedPodStatus" */
	const char *api;                    /* the path's group as operationIds say it: "CoreV1" */
};

/* "" → "CoreV1" and "core_v1"; "coordination.k8s.io" → "CoordinationV1" and "coordination_v1". */
static void group_names(const char *group, char *id, size_t id_len, char *tag, size_t tag_len)
{
	const char *g = *group ? group : "core";
	size_t n = strcspn(g, ".");

	snprintf(id, id_len, "%c%.*sV1", g[0] - 'a' + 'A', (int)n - 1, g + 1);
	snprintf(tag, tag_len, "%.*s_v1", (int)n, g);
}

static json_object *operation(const struct op *op, const struct target *t)
{
	static const char *const patch_types[] = { "application/apply-patch+yaml", "application/json-patch+json",
						   "application/merge-patch+json",
						   "application/strategic-merge-patch+json", NULL };
	static const char *const any_type[] = { "*/*", NULL };
	static const char *const resp_types[] = { "application/json", "application/yaml", NULL };
	json_object *o = json_object_new_object(), *params = json_object_new_array();
	json_object *responses = json_object_new_object(), *ok = json_object_new_object();
	json_object *unauth = json_object_new_object(), *tags = json_object_new_array();
	char id[160], api[64], tag[64];

	group_names(t->api, api, sizeof(api), tag, sizeof(tag));
	snprintf(id, sizeof(id), "%s%s%s", op->id_verb, api, t->id);
	json_object_array_add(tags, json_object_new_string(tag));
	json_object_object_add(o, "tags", tags);
	add_str(o, "operationId", id);
	for (size_t i = 0; i < sizeof(query_params) / sizeof(query_params[0]); i++)
		if (query_params[i].sets & op->params)
			json_object_array_add(params, param(query_params[i].name, "query", query_params[i].type,
							    query_params[i].description));
	json_object_object_add(o, "parameters", params);
	if (strcmp(op->method, "patch") == 0 || strcmp(op->method, "post") == 0 || strcmp(op->method, "put") == 0) {
		json_object *body = json_object_new_object();
		bool patch = strcmp(op->method, "patch") == 0;

		json_object_object_add(body, "content", json_content(patch ? patch_types : any_type,
								     patch ? "#/components/schemas/" PATCH_SCHEMA : NULL));
		json_object_object_add(body, "required", json_object_new_boolean(true));
		json_object_object_add(o, "requestBody", body);
	}
	add_str(ok, "description", "OK");
	json_object_object_add(ok, "content", json_content(resp_types, NULL));
	json_object_object_add(responses, "200", ok);
	add_str(unauth, "description", "Unauthorized");
	json_object_object_add(responses, "401", unauth);
	json_object_object_add(o, "responses", responses);
	add_str(o, "x-kubernetes-action", op->action);
	json_object_object_add(o, "x-kubernetes-group-version-kind", gvk(t->group, t->version, t->kind));
	return o;
}

/* Adds path with its operations; path-level parameters: name, namespace, pretty. */
static void add_path(json_object *paths, const char *path, bool has_name, bool namespaced, const struct op *ops,
		     size_t n_ops, const struct target *t)
{
	json_object *item = json_object_new_object(), *params = json_object_new_array();

	for (size_t i = 0; i < n_ops; i++)
		json_object_object_add(item, ops[i].method, operation(&ops[i], t));
	if (has_name)
		json_object_array_add(params, param("name", "path", "string", "name of the resource"));
	if (namespaced)
		json_object_array_add(params, param("namespace", "path", "string",
						    "object name and auth scope, such as for teams and projects"));
	json_object_array_add(params, param("pretty", "query", "string",
					    "If 'true', then the output is pretty printed."));
	json_object_object_add(item, "parameters", params);
	json_object_object_add(paths, path, item);
}

static const struct op ops_collection[] = {
	{ "get", "list", "list", P_LIST },
	{ "post", "post", "create", P_WRITE },
	{ "delete", "deletecollection", "deleteCollection", P_LIST | P_DELETE },
};
static const struct op ops_item[] = {
	{ "get", "get", "read", 0 },
	{ "put", "put", "replace", P_WRITE },
	{ "patch", "patch", "patch", P_WRITE | P_FORCE },
	{ "delete", "delete", "delete", P_DELETE },
};
static const struct op ops_status[] = {
	{ "get", "get", "read", 0 },
	{ "put", "put", "replace", P_WRITE },
	{ "patch", "patch", "patch", P_WRITE | P_FORCE },
};
static const struct op ops_all_ns[] = { { "get", "list", "list", P_LIST } };
static const struct op ops_binding[] = { { "post", "post", "create", P_WRITE } };
static const struct op ops_log[] = { { "get", "get", "read", 0 } };
static const struct op ops_exec[] = { { "get", "connect", "connectGet", 0 }, { "post", "connect", "connectPost", 0 } };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void add_subresource_paths(json_object *paths, const struct resource *r, const char *item, const char *scope)
{
	char path[256], id[128];

	if (r->has_status) {
		snprintf(path, sizeof(path), "%s/status", item);
		snprintf(id, sizeof(id), "%s%sStatus", scope, r->kind);
		add_path(paths, path, true, r->namespaced, ops_status, N(ops_status),
			 &(struct target){ r->group, r->version, r->kind, id, r->group });
	}
	if (r->has_scale) {
		snprintf(path, sizeof(path), "%s/scale", item);
		snprintf(id, sizeof(id), "%s%sScale", scope, r->kind);
		add_path(paths, path, true, r->namespaced, ops_status, N(ops_status),
			 &(struct target){ "autoscaling", "v1", "Scale", id, r->group });
	}
	if (r->has_binding) {
		snprintf(path, sizeof(path), "%s/binding", item);
		snprintf(id, sizeof(id), "%s%sBinding", scope, r->kind);
		add_path(paths, path, true, r->namespaced, ops_binding, N(ops_binding),
			 &(struct target){ "", "v1", "Binding", id, r->group });
	}
	if (r->has_log_exec) {
		snprintf(path, sizeof(path), "%s/log", item);
		snprintf(id, sizeof(id), "%s%sLog", scope, r->kind);
		add_path(paths, path, true, r->namespaced, ops_log, N(ops_log), &(struct target){ r->group, r->version, r->kind, id, r->group });
		snprintf(path, sizeof(path), "%s/exec", item);
		snprintf(id, sizeof(id), "%s%sExec", scope, r->kind);
		add_path(paths, path, true, r->namespaced, ops_exec, N(ops_exec),
			 &(struct target){ "", "v1", "PodExecOptions", id, r->group });
	}
}

static void add_resource_paths(json_object *paths, const struct resource *r)
{
	const char *scope = r->namespaced ? "Namespaced" : "";
	bool ns_kind = strcmp(r->name, "namespaces") == 0;
	char coll[192], item[224], id[128], root[96];

	if (*r->group)
		snprintf(root, sizeof(root), "/apis/%s/%s", r->group, r->version);
	else
		snprintf(root, sizeof(root), "/api/%s", r->version);
	snprintf(coll, sizeof(coll), "%s/%s%s", root, r->namespaced ? "namespaces/{namespace}/" : "", r->name);
	snprintf(item, sizeof(item), "%s/{name}", coll);
	snprintf(id, sizeof(id), "%s%s", scope, r->kind);
	/* Namespaces have no deletecollection. */
	add_path(paths, coll, false, r->namespaced, ops_collection, N(ops_collection) - ns_kind,
		 &(struct target){ r->group, r->version, r->kind, id, r->group });
	add_path(paths, item, true, r->namespaced, ops_item, N(ops_item), &(struct target){ r->group, r->version, r->kind, id, r->group });
	if (r->namespaced) {
		char all[160];

		snprintf(all, sizeof(all), "%s/%s", root, r->name);
		snprintf(id, sizeof(id), "%sForAllNamespaces", r->kind);
		add_path(paths, all, false, false, ops_all_ns, N(ops_all_ns), &(struct target){ r->group, r->version, r->kind, id, r->group });
	}
	add_subresource_paths(paths, r, item, scope);
}

/* The document of one group's version ("" for core). */
static json_object *group_doc(const char *group)
{
	json_object *doc = json_object_new_object();
	json_object *info = json_object_new_object(), *paths = json_object_new_object();
	json_object *components = json_object_new_object(), *schemas = json_object_new_object();
	json_object *patch = json_object_new_object();

	if (!doc || !info || !paths || !components || !schemas || !patch) {
		json_object_put(doc);
		json_object_put(info);
		json_object_put(paths);
		json_object_put(components);
		json_object_put(schemas);
		json_object_put(patch);
		return NULL;
	}
	add_str(doc, "openapi", "3.0.0");
	add_str(info, "title", "Kubernetes");
	add_str(info, "version", "v1.32.0");
	json_object_object_add(doc, "info", info);
	for (size_t i = 0; i < resource_count; i++)
		if (strcmp(resource_table[i].group, group) == 0)
			add_resource_paths(paths, &resource_table[i]);
	json_object_object_add(doc, "paths", paths);
	/* Only the PATCH body type: no kind carries x-kubernetes-group-version-kind here, so
	 * kubectl apply finds no schema for the kind and uses its built-in types. */
	add_str(patch, "description", "Patch is provided to give a concrete name and type to the Kubernetes PATCH "
				      "request body.");
	add_str(patch, "type", "object");
	json_object_object_add(schemas, PATCH_SCHEMA, patch);
	json_object_object_add(components, "schemas", schemas);
	json_object_object_add(doc, "components", components);
	return doc;
}

json_object *openapi_v3_api_v1(void)
{
	return group_doc("");
}

json_object *openapi_v3_group_version(const char *group)
{
	return group_doc(group);
}

/* Adds paths["api/v1"] or paths["apis/<group>/v1"] with a URL naming the document's hash,
 * so kubectl may cache it for good. */
static int add_root_entry(json_object *paths, const char *group)
{
	_cleanup_json_ json_object *doc = group_doc(group);
	unsigned char digest[64];
	char hex[2 * sizeof(digest) + 1], url[320], name[128];
	json_object *gv;
	const char *text;
	size_t len;

	if (!doc)
		return -ENOMEM;
	text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA512, text, len, digest) < 0)
		return -EIO;
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02X", digest[i]);
	if (*group)
		snprintf(name, sizeof(name), "apis/%s/v1", group);
	else
		snprintf(name, sizeof(name), "api/v1");
	snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%s", name, hex);
	gv = json_object_new_object();
	if (!gv)
		return -ENOMEM;
	add_str(gv, "serverRelativeURL", url);
	json_object_object_add(paths, name, gv);
	return 0;
}

json_object *openapi_v3_root(void)
{
	_cleanup_json_ json_object *root = json_object_new_object();
	json_object *paths = json_object_new_object();
	const char *groups[8];
	size_t n = resource_groups(groups, 8);

	if (!root || !paths) {
		json_object_put(paths);
		return NULL;
	}
	json_object_object_add(root, "paths", paths);
	if (add_root_entry(paths, "") < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (add_root_entry(paths, groups[i]) < 0)
			return NULL;
	return json_object_get(root);
}
