/* coordination.k8s.io/v1 Leases: the resource entry and store key, routes under
 * /apis/{group}/{version}, schema, validation messages and the table's columns. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

#include "api/resources.h"
#include "api/router.h"
#include "api/schema.h"
#include "api/table.h"
#include "api/validate.h"

static struct route rt;
static struct api_status st;

static int match(const char *method, const char *path, bool watch)
{
	static char buf[512];

	api_status_clear(&st);
	snprintf(buf, sizeof(buf), "%s", path);
	return router_match(method, buf, watch, &rt, &st);
}

static void teardown(void)
{
	api_status_clear(&st);
}

TestSuite(lease, .fini = teardown);

Test(lease, resource_entry_and_key)
{
	const struct resource *r = resource_by_name("leases");
	char *key;

	cr_assert_not_null(r);
	cr_assert_str_eq(r->group, "coordination.k8s.io");
	cr_assert_str_eq(r->api_version, "coordination.k8s.io/v1");
	cr_assert_str_eq(r->kind, "Lease");
	cr_assert(r->namespaced);
	key = resource_key(r, "kube-node-lease", "n1");
	cr_assert_str_eq(key, "/registry/leases/kube-node-lease/n1", "the node lifecycle controller reads this key");
	free(key);
	cr_assert_eq(resource_in_group("coordination.k8s.io", "v1", "leases"), r);
	cr_assert_null(resource_in_group("", "v1", "leases"));
	cr_assert_null(resource_in_group("coordination.k8s.io", "v1", "pods"));
	cr_assert_str_eq(resource_by_name("pods")->api_version, "v1");
}

Test(lease, group_routes)
{
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io", false), 0);
	cr_assert_eq(rt.kind, ROUTE_APIS_GROUP);
	cr_assert_str_eq(rt.group, "coordination.k8s.io");
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1", false), 0);
	cr_assert_eq(rt.kind, ROUTE_APIS_GROUP_VERSION);
	cr_assert_eq(match("GET", "/openapi/v3/apis/coordination.k8s.io/v1", false), 0);
	cr_assert_eq(rt.kind, ROUTE_OPENAPI_V3_GROUP_VERSION);
	cr_assert_str_eq(rt.group, "coordination.k8s.io");
	cr_assert_eq(match("GET", "/apis/apps/v1", false), -ENOENT);
	cr_assert_eq(st.code, 404);
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v2", false), -ENOENT);
	cr_assert_eq(match("POST", "/apis/coordination.k8s.io/v1", false), -EOPNOTSUPP);
}

Test(lease, resource_routes)
{
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", false), 0);
	cr_assert_eq(rt.kind, ROUTE_RESOURCE);
	cr_assert_eq(rt.verb, VERB_LIST);
	cr_assert_str_eq(rt.res->name, "leases");
	cr_assert_str_eq(rt.ns, "kube-node-lease");
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1/namespaces/ns/leases", true), 0);
	cr_assert_eq(rt.verb, VERB_WATCH);
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1/leases", false), 0);
	cr_assert_eq(rt.verb, VERB_LIST);
	cr_assert_null(rt.ns);
	cr_assert_eq(match("POST", "/apis/coordination.k8s.io/v1/namespaces/ns/leases", false), 0);
	cr_assert_eq(rt.verb, VERB_CREATE);
	cr_assert_eq(match("DELETE", "/apis/coordination.k8s.io/v1/namespaces/ns/leases", false), 0);
	cr_assert_eq(rt.verb, VERB_DELETE_COLLECTION);
	cr_assert_eq(match("PUT", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/n1", false), 0);
	cr_assert_eq(rt.verb, VERB_UPDATE);
	cr_assert_str_eq(rt.name, "n1");
	cr_assert_eq(match("PATCH", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/n1", false), 0);
	cr_assert_eq(rt.verb, VERB_PATCH);
	cr_assert_eq(match("DELETE", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/n1", false), 0);
	cr_assert_eq(rt.verb, VERB_DELETE);
	/* No status subresource, no lease under the core path, no core kind under the group. */
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/n1/status", false), -ENOENT);
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1/namespaces/ns/status", false), -ENOENT);
	cr_assert_eq(match("GET", "/api/v1/namespaces/ns/leases", false), -ENOENT);
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1/namespaces/ns/pods", false), -ENOENT);
	cr_assert_eq(match("GET", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/n1", false), 0);
	cr_assert_eq(rt.verb, VERB_GET);
	cr_assert_eq(match("GET", "/api/v1/namespaces/ns/status", false), 0, "core namespace subresource unchanged");
	cr_assert_str_eq(rt.res->name, "namespaces");
}

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

Test(lease, schema_strict)
{
	const struct resource *r = resource_by_name("leases");
	_cleanup_json_ json_object *ok = parse("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"holderIdentity\":\"n1\","
					       "\"leaseDurationSeconds\":40,\"renewTime\":\"2026-11-28T10:00:00.000000Z\","
					       "\"acquireTime\":\"2026-11-28T09:00:00.000000Z\",\"leaseTransitions\":1,"
					       "\"strategy\":\"OldestEmulationVersion\",\"preferredHolder\":\"n2\"}}");
	_cleanup_json_ json_object *bad = parse("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"holder\":\"n1\"}}");
	_cleanup_json_ json_object *wrong = parse("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"leaseDurationSeconds\":\"x\"}}");
	char *err = NULL;

	cr_assert_eq(schema_check(r, ok, 1, &err), 0, "%s", err ? err : "");
	cr_assert_lt(schema_check(r, bad, 1, &err), 0);
	cr_assert_not_null(strstr(err, "unknown field \"spec.holder\""), "%s", err);
	free(err);
	err = NULL;
	cr_assert_lt(schema_check(r, wrong, 1, &err), 0);
	free(err);
}

static char *messages(const char *json)
{
	_cleanup_json_ json_object *obj = parse(json);
	struct field_errors errs = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	validate_object(resource_by_name("leases"), obj, NULL, NULL, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(f, "%s%s", i ? "|" : "", errs.v[i].message);
	fclose(f);
	field_errors_free(&errs);
	return out;
}

static void assert_messages(const char *json, const char *want)
{
	char *got = messages(json);

	cr_assert_str_eq(got, want);
	free(got);
}

Test(lease, validation)
{
	assert_messages("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"kube-node-lease\"},\"spec\":{\"holderIdentity\":"
			"\"n1\",\"leaseDurationSeconds\":40}}",
			"");
	assert_messages("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"default\"},\"spec\":{\"leaseDurationSeconds\":0,"
			"\"leaseTransitions\":-1}}",
			"spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0|"
			"spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0");
	assert_messages("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"default\"},\"spec\":{\"strategy\":\"Newest\"}}",
			"spec.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\"");
	assert_messages("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"default\"},\"spec\":{\"preferredHolder\":\"a\"}}",
			"spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined");
}

Test(lease, table_columns)
{
	_cleanup_json_ json_object *obj = parse("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"kube-node-lease\","
						"\"creationTimestamp\":\"2026-11-28T10:00:00Z\",\"resourceVersion\":\"5\"},"
						"\"spec\":{\"holderIdentity\":\"node-a\"}}");
	_cleanup_json_ json_object *t = table_new(resource_by_name("leases"), &obj, 1, true, NULL, 1795860120);
	json_object *cols = json_object_object_get(t, "columnDefinitions");
	json_object *cells = json_object_object_get(json_object_array_get_idx(json_object_object_get(t, "rows"), 0),
						    "cells");

	cr_assert_eq(json_object_array_length(cols), 3);
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(cols, 1), "name"), "Holder");
	cr_assert_str_eq(json_object_to_json_string_ext(cells, JSON_C_TO_STRING_PLAIN), "[\"n1\",\"node-a\",\"2m\"]");
}
