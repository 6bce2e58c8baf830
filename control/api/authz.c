/* The node rules of authz.h. Anything not granted is refused: a new resource or verb is closed
 * to nodes until a rule opens it. */
#include "api/authz.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#include "api/resources.h"

static const char *const verb_names[] = {
	[VERB_GET] = "get",	  [VERB_LIST] = "list",	    [VERB_WATCH] = "watch",
	[VERB_CREATE] = "create", [VERB_UPDATE] = "update", [VERB_PATCH] = "patch",
	[VERB_DELETE] = "delete", [VERB_DELETE_COLLECTION] = "deletecollection",
};

/* Resources an agent reads: its pods, the nodes (routes), Services and Endpoints (proxy). */
static const char *const node_readable[] = { "nodes", "pods", "services", "endpoints", "namespaces", "leases", NULL };

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return true;
	return false;
}

static bool is_member(const struct auth_identity *who, const char *group)
{
	for (size_t i = 0; i < who->n_groups; i++)
		if (who->groups[i] && strcmp(who->groups[i], group) == 0)
			return true;
	return false;
}

static bool is_read(enum route_verb v)
{
	return v == VERB_GET || v == VERB_LIST || v == VERB_WATCH;
}

/* The object's name: the URL's, or for a create the body's metadata.name. */
static char *object_name(const struct route *rt, const struct authz_input *in)
{
	json_object *body, *meta, *name;
	json_tokener *tok;
	char *r = NULL;

	if (rt->name)
		return strdup(rt->name);
	if (rt->verb != VERB_CREATE || !in || !in->body)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	body = json_tokener_parse_ex(tok, in->body, (int)in->body_len);
	json_tokener_free(tok);
	if (body && json_object_object_get_ex(body, "metadata", &meta) &&
	    json_object_object_get_ex(meta, "name", &name) && json_object_is_type(name, json_type_string))
		r = strdup(json_object_get_string(name));
	json_object_put(body);
	return r;
}

static bool pod_is_mine(const struct route *rt, const struct authz_input *in, const char *node)
{
	_cleanup_free_ char *bound = NULL;

	if (!rt->ns || !rt->name || !in || !in->pod_node || in->pod_node(in->ud, rt->ns, rt->name, &bound) < 0)
		return false;
	return bound && strcmp(bound, node) == 0;
}

static bool node_allowed(const char *node, const struct route *rt, const struct authz_input *in)
{
	const char *res = rt->res->name, *sub = rt->sub;
	_cleanup_free_ char *name = NULL;

	if (is_read(rt->verb) && !sub)
		return in_list(node_readable, res);
	if (strcmp(res, "events") == 0)
		return rt->verb == VERB_CREATE || rt->verb == VERB_UPDATE || rt->verb == VERB_PATCH;
	if (strcmp(res, "pods") == 0) {
		if (sub && strcmp(sub, "status") == 0 && (is_read(rt->verb) || rt->verb == VERB_UPDATE || rt->verb == VERB_PATCH))
			return pod_is_mine(rt, in, node);
		return !sub && rt->verb == VERB_DELETE && pod_is_mine(rt, in, node);
	}
	if (rt->verb != VERB_CREATE && rt->verb != VERB_UPDATE && rt->verb != VERB_PATCH && rt->verb != VERB_GET)
		return false;
	name = object_name(rt, in);
	if (!name || strcmp(name, node) != 0)
		return false;
	if (strcmp(res, "nodes") == 0)
		return !sub || strcmp(sub, "status") == 0;
	return strcmp(res, "leases") == 0 && !sub && rt->ns && strcmp(rt->ns, "kube-node-lease") == 0;
}

static void forbid(const struct auth_identity *who, const struct route *rt, struct api_status *st)
{
	char resource[128], scope[300];
	json_object *details = json_object_new_object();

	snprintf(resource, sizeof(resource), "%s%s%s", rt->res->name, rt->sub ? "/" : "", rt->sub ? rt->sub : "");
	if (rt->ns)
		snprintf(scope, sizeof(scope), "in the namespace \"%s\"", rt->ns);
	else
		snprintf(scope, sizeof(scope), "at the cluster scope");
	/* The subject is the group-qualified resource, the object of "cannot" names the subresource. */
	if (rt->name)
		api_status_set(st, 403, "Forbidden", "%s \"%s\" is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
			       resource_qualified_name(rt->res), rt->name, who->user, verb_names[rt->verb], resource,
			       rt->res->group, scope);
	else
		api_status_set(st, 403, "Forbidden", "%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
			       resource_qualified_name(rt->res), who->user, verb_names[rt->verb], resource, rt->res->group, scope);
	if (details) {
		if (rt->name)
			json_object_object_add(details, "name", json_object_new_string(rt->name));
		json_object_object_add(details, "kind", json_object_new_string(rt->res->name));
		api_status_set_details(st, details);
	}
}

int authz_check(const struct auth_identity *who, const struct route *rt, const struct authz_input *in,
		struct api_status *st)
{
	if (is_member(who, "system:masters"))
		return 0;
	/* Discovery, OpenAPI and health documents are for every authenticated caller. */
	if (rt->kind != ROUTE_RESOURCE || !rt->res)
		return 0;
	if (who->node && node_allowed(who->node, rt, in))
		return 0;
	forbid(who, rt, st);
	return -EACCES;
}
