/* Path and method → route (see router.h): Kubernetes' URL shapes for the core group
 * (/api/v1) and named groups (/apis/{group}/{version}). */
#include "api/router.h"

#include <errno.h>
#include <string.h>

#define MAX_SEGMENTS 8

static int not_found(struct api_status *st)
{
	api_status_set(st, 404, "NotFound", "the server could not find the requested resource");
	return -ENOENT;
}

static int not_allowed(struct api_status *st)
{
	api_status_set(st, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
	return -EOPNOTSUPP;
}

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* Splits "/a/b/c" (one trailing slash tolerated) into segments; an empty segment
 * elsewhere means a malformed path. Returns the count or -ENOENT. */
static int split_path(char *path, char **segs)
{
	size_t len = strlen(path);
	int n = 0;
	char *p;

	if (path[0] != '/')
		return -ENOENT;
	if (len > 1 && path[len - 1] == '/')
		path[len - 1] = '\0';
	p = path + 1;
	if (*p == '\0')
		return 0;
	for (;;) {
		char *slash = strchr(p, '/');

		if (n == MAX_SEGMENTS)
			return -ENOENT;
		if (slash)
			*slash = '\0';
		if (*p == '\0')
			return -ENOENT;
		segs[n++] = p;
		if (!slash)
			return n;
		p = slash + 1;
	}
}

static bool sub_allowed(const struct resource *r, const char *sub)
{
	if (is(sub, "status"))
		return r->has_status;
	if (is(sub, "scale"))
		return r->has_scale;
	if (is(sub, "binding"))
		return r->has_binding;
	if (is(sub, "log") || is(sub, "exec"))
		return r->has_log_exec;
	if (is(sub, "finalize"))
		return is(r->name, "namespaces");
	return false;
}

static int verb_for_collection(const char *method, bool watch, struct route *rt, struct api_status *st)
{
	bool all_ns = rt->res->namespaced && !rt->ns;

	if (is(method, "GET") || is(method, "HEAD"))
		rt->verb = watch ? VERB_WATCH : VERB_LIST;
	else if (is(method, "POST") && !all_ns)
		rt->verb = VERB_CREATE;
	else if (is(method, "DELETE") && !all_ns)
		rt->verb = VERB_DELETE_COLLECTION;
	else
		return not_allowed(st);
	return 0;
}

static int verb_for_object(const char *method, bool watch, struct route *rt, struct api_status *st)
{
	if (is(method, "GET") || is(method, "HEAD"))
		rt->verb = watch ? VERB_WATCH : VERB_GET;
	else if (is(method, "PUT"))
		rt->verb = VERB_UPDATE;
	else if (is(method, "PATCH"))
		rt->verb = VERB_PATCH;
	else if (is(method, "DELETE"))
		rt->verb = VERB_DELETE;
	else
		return not_allowed(st);
	return 0;
}

static int verb_for_sub(const char *method, struct route *rt, struct api_status *st)
{
	bool get = is(method, "GET") || is(method, "HEAD");
	const char *sub = rt->sub;

	if (is(sub, "binding") && is(method, "POST"))
		rt->verb = VERB_CREATE;
	else if (is(sub, "log") && get)
		rt->verb = VERB_GET;
	else if (is(sub, "exec") && (get || is(method, "POST")))
		rt->verb = get ? VERB_GET : VERB_CREATE;
	else if (is(sub, "finalize") && is(method, "PUT"))
		rt->verb = VERB_UPDATE;
	else if ((is(sub, "status") || is(sub, "scale")) && get)
		rt->verb = VERB_GET;
	else if ((is(sub, "status") || is(sub, "scale")) && is(method, "PUT"))
		rt->verb = VERB_UPDATE;
	else if ((is(sub, "status") || is(sub, "scale")) && is(method, "PATCH"))
		rt->verb = VERB_PATCH;
	else
		return not_allowed(st);
	return 0;
}

/* Which group and version a path is under: "" and "v1" for /api/v1. */
struct group_version {
	const char *group, *version;
};

/* segs: what follows /api/v1/namespaces/{ns}/ (ns set) or /api/v1/ (ns NULL), or the same
 * under /apis/{group}/{version}. */
static int match_resource(const char *method, bool watch, const struct group_version *gv, const char *ns,
			  char **segs, int n, struct route *rt, struct api_status *st)
{
	const struct resource *r = resource_in_group(gv->group, gv->version, segs[0]);

	if (!r || n > 3)
		return not_found(st);
	if (ns && !r->namespaced)
		return not_found(st);
	/* Namespaced objects are only reachable by name under their namespace. */
	if (!ns && r->namespaced && n > 1)
		return not_found(st);
	rt->kind = ROUTE_RESOURCE;
	rt->res = r;
	rt->ns = ns;
	rt->name = n > 1 ? segs[1] : NULL;
	rt->sub = n > 2 ? segs[2] : NULL;
	if (rt->sub && !sub_allowed(r, rt->sub))
		return not_found(st);
	if (!rt->name)
		return verb_for_collection(method, watch, rt, st);
	if (!rt->sub)
		return verb_for_object(method, watch, rt, st);
	return verb_for_sub(method, rt, st);
}

/* segs: what follows /api/v1/ or /apis/{group}/{version}/. */
static int match_version(const char *method, bool watch, const struct group_version *gv, char **segs, int n,
			 struct route *rt, struct api_status *st)
{
	if (!is(segs[0], "namespaces") || n <= 2)
		return match_resource(method, watch, gv, NULL, segs, n, rt, st);
	/* /api/v1/namespaces/{ns}/{status|finalize} is the namespace's own subresource. */
	if (n == 3 && !*gv->group && !resource_in_group(gv->group, gv->version, segs[2])) {
		char *ns_segs[3] = { segs[0], segs[1], segs[2] };

		return match_resource(method, watch, gv, NULL, ns_segs, 3, rt, st);
	}
	return match_resource(method, watch, gv, segs[1], segs + 2, n - 2, rt, st);
}

static int match_document(const char *method, enum route_kind kind, bool public_path, struct route *rt,
			  struct api_status *st)
{
	rt->kind = kind;
	rt->verb = VERB_GET;
	rt->public_path = public_path;
	if (!is(method, "GET") && !is(method, "HEAD"))
		return not_allowed(st);
	return 0;
}

/* The served group named seg (the table's own string, so routes may keep it), or NULL. */
static const char *served_group(const char *seg)
{
	const char *groups[8];
	size_t n = resource_groups(groups, 8);

	for (size_t i = 0; i < n; i++)
		if (is(groups[i], seg))
			return groups[i];
	return NULL;
}

/* segs: what follows /apis/. */
static int match_apis(const char *method, bool watch, char **segs, int n, struct route *rt, struct api_status *st)
{
	const char *group = served_group(segs[0]);
	struct group_version gv = { group, n > 1 ? segs[1] : NULL };

	if (!group || (n > 1 && !is(gv.version, "v1")))
		return not_found(st);
	if (n <= 2) {
		rt->group = group;
		return match_document(method, n == 1 ? ROUTE_APIS_GROUP : ROUTE_APIS_GROUP_VERSION, false, rt, st);
	}
	return match_version(method, watch, &gv, segs + 2, n - 2, rt, st);
}

int router_match(const char *method, char *path, bool watch, struct route *ret, struct api_status *st)
{
	char *segs[MAX_SEGMENTS];
	int n = split_path(path, segs);

	*ret = (struct route){ 0 };
	if (n <= 0)
		return not_found(st);
	if (is(segs[0], "version") && n == 1)
		return match_document(method, ROUTE_VERSION, true, ret, st);
	/* Health endpoints also answer their per-check subpaths (/livez/ping). */
	if (is(segs[0], "healthz") || is(segs[0], "livez"))
		return match_document(method, ROUTE_HEALTHZ, true, ret, st);
	if (is(segs[0], "readyz"))
		return match_document(method, ROUTE_READYZ, true, ret, st);
	if (is(segs[0], "api")) {
		if (n == 1)
			return match_document(method, ROUTE_API, false, ret, st);
		if (!is(segs[1], "v1"))
			return not_found(st);
		if (n == 2)
			return match_document(method, ROUTE_API_V1, false, ret, st);
		return match_version(method, watch, &(struct group_version){ "", "v1" }, segs + 2, n - 2, ret, st);
	}
	if (is(segs[0], "apis") && n == 1)
		return match_document(method, ROUTE_APIS, false, ret, st);
	if (is(segs[0], "apis"))
		return match_apis(method, watch, segs + 1, n - 1, ret, st);
	if (is(segs[0], "openapi") && n >= 2 && is(segs[1], "v3")) {
		if (n == 2)
			return match_document(method, ROUTE_OPENAPI_V3, false, ret, st);
		if (n == 4 && is(segs[2], "api") && is(segs[3], "v1"))
			return match_document(method, ROUTE_OPENAPI_V3_API_V1, false, ret, st);
		if (n == 5 && is(segs[2], "apis") && served_group(segs[3]) && is(segs[4], "v1")) {
			ret->group = served_group(segs[3]);
			return match_document(method, ROUTE_OPENAPI_V3_GROUP_VERSION, false, ret, st);
		}
	}
	return not_found(st);
}
