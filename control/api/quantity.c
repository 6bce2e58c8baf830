/* Kubernetes resource.Quantity syntax (see quantity.h): sign, digits, fraction, then a
 * decimal SI, binary SI or decimal-exponent suffix; scaled exactly with 128-bit integers. */
#include "api/quantity.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

/* A parsed quantity: value = sign * digits * 10^exp10 * 1024^pow1024. */
struct quantity {
	bool negative;
	unsigned __int128 digits; /* up to 19 significant digits */
	bool sticky;              /* non-zero digits were dropped past the 19th */
	int exp10;
	int pow1024;
};

static int suffix_parse(const char *s, struct quantity *q)
{
	static const struct { const char *name; int exp10, pow1024; } table[] = {
		{ "", 0, 0 },   { "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 },  { "k", 3, 0 },
		{ "M", 6, 0 },  { "G", 9, 0 },  { "T", 12, 0 }, { "P", 15, 0 },  { "E", 18, 0 },
		{ "Ki", 0, 1 }, { "Mi", 0, 2 }, { "Gi", 0, 3 }, { "Ti", 0, 4 }, { "Pi", 0, 5 },
		{ "Ei", 0, 6 },
	};
	const char *p;
	long e = 0;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(s, table[i].name) == 0) {
			q->exp10 += table[i].exp10;
			q->pow1024 = table[i].pow1024;
			return 0;
		}
	}
	if (*s != 'e' && *s != 'E')
		return -EINVAL;
	p = s + 1;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		e = e * 10 + (*p - '0');
		if (e > 1000)
			return -ERANGE;
	}
	if (*p)
		return -EINVAL;
	q->exp10 += s[1] == '-' ? (int)-e : (int)e;
	return 0;
}

/* Appends one mantissa digit, keeping at most 19 significant ones. */
static void digit_push(struct quantity *q, int d, int *ndigits, bool fraction)
{
	if (*ndigits == 0 && d == 0) {
		if (fraction)
			q->exp10--;
		return;
	}
	if (*ndigits >= 19) {
		if (d)
			q->sticky = true;
		if (!fraction)
			q->exp10++;
		return;
	}
	q->digits = q->digits * 10 + (unsigned)d;
	(*ndigits)++;
	if (fraction)
		q->exp10--;
}

static int quantity_parse(const char *s, struct quantity *q)
{
	const char *p = s;
	int ndigits = 0, seen = 0;

	memset(q, 0, sizeof(*q));
	if (!s || !*s)
		return -EINVAL;
	if (*p == '+' || *p == '-')
		q->negative = *p++ == '-';
	for (; isdigit((unsigned char)*p); p++, seen++)
		digit_push(q, *p - '0', &ndigits, false);
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++, seen++)
			digit_push(q, *p - '0', &ndigits, true);
	if (!seen)
		return -EINVAL;
	return suffix_parse(p, q);
}

/* value * 10^scale, rounded away from zero, into an int64. */
static int quantity_scale(const struct quantity *q, int scale, int64_t *ret)
{
	unsigned __int128 v = q->digits;
	const unsigned __int128 max = (unsigned __int128)INT64_MAX;
	int e = q->exp10 + scale;
	bool inexact = q->sticky;

	/* At most 10^19 * 2^60: fits, and exponents below may still bring it down. */
	for (int i = 0; i < q->pow1024; i++)
		v *= 1024;
	for (; e > 0 && v; e--) {
		v *= 10;
		if (v > max)
			return -ERANGE;
	}
	for (; e < 0 && v; e++) {
		if (v % 10)
			inexact = true;
		v /= 10;
	}
	if (inexact && (q->digits || q->sticky))
		v++;
	if (v > max)
		return -ERANGE;
	*ret = q->negative ? -(int64_t)v : (int64_t)v;
	return 0;
}

int quantity_parse_milli(const char *s, int64_t *ret_milli)
{
	struct quantity q;
	int r = quantity_parse(s, &q);

	if (r < 0)
		return r;
	return quantity_scale(&q, 3, ret_milli);
}

int quantity_parse_value(const char *s, int64_t *ret_value)
{
	struct quantity q;
	int r = quantity_parse(s, &q);

	if (r < 0)
		return r;
	return quantity_scale(&q, 0, ret_value);
}

bool quantity_valid(const char *s)
{
	struct quantity q;

	return quantity_parse(s, &q) == 0;
}
