/* Router: Kubernetes core/v1 URL shapes, verbs, and the 404/405 answers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "api/router.h"

static struct route rt;
static struct api_status st;

static int match(const char *method, const char *path, bool watch)
{
	static char buf[512];

	api_status_clear(&st);
	strncpy(buf, path, sizeof(buf) - 1);
	return router_match(method, buf, watch, &rt, &st);
}

static void teardown(void)
{
	api_status_clear(&st);
}

TestSuite(router, .fini = teardown);

Test(router, documents)
{
	cr_assert_eq(match("GET", "/version", false), 0);
	cr_assert_eq(rt.kind, ROUTE_VERSION);
	cr_assert(rt.public_path);
	cr_assert_eq(match("GET", "/api", false), 0);
	cr_assert_eq(rt.kind, ROUTE_API);
	cr_assert_not(rt.public_path);
	cr_assert_eq(match("GET", "/api/v1", false), 0);
	cr_assert_eq(rt.kind, ROUTE_API_V1);
	cr_assert_eq(match("GET", "/api/v1/", false), 0);
	cr_assert_eq(rt.kind, ROUTE_API_V1);
	cr_assert_eq(match("GET", "/apis", false), 0);
	cr_assert_eq(rt.kind, ROUTE_APIS);
	cr_assert_eq(match("GET", "/openapi/v3", false), 0);
	cr_assert_eq(rt.kind, ROUTE_OPENAPI_V3);
	cr_assert_eq(match("GET", "/openapi/v3/api/v1", false), 0);
	cr_assert_eq(rt.kind, ROUTE_OPENAPI_V3_API_V1);
	cr_assert_eq(match("GET", "/healthz", false), 0);
	cr_assert_eq(rt.kind, ROUTE_HEALTHZ);
	cr_assert(rt.public_path);
	cr_assert_eq(match("GET", "/livez/ping", false), 0);
	cr_assert_eq(rt.kind, ROUTE_HEALTHZ);
	cr_assert_eq(match("GET", "/readyz", false), 0);
	cr_assert_eq(rt.kind, ROUTE_READYZ);
}

Test(router, unknown_paths_are_404)
{
	const char *paths[] = { "/", "/openapi/v2", "/apis/apps/v1", "/api/v2", "/foo", "/api/v1/widgets",
				"/api/v1/namespaces/default/widgets", "/api/v1//pods", "/api/v1/pods/x",
				"/api/v1/namespaces/default/nodes", "/api/v1/namespaces/default/pods/x/y/z",
				"/api/v1/namespaces/default/pods/x/scale", "/api/v1/nodes/n1/binding",
				"/api/v1/namespaces/default/bogus", "relative" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(match("GET", paths[i], false), -ENOENT, "%s", paths[i]);
		cr_assert_eq(st.code, 404, "%s", paths[i]);
		cr_assert_str_eq(st.reason, "NotFound");
		cr_assert_str_eq(st.message, "the server could not find the requested resource");
	}
}

Test(router, namespaced_collection_and_object)
{
	cr_assert_eq(match("GET", "/api/v1/namespaces/default/pods", false), 0);
	cr_assert_eq(rt.kind, ROUTE_RESOURCE);
	cr_assert_str_eq(rt.res->name, "pods");
	cr_assert_str_eq(rt.ns, "default");
	cr_assert_null(rt.name);
	cr_assert_eq(rt.verb, VERB_LIST);

	cr_assert_eq(match("GET", "/api/v1/namespaces/default/pods", true), 0);
	cr_assert_eq(rt.verb, VERB_WATCH);
	cr_assert_eq(match("POST", "/api/v1/namespaces/kube-system/services", false), 0);
	cr_assert_eq(rt.verb, VERB_CREATE);
	cr_assert_str_eq(rt.ns, "kube-system");
	cr_assert_eq(match("DELETE", "/api/v1/namespaces/default/pods", false), 0);
	cr_assert_eq(rt.verb, VERB_DELETE_COLLECTION);

	cr_assert_eq(match("GET", "/api/v1/namespaces/ns1/pods/web-1", false), 0);
	cr_assert_str_eq(rt.ns, "ns1");
	cr_assert_str_eq(rt.name, "web-1");
	cr_assert_null(rt.sub);
	cr_assert_eq(rt.verb, VERB_GET);
	cr_assert_eq(match("GET", "/api/v1/namespaces/ns1/pods/web-1", true), 0);
	cr_assert_eq(rt.verb, VERB_WATCH);
	cr_assert_eq(match("PUT", "/api/v1/namespaces/ns1/pods/web-1", false), 0);
	cr_assert_eq(rt.verb, VERB_UPDATE);
	cr_assert_eq(match("PATCH", "/api/v1/namespaces/ns1/pods/web-1", false), 0);
	cr_assert_eq(rt.verb, VERB_PATCH);
	cr_assert_eq(match("DELETE", "/api/v1/namespaces/ns1/pods/web-1", false), 0);
	cr_assert_eq(rt.verb, VERB_DELETE);
}

Test(router, all_namespaces_list_only)
{
	cr_assert_eq(match("GET", "/api/v1/pods", false), 0);
	cr_assert_null(rt.ns);
	cr_assert_eq(rt.verb, VERB_LIST);
	cr_assert_eq(match("GET", "/api/v1/events", true), 0);
	cr_assert_eq(rt.verb, VERB_WATCH);
	cr_assert_eq(match("POST", "/api/v1/pods", false), -EOPNOTSUPP);
	cr_assert_eq(st.code, 405);
	cr_assert_str_eq(st.reason, "MethodNotAllowed");
}

Test(router, cluster_scoped)
{
	cr_assert_eq(match("GET", "/api/v1/nodes", false), 0);
	cr_assert_str_eq(rt.res->name, "nodes");
	cr_assert_null(rt.ns);
	cr_assert_eq(match("GET", "/api/v1/nodes/n1", false), 0);
	cr_assert_str_eq(rt.name, "n1");
	cr_assert_eq(match("PATCH", "/api/v1/nodes/n1/status", false), 0);
	cr_assert_str_eq(rt.sub, "status");
	cr_assert_eq(rt.verb, VERB_PATCH);
}

Test(router, namespace_object_itself)
{
	cr_assert_eq(match("GET", "/api/v1/namespaces", false), 0);
	cr_assert_str_eq(rt.res->name, "namespaces");
	cr_assert_eq(rt.verb, VERB_LIST);
	cr_assert_eq(match("GET", "/api/v1/namespaces/team-a", false), 0);
	cr_assert_str_eq(rt.res->name, "namespaces");
	cr_assert_null(rt.ns);
	cr_assert_str_eq(rt.name, "team-a");
	cr_assert_eq(match("DELETE", "/api/v1/namespaces/team-a", false), 0);
	cr_assert_eq(rt.verb, VERB_DELETE);
	cr_assert_eq(match("PUT", "/api/v1/namespaces/team-a/finalize", false), 0);
	cr_assert_str_eq(rt.res->name, "namespaces");
	cr_assert_str_eq(rt.sub, "finalize");
	cr_assert_eq(match("GET", "/api/v1/namespaces/team-a/status", false), 0);
	cr_assert_str_eq(rt.sub, "status");
	cr_assert_str_eq(rt.name, "team-a");
}

Test(router, subresources)
{
	cr_assert_eq(match("PUT", "/api/v1/namespaces/d/pods/p/status", false), 0);
	cr_assert_str_eq(rt.sub, "status");
	cr_assert_eq(rt.verb, VERB_UPDATE);
	cr_assert_eq(match("POST", "/api/v1/namespaces/d/pods/p/binding", false), 0);
	cr_assert_str_eq(rt.sub, "binding");
	cr_assert_eq(rt.verb, VERB_CREATE);
	cr_assert_eq(match("GET", "/api/v1/namespaces/d/replicationcontrollers/rc1/scale", false), 0);
	cr_assert_str_eq(rt.sub, "scale");
	cr_assert_eq(rt.verb, VERB_GET);
	cr_assert_eq(match("PATCH", "/api/v1/namespaces/d/replicationcontrollers/rc1/scale", false), 0);
	cr_assert_eq(rt.verb, VERB_PATCH);
	cr_assert_eq(match("GET", "/api/v1/namespaces/d/pods/p/log", false), 0);
	cr_assert_str_eq(rt.sub, "log");
}

Test(router, wrong_verbs_are_405)
{
	struct {
		const char *method, *path;
	} cases[] = {
		{ "POST", "/api/v1/namespaces/d/pods/p" },      { "PUT", "/api/v1/namespaces/d/pods" },
		{ "PATCH", "/api/v1/nodes" },                    { "GET", "/api/v1/namespaces/d/pods/p/binding" },
		{ "DELETE", "/api/v1/namespaces/d/pods/p/status" }, { "POST", "/version" },
		{ "DELETE", "/api" },                            { "DELETE", "/api/v1/pods" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(match(cases[i].method, cases[i].path, false), -EOPNOTSUPP, "%s %s", cases[i].method,
			     cases[i].path);
		cr_assert_eq(st.code, 405);
		cr_assert_str_eq(st.reason, "MethodNotAllowed");
	}
}
