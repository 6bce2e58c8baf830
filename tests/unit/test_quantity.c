/* Quantity parsing: Kubernetes' syntax, scaling to milli and whole units, rejects. */
#include <criterion/criterion.h>
#include <errno.h>

#include "api/quantity.h"

struct milli_case {
	const char *in;
	int64_t milli;
};

Test(quantity, parses_to_milli)
{
	static const struct milli_case cases[] = {
		{ "0", 0 },		 { "1", 1000 },		  { "100m", 100 },	{ "1.5", 1500 },
		{ ".5", 500 },		 { "+2", 2000 },	  { "-2", -2000 },	{ "-0.5", -500 },
		{ "1k", 1000000 },	 { "2M", 2000000000 },	  { "1Ki", 1024000 },	{ "1Mi", 1048576000 },
		{ "0.5Ki", 512000 },	 { "1e3", 1000000 },	  { "1E3", 1000000 },	{ "1e-3", 1 },
		{ "1n", 1 },		 { "1u", 1 },		  { "1500u", 2 },	{ "0.0001", 1 },
		{ "250m", 250 },	 { "1.", 1000 },	  { "007", 7000 },	{ "1G", 1000000000000LL },
		{ "1Gi", 1073741824000LL }, { "12e+2", 1200000 }, { "0.000000000000000000000001", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -42;

		cr_expect_eq(quantity_parse_milli(cases[i].in, &v), 0, "%s should parse", cases[i].in);
		cr_expect_eq(v, cases[i].milli, "%s: got %lld milli, want %lld", cases[i].in, (long long)v,
			     (long long)cases[i].milli);
	}
}

Test(quantity, whole_units_round_up)
{
	static const struct milli_case cases[] = {
		{ "512Mi", 536870912 }, { "1Ei", 1152921504606846976LL }, { "100m", 1 }, { "1.2", 2 },
		{ "2", 2 },		{ "1E", 1000000000000000000LL },   { "0", 0 },	 { "-1.5", -2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -42;

		cr_expect_eq(quantity_parse_value(cases[i].in, &v), 0, "%s should parse", cases[i].in);
		cr_expect_eq(v, cases[i].milli, "%s: got %lld, want %lld", cases[i].in, (long long)v,
			     (long long)cases[i].milli);
	}
}

Test(quantity, rejects_bad_syntax)
{
	static const char *const bad[] = { "", "1.5.5", "12Mx", "e3", "abc", "1 ", " 1", "1ki", "1i", "+",
					   "-", "1e", "1e+", "Mi", "1Mi2", "1..5", "0x10", "1m1", "--1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = 77;

		cr_expect_eq(quantity_parse_milli(bad[i], &v), -EINVAL, "\"%s\" should be rejected", bad[i]);
		cr_expect_eq(v, 77, "\"%s\": output touched on failure", bad[i]);
		cr_expect_not(quantity_valid(bad[i]), "\"%s\" should not be valid", bad[i]);
	}
	cr_expect_not(quantity_valid(NULL));
}

Test(quantity, out_of_range)
{
	int64_t v;

	cr_expect_eq(quantity_parse_milli("1Ei", &v), -ERANGE);
	cr_expect_eq(quantity_parse_milli("99999999999999999999", &v), -ERANGE);
	cr_expect_eq(quantity_parse_value("1e30", &v), -ERANGE);
	cr_expect(quantity_valid("1e30"), "syntax is fine even when it does not fit");
}
