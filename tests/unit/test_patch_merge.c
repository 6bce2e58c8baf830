/* RFC 7386 merge patch: the RFC's appendix A examples and kubectl's label/scale patches. */
#include <criterion/criterion.h>

#include "api/patch.h"

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include <stdlib.h>
#include <string.h>

struct merge_case {
	const char *orig, *patch, *want;
};

/* RFC 7386 appendix A, then kubectl's own patches. */
static const struct merge_case cases[] = {
	{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
	{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
	{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
	{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
	{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
	{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
	{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
	{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
	{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
	{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
	{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
	{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
	{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
	{ "{\"metadata\":{\"labels\":{\"app\":\"x\",\"k\":\"v\"}}}", "{\"metadata\":{\"labels\":{\"k\":null,\"n\":\"1\"}}}",
	  "{\"metadata\":{\"labels\":{\"app\":\"x\",\"n\":\"1\"}}}" },
	{ "{\"spec\":{\"replicas\":1,\"selector\":{\"app\":\"x\"}}}", "{\"spec\":{\"replicas\":3}}",
	  "{\"spec\":{\"replicas\":3,\"selector\":{\"app\":\"x\"}}}" },
};

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

Test(patch_merge, rfc7386_examples)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *orig = J(cases[i].orig), *patch = J(cases[i].patch);
		_cleanup_json_ json_object *want = J(cases[i].want), *got = NULL;
		_cleanup_free_ char *before = strdup(S(orig));
		char *err = NULL;

		cr_assert_eq(patch_merge(orig, patch, &got, &err), 0, "case %zu failed", i);
		cr_expect(json_object_equal(got, want), "case %zu: %s + %s:\n got  %s\n want %s", i, cases[i].orig,
			  cases[i].patch, S(got), S(want));
		cr_expect_str_eq(S(orig), before, "case %zu modified the original", i);
	}
}

Test(patch_merge, null_patch_gives_null)
{
	_cleanup_json_ json_object *orig = J("{\"a\":1}");
	json_object *got = orig;
	char *err = NULL;

	cr_assert_eq(patch_merge(orig, NULL, &got, &err), 0);
	cr_expect_null(got);
}
