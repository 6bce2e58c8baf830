/* Discovery and OpenAPI documents: the fields kubectl v1.32 reads to find resources, short
 * names, categories and server-side field validation. */
#include <criterion/criterion.h>
#include <string.h>

#include <skiff/json.h>

#include "api/discovery.h"
#include "api/resources.h"

static bool array_has(json_object *a, const char *s)
{
	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
			return true;
	return false;
}

static json_object *find_by(json_object *arr, const char *key, const char *value)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *v = json_get_string(o, key);

		if (v && strcmp(v, value) == 0)
			return o;
	}
	return NULL;
}

static const char *compact(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

Test(discovery, version_minor_is_a_string)
{
	_cleanup_json_ json_object *v = discovery_version();
	json_object *minor = json_object_object_get(v, "minor");

	cr_assert(json_object_is_type(minor, json_type_string));
	cr_assert_str_eq(json_object_get_string(minor), "32");
	cr_assert_str_eq(json_get_string(v, "major"), "1");
	cr_assert_str_eq(json_get_string(v, "gitVersion"), "v1.32.0");
	cr_assert_str_eq(json_get_string(v, "platform"), "linux/amd64");
	cr_assert_str_eq(json_get_string(v, "compiler"), "gc");
	cr_assert_not_null(json_get_string(v, "goVersion"));
	cr_assert_not_null(json_get_string(v, "buildDate"));
	cr_assert_not_null(json_get_string(v, "gitCommit"));
	cr_assert_not_null(json_get_string(v, "gitTreeState"));
}

Test(discovery, legacy_api_and_apis)
{
	_cleanup_json_ json_object *api = discovery_api_versions();
	_cleanup_json_ json_object *apis = discovery_apis();

	cr_assert_str_eq(compact(api), "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
				       "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"\"}]}");
	cr_assert_str_eq(compact(apis), "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{\"name\":"
					"\"coordination.k8s.io\",\"versions\":[{\"groupVersion\":\"coordination.k8s.io/v1\","
					"\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":"
					"\"coordination.k8s.io/v1\",\"version\":\"v1\"}}]}");
}

Test(discovery, aggregated_apis_lists_coordination)
{
	_cleanup_json_ json_object *l = discovery_apis_aggregated();
	json_object *items = json_object_object_get(l, "items"), *g, *v1, *leases;

	cr_assert_str_eq(json_get_string(l, "kind"), "APIGroupDiscoveryList");
	cr_assert_eq(json_object_array_length(items), 1);
	g = json_object_array_get_idx(items, 0);
	cr_assert_str_eq(json_get_string(g, "metadata.name"), "coordination.k8s.io");
	v1 = json_object_array_get_idx(json_get_path(g, "versions"), 0);
	cr_assert_str_eq(json_get_string(v1, "version"), "v1");
	cr_assert_eq(json_object_array_length(json_object_object_get(v1, "resources")), 1);
	leases = find_by(json_object_object_get(v1, "resources"), "resource", "leases");
	cr_assert_str_eq(compact(json_object_object_get(leases, "responseKind")),
			 "{\"group\":\"coordination.k8s.io\",\"version\":\"v1\",\"kind\":\"Lease\"}");
	cr_assert_str_eq(json_get_string(leases, "scope"), "Namespaced");
	cr_assert_str_eq(json_get_string(leases, "singularResource"), "lease");
	cr_assert(array_has(json_object_object_get(leases, "verbs"), "deletecollection"));
	cr_assert_null(json_object_object_get(leases, "subresources"));
}

Test(discovery, group_and_group_version)
{
	_cleanup_json_ json_object *g = discovery_group("coordination.k8s.io");
	_cleanup_json_ json_object *l = discovery_group_version("coordination.k8s.io");
	json_object *res = json_object_object_get(l, "resources");

	cr_assert_str_eq(json_get_string(g, "kind"), "APIGroup");
	cr_assert_str_eq(json_get_string(g, "name"), "coordination.k8s.io");
	cr_assert_str_eq(json_get_string(g, "preferredVersion.groupVersion"), "coordination.k8s.io/v1");
	cr_assert_str_eq(json_get_string(l, "kind"), "APIResourceList");
	cr_assert_str_eq(json_get_string(l, "groupVersion"), "coordination.k8s.io/v1");
	cr_assert_eq(json_object_array_length(res), 1);
	cr_assert_str_eq(compact(json_object_array_get_idx(res, 0)),
			 "{\"name\":\"leases\",\"singularName\":\"lease\",\"namespaced\":true,\"kind\":\"Lease\","
			 "\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\","
			 "\"update\",\"watch\"]}");
}

/* How many resources the table holds in one group ("" for core). */
static size_t count_in_group(const char *group)
{
	size_t n = 0;

	for (size_t i = 0; i < resource_count; i++)
		n += strcmp(resource_table[i].group, group) == 0;
	return n;
}

Test(discovery, aggregated_api)
{
	_cleanup_json_ json_object *l = discovery_api_aggregated();
	json_object *items = json_object_object_get(l, "items");
	json_object *v1, *res, *pods, *rcs, *ns, *scale;

	cr_assert_str_eq(json_get_string(l, "kind"), "APIGroupDiscoveryList");
	cr_assert_str_eq(json_get_string(l, "apiVersion"), "apidiscovery.k8s.io/v2");
	cr_assert_eq(json_object_array_length(items), 1);
	cr_assert_null(json_get_string(json_object_array_get_idx(items, 0), "metadata.name"));
	v1 = json_object_array_get_idx(json_get_path(json_object_array_get_idx(items, 0), "versions"), 0);
	cr_assert_str_eq(json_get_string(v1, "version"), "v1");
	cr_assert_str_eq(json_get_string(v1, "freshness"), "Current");
	res = json_object_object_get(v1, "resources");
	cr_assert_eq(json_object_array_length(res), count_in_group(""));
	cr_assert_null(find_by(res, "resource", "leases"), "leases are not in the core group");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(res, 0), "resource"), "endpoints", "sorted by name");

	pods = find_by(res, "resource", "pods");
	cr_assert_str_eq(compact(json_object_object_get(pods, "responseKind")),
			 "{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"}");
	cr_assert_str_eq(json_get_string(pods, "scope"), "Namespaced");
	cr_assert_str_eq(json_get_string(pods, "singularResource"), "pod");
	cr_assert_str_eq(compact(json_object_object_get(pods, "shortNames")), "[\"po\"]");
	cr_assert_str_eq(compact(json_object_object_get(pods, "categories")), "[\"all\"]");
	cr_assert(array_has(json_object_object_get(pods, "verbs"), "watch"));
	cr_assert_not_null(find_by(json_object_object_get(pods, "subresources"), "subresource", "status"));
	cr_assert_not_null(find_by(json_object_object_get(pods, "subresources"), "subresource", "binding"));
	cr_assert_not_null(find_by(json_object_object_get(pods, "subresources"), "subresource", "log"));
	cr_assert_not_null(find_by(json_object_object_get(pods, "subresources"), "subresource", "exec"));

	rcs = find_by(res, "resource", "replicationcontrollers");
	scale = find_by(json_object_object_get(rcs, "subresources"), "subresource", "scale");
	cr_assert_str_eq(compact(json_object_object_get(scale, "responseKind")),
			 "{\"group\":\"autoscaling\",\"version\":\"v1\",\"kind\":\"Scale\"}");
	cr_assert_str_eq(compact(json_object_object_get(scale, "verbs")), "[\"get\",\"patch\",\"update\"]");

	ns = find_by(res, "resource", "namespaces");
	cr_assert_str_eq(json_get_string(ns, "scope"), "Cluster");
	cr_assert_null(json_object_object_get(ns, "categories"));
	cr_assert_not(array_has(json_object_object_get(ns, "verbs"), "deletecollection"));
	cr_assert_null(json_object_object_get(find_by(res, "resource", "events"), "subresources"));
	cr_assert_str_eq(compact(json_object_object_get(find_by(res, "resource", "services"), "categories")),
			 "[\"all\"]");
}

Test(discovery, api_v1_resource_list)
{
	_cleanup_json_ json_object *l = discovery_api_v1();
	json_object *res = json_object_object_get(l, "resources");
	json_object *e;

	cr_assert_str_eq(json_get_string(l, "kind"), "APIResourceList");
	cr_assert_str_eq(json_get_string(l, "groupVersion"), "v1");
	e = find_by(res, "name", "replicationcontrollers");
	cr_assert_str_eq(compact(e), "{\"name\":\"replicationcontrollers\",\"singularName\":\"replicationcontroller\","
				     "\"namespaced\":true,\"kind\":\"ReplicationController\",\"verbs\":[\"create\","
				     "\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],"
				     "\"shortNames\":[\"rc\"],\"categories\":[\"all\"]}");
	e = find_by(res, "name", "replicationcontrollers/scale");
	cr_assert_str_eq(compact(e), "{\"name\":\"replicationcontrollers/scale\",\"singularName\":\"\",\"namespaced\":"
				     "true,\"group\":\"autoscaling\",\"version\":\"v1\",\"kind\":\"Scale\",\"verbs\":"
				     "[\"get\",\"patch\",\"update\"]}");
	e = find_by(res, "name", "pods/status");
	cr_assert_str_eq(json_get_string(e, "kind"), "Pod");
	cr_assert_str_eq(json_get_string(find_by(res, "name", "pods/binding"), "kind"), "Binding");
	cr_assert_str_eq(json_get_string(find_by(res, "name", "pods/exec"), "kind"), "PodExecOptions");
	cr_assert_not_null(find_by(res, "name", "pods/log"));
	cr_assert_not_null(find_by(res, "name", "nodes/status"));
	cr_assert_not_null(find_by(res, "name", "namespaces/status"));
	cr_assert_null(find_by(res, "name", "events/status"));
	e = find_by(res, "name", "nodes");
	cr_assert_not(json_object_get_boolean(json_object_object_get(e, "namespaced")));
	cr_assert_str_eq(compact(json_object_object_get(e, "shortNames")), "[\"no\"]");
	cr_assert_null(find_by(res, "name", "leases"));
	for (size_t i = 0; i < resource_count; i++) {
		if (*resource_table[i].group)
			continue;
		e = find_by(res, "name", resource_table[i].name);
		cr_assert_not_null(e, "%s listed", resource_table[i].name);
		cr_assert_not_null(json_object_object_get(e, "shortNames"), "%s has short names", resource_table[i].name);
	}
}

/* supportsQueryParamV3: the first PATCH operation tagged with the GVK must list the query parameter. */
static json_object *patch_op_for(json_object *doc, const char *group, const char *kind)
{
	json_object_object_foreach(json_object_object_get(doc, "paths"), path, item) {
		json_object *patch = json_object_object_get(item, "patch");
		json_object *gvk = json_object_object_get(patch, "x-kubernetes-group-version-kind");

		(void)path;
		if (gvk && strcmp(json_get_string(gvk, "group"), group) == 0 &&
		    strcmp(json_get_string(gvk, "kind"), kind) == 0 && strcmp(json_get_string(gvk, "version"), "v1") == 0)
			return patch;
	}
	return NULL;
}

static bool has_query_param(json_object *op, const char *name)
{
	json_object *params = json_object_object_get(op, "parameters");

	for (size_t i = 0; params && i < json_object_array_length(params); i++) {
		json_object *p = json_object_array_get_idx(params, i);

		if (strcmp(json_get_string(p, "name"), name) == 0 && strcmp(json_get_string(p, "in"), "query") == 0)
			return true;
	}
	return false;
}

Test(openapi, every_kind_patch_declares_field_validation)
{
	_cleanup_json_ json_object *doc = openapi_v3_api_v1();

	cr_assert_str_eq(json_get_string(doc, "openapi"), "3.0.0");
	for (size_t i = 0; i < resource_count; i++) {
		json_object *op;

		if (*resource_table[i].group)
			continue;
		op = patch_op_for(doc, "", resource_table[i].kind);

		cr_assert_not_null(op, "PATCH for %s", resource_table[i].kind);
		cr_assert(has_query_param(op, "fieldValidation"), "%s patch declares fieldValidation",
			  resource_table[i].kind);
		cr_assert_not_null(json_get_path(op, "requestBody.content"));
	}
	cr_assert(has_query_param(patch_op_for(doc, "autoscaling", "Scale"), "fieldValidation"));
}

Test(openapi, paths_and_operations)
{
	_cleanup_json_ json_object *doc = openapi_v3_api_v1();
	json_object *paths = json_object_object_get(doc, "paths");
	json_object *pods = json_object_object_get(paths, "/api/v1/namespaces/{namespace}/pods");
	json_object *pod = json_object_object_get(paths, "/api/v1/namespaces/{namespace}/pods/{name}");
	json_object *node = json_object_object_get(paths, "/api/v1/nodes/{name}");

	cr_assert_not_null(pods);
	cr_assert(has_query_param(json_object_object_get(pods, "post"), "fieldValidation"));
	cr_assert(has_query_param(json_object_object_get(pods, "get"), "labelSelector"));
	cr_assert_str_eq(json_get_string(pods, "post.x-kubernetes-group-version-kind.kind"), "Pod");
	cr_assert_str_eq(json_get_string(pod, "put.x-kubernetes-action"), "put");
	cr_assert(has_query_param(json_object_object_get(pod, "put"), "fieldValidation"));
	cr_assert_not_null(json_object_object_get(json_get_path(pod, "patch.requestBody.content"),
						  "application/strategic-merge-patch+json"));
	cr_assert_not_null(node);
	cr_assert_not_null(json_object_object_get(paths, "/api/v1/pods"));
	cr_assert_not_null(json_object_object_get(paths, "/api/v1/namespaces/{namespace}/pods/{name}/status"));
	cr_assert_not_null(json_object_object_get(paths, "/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"));
	cr_assert_null(json_object_object_get(json_object_object_get(paths, "/api/v1/namespaces"), "delete"));
}

/* kubectl apply takes patch metadata from a components schema carrying the kind's GVK;
 * none may be there, or it would compute patches from a partial schema. */
Test(openapi, no_kind_schemas)
{
	_cleanup_json_ json_object *doc = openapi_v3_api_v1();

	json_object_object_foreach(json_get_path(doc, "components.schemas"), name, schema) {
		cr_assert_null(json_object_object_get(schema, "x-kubernetes-group-version-kind"), "%s carries a GVK", name);
		cr_assert_null(json_object_object_get(schema, "properties"), "%s is a partial schema", name);
	}
}

Test(openapi, root_points_at_hashed_document)
{
	_cleanup_json_ json_object *root = openapi_v3_root();
	_cleanup_json_ json_object *again = openapi_v3_root();
	json_object *gv = json_object_object_get(json_object_object_get(root, "paths"), "api/v1");
	const char *url = json_get_string(gv, "serverRelativeURL");
	cr_assert_not_null(url);
	cr_assert_eq(strncmp(url, "/openapi/v3/api/v1?hash=", 24), 0);
	cr_assert_eq(strlen(url + 24), 128, "SHA-512 in hex");
	cr_assert_str_eq(compact(root), compact(again), "stable across calls");
}

Test(openapi, coordination_document)
{
	_cleanup_json_ json_object *root = openapi_v3_root();
	_cleanup_json_ json_object *doc = openapi_v3_group_version("coordination.k8s.io");
	json_object *paths = json_object_object_get(doc, "paths");
	json_object *lease = json_object_object_get(paths, "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}");
	const char *url = json_get_string(json_object_object_get(json_object_object_get(root, "paths"),
								 "apis/coordination.k8s.io/v1"),
					  "serverRelativeURL");
	json_object *op = patch_op_for(doc, "coordination.k8s.io", "Lease");

	cr_assert_not_null(url);
	cr_assert_eq(strncmp(url, "/openapi/v3/apis/coordination.k8s.io/v1?hash=", 45), 0, "%s", url);
	cr_assert_not_null(lease);
	cr_assert_not_null(json_object_object_get(paths, "/apis/coordination.k8s.io/v1/leases"));
	cr_assert_not_null(op);
	cr_assert(has_query_param(op, "fieldValidation"));
	cr_assert_str_eq(json_get_string(lease, "patch.operationId"), "patchCoordinationV1NamespacedLease");
	cr_assert_null(json_object_object_get(paths, "/api/v1/namespaces/{namespace}/leases"));
	cr_assert_null(patch_op_for(doc, "", "Pod"), "core kinds stay in api/v1");
}
