/* YAML to JSON: scalar typing as sigs.k8s.io/yaml (go-yaml v2) does it, structure,
 * anchors and merge keys, and error messages that name the line. */
#include <criterion/criterion.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/yaml.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct yaml_case {
	const char *yaml, *json;
};

static const struct yaml_case cases[] = {
	/* YAML 1.1 booleans, nulls and quoted scalars */
	{ "[yes, no, on, off, y, n, true, False, TRUE, NO]",
	  "[true,false,true,false,true,false,true,false,true,false]" },
	{ "[~, null, Null, NULL, '', \"\"]", "[null,null,null,null,\"\",\"\"]" },
	{ "a:\nb: ~", "{\"a\":null,\"b\":null}" },
	{ "['yes', \"no\", 'true', \"1\", '012', \"null\"]", "[\"yes\",\"no\",\"true\",\"1\",\"012\",\"null\"]" },
	/* numbers: Go's base-0 ints, YAML 1.1 octal, underscores, floats, integral floats as ints */
	{ "[0, -2, +3, 012, 0o17, 0x1F, 0b101, 1_000, 08]", "[0,-2,3,10,15,31,5,1000,8]" },
	{ "[1.5, -0.25, .5, 1e3, 1.0, 2.5e-3]", "[1.5,-0.25,0.5,1000,1,0.0025]" },
	{ "[9223372036854775807, -9223372036854775808]", "[9223372036854775807,-9223372036854775808]" },
	/* what only looks like a number or bool stays a string */
	{ "[1.2.3, 2001-12-14, 0x, 1:2, abc, yess, -, 10Mi, 500m, v1]",
	  "[\"1.2.3\",\"2001-12-14\",\"0x\",\"1:2\",\"abc\",\"yess\",\"-\",\"10Mi\",\"500m\",\"v1\"]" },
	/* explicit tags */
	{ "[!!str 123, !!str true, !!int '7', !!float 1, !!bool 'yes', !!null '', !custom 5]",
	  "[\"123\",\"true\",7,1,true,null,\"5\"]" },
	/* keys: numbers and bools become their text */
	{ "1: a\n2.5: b\ntrue: c\noff: d\n\"3\": e", "{\"1\":\"a\",\"2.5\":\"b\",\"true\":\"c\",\"false\":\"d\",\"3\":\"e\"}" },
	/* block scalars */
	{ "s: |\n  line1\n  line2\nf: >\n  one\n  two\nk: |-\n  kept\n", "{\"s\":\"line1\\nline2\\n\",\"f\":\"one two\\n\",\"k\":\"kept\"}" },
	{ "s: \"a\\tb\\u00e9\"\np: plain\n  folded", "{\"s\":\"a\\tb\\u00e9\",\"p\":\"plain folded\"}" },
	/* anchors, aliases and merge keys (explicit keys win) */
	{ "a: &x {b: 1, l: [1, 2]}\nc: *x\nd: &s hello\ne: *s", "{\"a\":{\"b\":1,\"l\":[1,2]},\"c\":{\"b\":1,\"l\":[1,2]},\"d\":\"hello\",\"e\":\"hello\"}" },
	{ "base: &b {p: 1, q: 2}\nd:\n  q: 3\n  <<: *b\n  r: 4", "{\"base\":{\"p\":1,\"q\":2},\"d\":{\"q\":3,\"p\":1,\"r\":4}}" },
	{ "m1: &m1 {a: 1}\nm2: &m2 {a: 2, b: 2}\nd:\n  <<: [*m1, *m2]", "{\"m1\":{\"a\":1},\"m2\":{\"a\":2,\"b\":2},\"d\":{\"a\":1,\"b\":2}}" },
	/* a Kubernetes manifest, comments, the first of several documents */
	{ "# pod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  containers:\n"
	  "  - name: web\n    image: nginx:1.25\n    ports:\n    - containerPort: 80\n    env:\n    - {name: DEBUG, value: \"true\"}\n"
	  "---\nkind: Other\n",
	  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
	  "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}],"
	  "\"env\":[{\"name\":\"DEBUG\",\"value\":\"true\"}]}]}}" },
	{ "{\"json\": [1, \"two\", {\"three\": 3.5}]}", "{\"json\":[1,\"two\",{\"three\":3.5}]}" },
	{ "plain scalar", "\"plain scalar\"" },
	{ "[]", "[]" },
	{ "{}", "{}" },
};

static const struct yaml_case error_cases[] = {
	{ "a: 1\nb: 2\nc: d: e\n", "error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context" },
	{ "a: b: c", "error converting YAML to JSON: yaml: mapping values are not allowed in this context" },
	{ "a:\n\tb: 1\n", "error converting YAML to JSON: yaml: line 2: found character that cannot start any token" },
	{ "a: [1, 2\n", "error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'" },
	/* go-yaml prints parser errors with libyaml's 0-based line: kubectl users see "line 4". */
	{ "spec:\n  containers:\n  - name: a\n    image: nginx\n   ports: 1\n",
	  "error converting YAML to JSON: yaml: line 4: did not find expected key" },
	{ "a: 1\nb: *nope\n", "error converting YAML to JSON: yaml: line 2: unknown anchor 'nope' referenced" },
	{ "a: 1\n? {k: v}\n: 2\n", "error converting YAML to JSON: yaml: line 2: invalid map key: a mapping cannot be a key" },
	{ "? [1]\n: 2\n", "invalid map key: a sequence cannot be a key" },
	{ "a: 1\n~: 2\n", "error converting YAML to JSON: yaml: line 2: invalid map key: null" },
	{ "a: &x [1]\n*x : 2\n", "line 2: invalid map key: an alias to a sequence cannot be a key" },
	{ "x: .inf\n", "error converting YAML to JSON: yaml: line 1: float value .inf cannot be represented in JSON" },
	{ "x: !!int abc\n", "error converting YAML to JSON: yaml: line 1: cannot decode !!str `abc` as a !!int" },
	{ "d:\n  <<: 5\n", "line 2: map merge requires map or sequence of maps as the value" },
};

static json_object *J(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert(o || strcmp(s, "null") == 0, "test JSON does not parse: %s", s);
	return o;
}

static const char *S(json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

Test(yaml, typing_and_structure)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct yaml_case *c = &cases[i];
		_cleanup_json_ json_object *want = J(c->json), *got = NULL;
		char *err = NULL;
		int r = yaml_to_json(c->yaml, strlen(c->yaml), &got, &err);

		cr_assert_eq(r, 0, "yaml %zu (%s) failed: %s", i, c->yaml, err ? err : "?");
		cr_expect(json_object_equal(got, want), "yaml %zu:\n%s\n got  %s\n want %s", i, c->yaml, S(got), S(want));
	}
}

Test(yaml, integer_types_are_kept)
{
	_cleanup_json_ json_object *got = NULL;
	char *err = NULL;

	cr_assert_eq(yaml_to_json("[80, 1.0, 1.5, 18446744073709551615]", 36, &got, &err), 0);
	cr_expect(json_object_is_type(json_object_array_get_idx(got, 0), json_type_int));
	cr_expect(json_object_is_type(json_object_array_get_idx(got, 1), json_type_int), "1.0 prints as Go's 1");
	cr_expect(json_object_is_type(json_object_array_get_idx(got, 2), json_type_double));
	cr_expect_eq(json_object_get_uint64(json_object_array_get_idx(got, 3)), UINT64_MAX);
}

Test(yaml, empty_and_null_documents_are_null)
{
	const char *docs[] = { "", "# only a comment\n", "---\n", "~", "null\n" };

	for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
		json_object *got = (json_object *)1;
		char *err = NULL;

		cr_assert_eq(yaml_to_json(docs[i], strlen(docs[i]), &got, &err), 0, "\"%s\": %s", docs[i], err ? err : "");
		cr_expect_null(got, "\"%s\" gave %s", docs[i], S(got));
	}
}

Test(yaml, errors_name_the_line)
{
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
		const struct yaml_case *c = &error_cases[i];
		json_object *got = NULL;
		char *err = NULL;
		int r = yaml_to_json(c->yaml, strlen(c->yaml), &got, &err);

		cr_expect_eq(r, -EINVAL, "yaml %zu (%s): expected an error, got %d (%s)", i, c->yaml, r, S(got));
		cr_expect(err && strstr(err, c->json), "yaml %zu:\n%s\nerror \"%s\" lacks \"%s\"", i, c->yaml,
			  err ? err : "(none)", c->json);
		free(err);
		json_object_put(got);
	}
}

/* A "billion laughs" document must fail fast instead of exhausting memory. */
Test(yaml, alias_bombs_are_refused)
{
	_cleanup_free_ char *doc = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);
	json_object *got = NULL;
	char *err = NULL;

	cr_assert(f);
	fprintf(f, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 12; i++)
		fprintf(f, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1,
			i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	fclose(f);
	cr_assert_eq(yaml_to_json(doc, len, &got, &err), -EINVAL);
	cr_expect(err && strstr(err, "excessive aliasing"), "error: %s", err ? err : "(none)");
	free(err);
}

Test(yaml, deep_nesting_is_refused)
{
	size_t depth = 5000;
	_cleanup_free_ char *doc = malloc(2 * depth + 1);
	json_object *got = NULL;
	char *err = NULL;

	cr_assert(doc);
	memset(doc, '[', depth);
	memset(doc + depth, ']', depth);
	doc[2 * depth] = '\0';
	cr_assert_eq(yaml_to_json(doc, 2 * depth, &got, &err), -EINVAL);
	cr_expect(err && strstr(err, "max depth"), "error: %s", err ? err : "(none)");
	free(err);
}
