/* Server-side apply, single manager: creation, merge by merge keys, untouched fields kept. */
#include <criterion/criterion.h>

#include "api/patch.h"

#include <skiff/json.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_object *J(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert(o, "test JSON does not parse: %s", s);
	return o;
}

static const char *S(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void check(const char *kind, const char *orig_s, const char *applied_s, const char *want_s)
{
	_cleanup_json_ json_object *orig = orig_s ? J(orig_s) : NULL, *applied = J(applied_s), *want = J(want_s);
	_cleanup_json_ json_object *got = NULL;
	char *err = NULL;
	int r = patch_apply(kind, orig, applied, &got, &err);

	cr_assert_eq(r, 0, "apply %s failed: %s", applied_s, err ? err : "?");
	cr_expect(json_object_equal(got, want), "apply %s onto %s:\n got  %s\n want %s", applied_s,
		  orig_s ? orig_s : "(none)", S(got), S(want));
	free(err);
}

Test(patch_apply, missing_object_becomes_the_applied_one)
{
	check("Pod", NULL,
	      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
	      "[{\"name\":\"a\",\"image\":\"x\"}]}}",
	      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
	      "[{\"name\":\"a\",\"image\":\"x\"}]}}");
}

Test(patch_apply, existing_object_merges_by_keys_and_keeps_the_rest)
{
	check("Pod",
	      "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"labels\":{\"a\":\"1\"}},\"spec\":{\"nodeName\":\"n1\","
	      "\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":80}]},{\"name\":\"b\"}]},"
	      "\"status\":{\"phase\":\"Running\"}}",
	      "{\"metadata\":{\"name\":\"p\",\"labels\":{\"b\":\"2\"}},\"spec\":{\"containers\":"
	      "[{\"name\":\"a\",\"image\":\"y\"}]}}",
	      "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"nodeName\":\"n1\","
	      "\"containers\":[{\"name\":\"a\",\"image\":\"y\",\"ports\":[{\"containerPort\":80}]},{\"name\":\"b\"}]},"
	      "\"status\":{\"phase\":\"Running\"}}");
}

Test(patch_apply, service_ports_by_port_and_atomic_lists_replaced)
{
	check("Service",
	      "{\"spec\":{\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"x\"},"
	      "\"ipFamilies\":[\"IPv4\"]}}",
	      "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":443}],\"ipFamilies\":[\"IPv6\"]}}",
	      "{\"spec\":{\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":443}],"
	      "\"selector\":{\"app\":\"x\"},\"ipFamilies\":[\"IPv6\"]}}");
}

Test(patch_apply, nulls_in_a_new_object_are_dropped)
{
	check("ConfigMap", NULL, "{\"metadata\":{\"name\":\"c\",\"labels\":null},\"data\":{\"k\":\"v\"}}",
	      "{\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"v\"}}");
}

Test(patch_apply, rejects_a_non_object)
{
	_cleanup_json_ json_object *applied = J("[1]");
	json_object *got = NULL;
	char *err = NULL;

	cr_assert_eq(patch_apply("Pod", NULL, applied, &got, &err), -EINVAL);
	cr_assert_null(got);
	cr_assert(err && strstr(err, "object"), "error: %s", err ? err : "(none)");
	free(err);
}
