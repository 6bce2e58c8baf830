/* Kubernetes' name rules (k8s.io/apimachinery/pkg/util/validation): DNS-1123 labels and
 * subdomains, DNS-1035 labels, qualified names, label values, IANA port names. */
#include "api/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h> /* ELEMENTSOF */

#define SUBDOMAIN_MSG                                                                                     \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and " \
	"must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " \
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_MSG                                                                                            \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start " \
	"and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "  \
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define DNS1035_MSG                                                                                      \
	"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "      \
	"alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', " \
	"regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QUALIFIED_MSG                                                                                        \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric " \
	"character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "                  \
	"'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                                                     \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and " \
	"must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "  \
	"regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static void msg_add(struct name_msgs *m, const char *prefix, const char *text)
{
	if (m->n >= ELEMENTSOF(m->v))
		return;
	snprintf(m->v[m->n++], sizeof(m->v[0]), "%s%s", prefix, text);
}

/* validation.MaxLenError */
static void msg_max_len(struct name_msgs *m, const char *prefix, int max)
{
	char text[64];

	snprintf(text, sizeof(text), "must be no more than %d characters", max);
	msg_add(m, prefix, text);
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..len), or with first_alpha [a-z] first. */
static bool match_label(const char *s, size_t len, bool first_alpha)
{
	if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	if (first_alpha && !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool match_subdomain(const char *s)
{
	const char *p = s;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (!match_label(p, len, false))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool match_qualified_part(const char *s, size_t len)
{
	if (len == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

void name_check_dns1123_subdomain(const char *s, struct name_msgs *m)
{
	m->n = 0;
	if (strlen(s) > 253)
		msg_max_len(m, "", 253);
	if (!match_subdomain(s))
		msg_add(m, "", SUBDOMAIN_MSG);
}

void name_check_dns1123_label(const char *s, struct name_msgs *m)
{
	m->n = 0;
	if (strlen(s) > 63)
		msg_max_len(m, "", 63);
	if (!match_label(s, strlen(s), false))
		msg_add(m, "", LABEL_MSG);
}

void name_check_dns1035_label(const char *s, struct name_msgs *m)
{
	m->n = 0;
	if (strlen(s) > 63)
		msg_max_len(m, "", 63);
	if (!match_label(s, strlen(s), true))
		msg_add(m, "", DNS1035_MSG);
}

void name_check_qualified(const char *s, struct name_msgs *m)
{
	const char *slash = strchr(s, '/');
	const char *name = slash ? slash + 1 : s;

	m->n = 0;
	if (slash && strchr(name, '/')) {
		msg_add(m, "", "a qualified name " QUALIFIED_MSG
			" with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
		return;
	}
	if (slash) {
		char *prefix = strndup(s, (size_t)(slash - s));
		struct name_msgs pm;

		if (!prefix)
			return;
		if (!*prefix) {
			msg_add(m, "prefix part ", "must be non-empty");
		} else {
			name_check_dns1123_subdomain(prefix, &pm);
			for (size_t i = 0; i < pm.n; i++)
				msg_add(m, "prefix part ", pm.v[i]);
		}
		free(prefix);
	}
	if (!*name)
		msg_add(m, "name part ", "must be non-empty");
	else if (strlen(name) > 63)
		msg_max_len(m, "name part ", 63);
	if (!match_qualified_part(name, strlen(name)))
		msg_add(m, "name part ", QUALIFIED_MSG);
}

void name_check_label_value(const char *s, struct name_msgs *m)
{
	m->n = 0;
	if (strlen(s) > 63)
		msg_max_len(m, "", 63);
	if (*s && !match_qualified_part(s, strlen(s)))
		msg_add(m, "", LABEL_VALUE_MSG);
}

void name_check_port_name(const char *s, struct name_msgs *m)
{
	size_t len = strlen(s);
	bool charset = len > 0, letter = false;

	m->n = 0;
	if (len > 15)
		msg_max_len(m, "", 15);
	for (size_t i = 0; i < len; i++) {
		charset &= is_lower_alnum(s[i]) || s[i] == '-';
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	if (!charset)
		msg_add(m, "", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
	if (!letter)
		msg_add(m, "", "must contain at least one letter (a-z)");
	if (strstr(s, "--"))
		msg_add(m, "", "must not contain consecutive hyphens");
	if (len > 0 && (s[0] == '-' || s[len - 1] == '-'))
		msg_add(m, "", "must not begin or end with a hyphen");
}

char *name_msgs_join(const struct name_msgs *m)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < m->n; i++)
		len += strlen(m->v[i]) + 2;
	out = malloc(len);
	if (!out)
		return NULL;
	*out = '\0';
	for (size_t i = 0; i < m->n; i++) {
		if (i)
			strcat(out, "; ");
		strcat(out, m->v[i]);
	}
	return out;
}

/* The regex message first: it is the one that tells how to fix the name. */
const char *validate_dns1123_subdomain(const char *s)
{
	if (!match_subdomain(s))
		return SUBDOMAIN_MSG;
	return strlen(s) > 253 ? "must be no more than 253 characters" : NULL;
}

const char *validate_dns1123_label(const char *s)
{
	if (!match_label(s, strlen(s), false))
		return LABEL_MSG;
	return strlen(s) > 63 ? "must be no more than 63 characters" : NULL;
}
