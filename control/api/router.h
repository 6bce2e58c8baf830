/* URL and method → route: which document or resource a request is about and which verb
 * it asks for. Pure string work, no I/O, so every path shape is unit-tested. */
#ifndef SKIFF_API_ROUTER_H
#define SKIFF_API_ROUTER_H

#include <stdbool.h>

#include "api/resources.h"
#include "api/status.h"

enum route_kind {
	ROUTE_VERSION,
	ROUTE_API,        /* /api */
	ROUTE_API_V1,     /* /api/v1 */
	ROUTE_APIS,       /* /apis */
	ROUTE_OPENAPI_V3, /* /openapi/v3 */
	ROUTE_OPENAPI_V3_API_V1,
	ROUTE_HEALTHZ,    /* /healthz, /livez */
	ROUTE_READYZ,
	ROUTE_RESOURCE,   /* /api/v1/... and /apis/{group}/{version}/... objects */
	ROUTE_APIS_GROUP, /* /apis/{group}: APIGroup */
	ROUTE_APIS_GROUP_VERSION, /* /apis/{group}/{version}: APIResourceList */
	ROUTE_OPENAPI_V3_GROUP_VERSION, /* /openapi/v3/apis/{group}/{version} */
};

enum route_verb {
	VERB_GET,     /* GET of a document, an object or a subresource */
	VERB_LIST,
	VERB_WATCH,
	VERB_CREATE,  /* POST (also pods/{name}/binding) */
	VERB_UPDATE,  /* PUT */
	VERB_PATCH,
	VERB_DELETE,
	VERB_DELETE_COLLECTION,
};

struct route {
	enum route_kind kind;
	enum route_verb verb;
	const struct resource *res; /* ROUTE_RESOURCE */
	const char *group; /* ROUTE_APIS_GROUP*, ROUTE_OPENAPI_V3_GROUP_VERSION: a served group (static) */
	/* Borrowed from the path buffer given to router_match (NULL when absent). */
	const char *ns;
	const char *name;
	const char *sub; /* "status", "scale", "binding", "log", "exec", "finalize" */
	bool public_path; /* served without credentials (health, /version) */
};

/* Matches method + path. path is modified in place (split at '/'); the route borrows it.
 * watch: the request's watch=true|1. 0, or -ENOENT (404) / -EOPNOTSUPP (405) / -EINVAL
 * with *st set to the Status to send. */
int router_match(const char *method, char *path, bool watch, struct route *ret, struct api_status *st);

#endif
