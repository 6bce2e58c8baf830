/* RFC 6902 JSON patch: the six operations, pointer escapes, "-" append, and the errors
 * for bad paths, bad operations and failed tests. */
#include <criterion/criterion.h>

#include "api/patch.h"

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct jp_case {
	const char *doc, *ops, *want; /* want: the result, or a piece of the error message */
};

static const struct jp_case ok_cases[] = {
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]", "{\"a\":1,\"b\":2}" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":{\"x\":null}}]", "{\"a\":{\"x\":null}}" },
	{ "{\"l\":[1,3]}", "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":2}]", "{\"l\":[1,2,3]}" },
	{ "{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/0\",\"value\":0}]", "{\"l\":[0,1,2]}" },
	{ "{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/2\",\"value\":3}]", "{\"l\":[1,2,3]}" },
	{ "{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":[2]}]", "{\"l\":[1,[2]]}" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":[1]}]", "[1]" },
	{ "{\"a/b\":1,\"m~n\":2}", "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":3},"
	  "{\"op\":\"remove\",\"path\":\"/m~0n\"}]", "{\"a/b\":3}" },
	{ "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"x\"}}}",
	  "[{\"op\":\"remove\",\"path\":\"/metadata/labels/app.kubernetes.io~1name\"}]", "{\"metadata\":{\"labels\":{}}}" },
	{ "{\"l\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/l/1\"}]", "{\"l\":[1,3]}" },
	{ "{\"l\":[1,2,3]}", "[{\"op\":\"replace\",\"path\":\"/l/0\",\"value\":9}]", "{\"l\":[9,2,3]}" },
	{ "{\"a\":{\"b\":1},\"c\":{}}", "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/c/d\"}]",
	  "{\"a\":{},\"c\":{\"d\":1}}" },
	{ "{\"l\":[1,2,3]}", "[{\"op\":\"move\",\"from\":\"/l/0\",\"path\":\"/l/-\"}]", "{\"l\":[2,3,1]}" },
	{ "{\"a\":{\"b\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},"
	  "{\"op\":\"add\",\"path\":\"/c/b/-\",\"value\":2}]", "{\"a\":{\"b\":[1]},\"c\":{\"b\":[1,2]}}" },
	{ "{\"a\":{\"n\":1,\"l\":[\"x\"]}}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":{\"l\":[\"x\"],\"n\":1.0}}]",
	  "{\"a\":{\"n\":1,\"l\":[\"x\"]}}" },
	{ "{\"a\":null}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":null}]", "{\"a\":null}" },
	{ "{\"spec\":{\"replicas\":1}}", "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":1},"
	  "{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":5}]", "{\"spec\":{\"replicas\":5}}" },
	{ "{\"a\":1}", "[]", "{\"a\":1}" },
};

static const struct jp_case error_cases[] = {
	{ "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", "operation 0 (remove /b): path \"/b\" does not exist" },
	{ "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", "path \"/b\" does not exist" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]", "\"x\" does not exist" },
	{ "{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/5\",\"value\":1}]", "out of range" },
	{ "{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/01\",\"value\":1}]", "out of range" },
	{ "{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/-\"}]", "does not exist" },
	{ "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", "test failed: value at \"/a\" is 1, not 2" },
	{ "{\"a\":\"1\"}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1}]", "test failed" },
	{ "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/b\",\"value\":1}]", "does not exist" },
	{ "{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", "unknown op \"frobnicate\"" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", "missing \"value\"" },
	{ "{\"a\":1}", "[{\"op\":\"move\",\"path\":\"/b\"}]", "missing \"from\"" },
	{ "{\"a\":{}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]", "into its own child" },
	{ "{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/z\",\"path\":\"/b\"}]", "from \"/z\" does not exist" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]", "bad '~' escape" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", "is not a JSON pointer" },
	{ "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", "cannot remove the whole document" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", "parent is not an object or array" },
	{ "{\"a\":1}", "[{\"path\":\"/a\"}]", "operation 0 has no \"op\"" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"value\":1}]", "has no \"path\"" },
	{ "{\"a\":1}", "[1]", "not a JSON object" },
	{ "{\"a\":1}", "{\"op\":\"add\"}", "must be a JSON array" },
	{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},{\"op\":\"remove\",\"path\":\"/c\"}]",
	  "operation 1 (remove /c)" },
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

Test(patch_json, operations)
{
	for (size_t i = 0; i < ELEMENTSOF(ok_cases); i++) {
		const struct jp_case *c = &ok_cases[i];
		_cleanup_json_ json_object *doc = J(c->doc), *ops = J(c->ops), *want = J(c->want), *got = NULL;
		_cleanup_free_ char *before = strdup(S(doc));
		char *err = NULL;

		cr_assert_eq(patch_json(doc, ops, &got, &err), 0, "%s on %s failed: %s", c->ops, c->doc, err ? err : "?");
		cr_expect(json_object_equal(got, want), "%s on %s:\n got  %s\n want %s", c->ops, c->doc, S(got), S(want));
		cr_expect_str_eq(S(doc), before, "%s modified the original", c->ops);
	}
}

Test(patch_json, errors)
{
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
		const struct jp_case *c = &error_cases[i];
		_cleanup_json_ json_object *doc = J(c->doc), *ops = J(c->ops);
		json_object *got = NULL;
		char *err = NULL;
		int r = patch_json(doc, ops, &got, &err);

		cr_expect_eq(r, -EINVAL, "%s on %s: expected an error, got %d", c->ops, c->doc, r);
		cr_expect_null(got, "%s: a result despite the error", c->ops);
		cr_expect(err && strstr(err, c->want), "%s: error \"%s\" lacks \"%s\"", c->ops, err ? err : "(none)",
			  c->want);
		free(err);
	}
}
