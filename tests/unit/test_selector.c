/* Label and field selectors: parsing (with Kubernetes' error texts) and matching. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "api/selector.h"

static json_object *labels(const char *json)
{
	return json ? json_tokener_parse(json) : NULL;
}

static bool label_match(const char *sel, const char *json)
{
	struct label_selector *s = NULL;
	char *err = NULL;
	json_object *l = labels(json);
	bool m;

	cr_assert_eq(label_selector_parse(sel, &s, &err), 0, "'%s' should parse: %s", sel, err ? err : "");
	m = label_selector_matches(s, l);
	label_selector_free(s);
	json_object_put(l);
	return m;
}

struct match_case {
	const char *sel;
	const char *labels;
	bool match;
};

Test(label_selector, matches)
{
	static const struct match_case cases[] = {
		{ "", "{}", true },
		{ "", NULL, true },
		{ "app=web", "{\"app\":\"web\"}", true },
		{ "app==web", "{\"app\":\"web\"}", true },
		{ "app=web", "{\"app\":\"db\"}", false },
		{ "app=web", "{}", false },
		{ "app!=web", "{}", true },
		{ "app!=web", "{\"app\":\"web\"}", false },
		{ "app in (x,z),!foo", "{\"app\":\"z\"}", true },
		{ "app in (x,z),!foo", "{\"app\":\"z\",\"foo\":\"\"}", false },
		{ "app in (x,z)", "{\"app\":\"y\"}", false },
		{ "app notin (x,z)", "{\"app\":\"y\"}", true },
		{ "app notin (x,z)", "{}", true },
		{ "app notin (x,z)", "{\"app\":\"x\"}", false },
		{ "app", "{\"app\":\"\"}", true },
		{ "app", "{\"other\":\"1\"}", false },
		{ "!app", "{\"other\":\"1\"}", true },
		{ " app = web , tier in ( a , b ) ", "{\"app\":\"web\",\"tier\":\"b\"}", true },
		{ "example.com/role=db-1_x.y", "{\"example.com/role\":\"db-1_x.y\"}", true },
		{ "app=", "{\"app\":\"\"}", true },
		{ "app in ()", "{\"app\":\"\"}", true },
		{ "app in (in,notin)", "{\"app\":\"notin\"}", true },
		{ "n>5", "{\"n\":\"7\"}", true },
		{ "n>5", "{\"n\":\"3\"}", false },
		{ "n<5", "{\"n\":\"3\"}", true },
		{ "n<5", "{\"n\":\"x\"}", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(label_match(cases[i].sel, cases[i].labels), cases[i].match, "'%s' on %s: want %d",
			     cases[i].sel, cases[i].labels ? cases[i].labels : "null", cases[i].match);
}

struct error_case {
	const char *sel;
	const char *err;
};

Test(label_selector, errors_in_kubernetes_words)
{
	static const struct error_case cases[] = {
		{ "app in x", "unable to parse requirement: found 'x' expected: '('" },
		{ "app in (x", "unable to parse requirement: found '', expected: ',' or ')'" },
		{ "app=x y", "found 'y', expected: ',' or 'end of string'" },
		{ "app=x,", "found '', expected: identifier after ','" },
		{ "=x", "found '=', expected: !, identifier, or 'end of string'" },
		{ "app x", "unable to parse requirement: found 'x', expected: in, notin, =, ==, !=, gt, lt" },
		{ "!", "unable to parse requirement: found '', expected: identifier" },
		{ "app=(x)", "unable to parse requirement: found '(', expected: identifier" },
		{ "n>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, "
			 "the value must be an integer" },
		{ "-app=x", "unable to parse requirement: <nil>: Invalid value: \"-app\": name part must consist of "
			    "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
			    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
			    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
		{ "app=x_", "unable to parse requirement: values[0]: Invalid value: \"x_\": a valid label must be an "
			    "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end "
			    "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
			    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
		{ "a/b/c", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must "
			   "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
			   "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
			   "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
			   "prefix and '/' (e.g. 'example.com/MyName')" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct label_selector *s = NULL;
		char *err = NULL;

		cr_expect_eq(label_selector_parse(cases[i].sel, &s, &err), -EINVAL, "'%s' should fail", cases[i].sel);
		cr_expect_null(s);
		cr_expect_str_eq(err ? err : "(null)", cases[i].err, "'%s'", cases[i].sel);
		free(err);
	}
}

Test(label_selector, from_map)
{
	json_object *map = json_tokener_parse("{\"app\":\"web\",\"tier\":\"fe\"}");
	json_object *yes = json_tokener_parse("{\"app\":\"web\",\"tier\":\"fe\",\"x\":\"y\"}");
	json_object *no = json_tokener_parse("{\"app\":\"web\"}");
	struct label_selector *s = NULL, *empty = NULL;

	cr_assert_eq(label_selector_from_map(map, &s), 0);
	cr_expect_not(label_selector_empty(s));
	cr_expect(label_selector_matches(s, yes));
	cr_expect_not(label_selector_matches(s, no));
	cr_expect_not(label_selector_matches(s, NULL));
	cr_assert_eq(label_selector_from_map(NULL, &empty), 0);
	cr_expect(label_selector_empty(empty));
	cr_expect(label_selector_matches(empty, no));
	label_selector_free(s);
	label_selector_free(empty);
	json_object_put(map);
	json_object_put(yes);
	json_object_put(no);
}

static json_object *pod(void)
{
	return json_tokener_parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
				  "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}");
}

static bool field_match(const char *sel, const char *resource, json_object *obj)
{
	struct field_selector *s = NULL;
	char *err = NULL;
	bool m;

	cr_assert_eq(field_selector_parse(sel, resource, &s, &err), 0, "'%s' should parse: %s", sel,
		     err ? err : "");
	m = field_selector_matches(s, obj);
	field_selector_free(s);
	return m;
}

Test(field_selector, matches)
{
	json_object *p = pod();
	json_object *node = json_tokener_parse("{\"metadata\":{\"name\":\"n1\"},\"spec\":{}}");
	json_object *ev = json_tokener_parse("{\"metadata\":{\"name\":\"e\",\"namespace\":\"ns\"},"
					     "\"involvedObject\":{\"name\":\"web\",\"uid\":\"u-1\"},"
					     "\"source\":{\"component\":\"kubelet\"}}");

	cr_expect(field_match("", "pods", p));
	cr_expect(field_match("metadata.name=web", "pods", p));
	cr_expect(field_match("metadata.name==web,spec.nodeName=n1", "pods", p));
	cr_expect_not(field_match("metadata.name=db", "pods", p));
	cr_expect(field_match("spec.nodeName!=n2", "pods", p));
	cr_expect_not(field_match("status.phase!=Running", "pods", p));
	cr_expect(field_match("spec.schedulerName=", "pods", p), "a missing field is the empty string");
	cr_expect(field_match("spec.unschedulable=false", "nodes", node), "a missing bool is false");
	cr_expect(field_match("involvedObject.name=web,involvedObject.uid=u-1,source=kubelet", "events", ev));
	cr_expect(field_match("metadata.name=a\\,b", "pods", p) == false);
	json_object_put(p);
	json_object_put(node);
	json_object_put(ev);
}

Test(field_selector, exact_and_escapes)
{
	struct field_selector *s = NULL;
	char *err = NULL;

	cr_assert_eq(field_selector_parse("metadata.name=a\\,b\\=c,spec.nodeName!=x", "pods", &s, &err), 0);
	cr_expect_str_eq(field_selector_exact(s, "metadata.name"), "a,b=c");
	cr_expect_null(field_selector_exact(s, "spec.nodeName"), "!= pins nothing");
	cr_expect_null(field_selector_exact(s, "metadata.namespace"));
	field_selector_free(s);
}

Test(field_selector, errors)
{
	static const struct { const char *sel, *resource, *err; } cases[] = {
		{ "spec.foo=x", "pods", "field label not supported: spec.foo" },
		{ "spec.nodeName=x", "services", "field label not supported: spec.nodeName" },
		{ "metadata.name", "pods", "invalid selector: 'metadata.name'; can't understand 'metadata.name'" },
		{ "metadata.name=a\\x", "pods", "invalid field selector: invalid escape sequence: \\x" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct field_selector *s = NULL;
		char *err = NULL;

		cr_expect_eq(field_selector_parse(cases[i].sel, cases[i].resource, &s, &err), -EINVAL);
		cr_expect_null(s);
		cr_expect_str_eq(err ? err : "(null)", cases[i].err);
		free(err);
	}
}
