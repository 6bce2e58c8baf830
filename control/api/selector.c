/* Label selectors with the grammar and error wording of k8s.io/apimachinery/pkg/labels
 * (a lexer, then a recursive-descent parser over its tokens), and their matching. */
#include "api/selector.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/validate.h"

enum token {
	TOK_ERROR,
	TOK_EOS,
	TOK_CLOSE,
	TOK_COMMA,
	TOK_NOT,
	TOK_DOUBLE_EQ,
	TOK_EQ,
	TOK_GT,
	TOK_ID,
	TOK_IN,
	TOK_LT,
	TOK_NEQ,
	TOK_NOTIN,
	TOK_OPEN,
};

enum op { OP_EQ, OP_NEQ, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOT_EXISTS, OP_GT, OP_LT };

struct requirement {
	char *key;
	enum op op;
	char **values;
	size_t n_values;
};

struct label_selector {
	struct requirement *v;
	size_t n;
};

struct lexeme {
	enum token tok;
	char *lit;
};

struct parser {
	struct lexeme *items;
	size_t n, pos;
	char *err;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return c && strchr("=!(),><", c);
}

/* One token from *p; the literal is allocated. */
static int lex_one(const char **p, struct lexeme *ret)
{
	static const struct { const char *s; enum token tok; } symbols[] = {
		{ "!=", TOK_NEQ }, { "==", TOK_DOUBLE_EQ }, { "!", TOK_NOT }, { "(", TOK_OPEN }, { ")", TOK_CLOSE },
		{ ",", TOK_COMMA }, { "=", TOK_EQ }, { ">", TOK_GT }, { "<", TOK_LT },
	};
	const char *s = *p;
	size_t len = 0;

	while (is_space(*s))
		s++;
	ret->tok = TOK_EOS;
	if (!*s) {
		ret->lit = strdup("");
	} else if (is_special(*s)) {
		for (size_t i = 0; i < ELEMENTSOF(symbols); i++) {
			len = strlen(symbols[i].s);
			if (strncmp(s, symbols[i].s, len) == 0) {
				ret->tok = symbols[i].tok;
				break;
			}
		}
		ret->lit = strndup(s, len);
	} else {
		while (s[len] && !is_space(s[len]) && !is_special(s[len]))
			len++;
		ret->lit = strndup(s, len);
		ret->tok = TOK_ID;
		if (ret->lit && strcmp(ret->lit, "in") == 0)
			ret->tok = TOK_IN;
		else if (ret->lit && strcmp(ret->lit, "notin") == 0)
			ret->tok = TOK_NOTIN;
	}
	if (!ret->lit)
		return -ENOMEM;
	*p = s + len;
	return 0;
}

static int lex_all(const char *s, struct parser *ps)
{
	for (;;) {
		struct lexeme lx;
		struct lexeme *items;
		int r = lex_one(&s, &lx);

		if (r < 0)
			return r;
		items = realloc(ps->items, (ps->n + 1) * sizeof(*items));
		if (!items) {
			free(lx.lit);
			return -ENOMEM;
		}
		ps->items = items;
		ps->items[ps->n++] = lx;
		if (lx.tok == TOK_EOS)
			return 0;
	}
}

/* In a value position the keywords "in" and "notin" are plain identifiers. */
static enum token tok_in_values(enum token t)
{
	return t == TOK_IN || t == TOK_NOTIN ? TOK_ID : t;
}

static enum token peek(struct parser *ps, bool values, const char **lit)
{
	struct lexeme *lx = &ps->items[ps->pos];

	if (lit)
		*lit = lx->lit;
	return values ? tok_in_values(lx->tok) : lx->tok;
}

static enum token consume(struct parser *ps, bool values, const char **lit)
{
	enum token t = peek(ps, values, lit);

	if (ps->pos + 1 < ps->n)
		ps->pos++;
	return t;
}

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (!ps->err) {
		va_start(ap, fmt);
		if (vasprintf(&ps->err, fmt, ap) < 0)
			ps->err = NULL;
		va_end(ap);
	}
	return -EINVAL;
}

static void requirement_clear(struct requirement *r)
{
	free(r->key);
	for (size_t i = 0; i < r->n_values; i++)
		free(r->values[i]);
	free(r->values);
	memset(r, 0, sizeof(*r));
}

/* Values form a set: kept unique, sorted as sets.String.List() returns them. */
static int requirement_add_value(struct requirement *r, const char *v)
{
	char **values;
	size_t i = 0;

	while (i < r->n_values && strcmp(r->values[i], v) < 0)
		i++;
	if (i < r->n_values && strcmp(r->values[i], v) == 0)
		return 0;
	values = realloc(r->values, (r->n_values + 1) * sizeof(*values));
	if (!values)
		return -ENOMEM;
	r->values = values;
	memmove(&values[i + 1], &values[i], (r->n_values - i) * sizeof(*values));
	values[i] = strdup(v);
	if (!values[i]) {
		memmove(&values[i], &values[i + 1], (r->n_values - i) * sizeof(*values));
		return -ENOMEM;
	}
	r->n_values++;
	return 0;
}

static bool parse_int64(const char *s, long long *ret)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*ret = strtoll(s, &end, 10);
	return !*end && errno == 0;
}

/* labels.NewRequirement's checks on the values; the key was checked while parsing. */
static int requirement_check(struct parser *ps, const struct requirement *r)
{
	char *msgs[8];
	size_t n = 0;
	long long num;
	int ret = 0;

	for (size_t i = 0; i < r->n_values && n < ELEMENTSOF(msgs); i++) {
		struct name_msgs m;
		_cleanup_free_ char *q = go_quote(r->values[i]);

		if ((r->op == OP_GT || r->op == OP_LT) && !parse_int64(r->values[i], &num) &&
		    asprintf(&msgs[n], "values[%zu]: Invalid value: %s: for 'Gt', 'Lt' operators, the value must be an integer",
			     i, q ? q : "") >= 0)
			n++;
		name_check_label_value(r->values[i], &m);
		if (m.n && n < ELEMENTSOF(msgs)) {
			_cleanup_free_ char *joined = name_msgs_join(&m);

			if (asprintf(&msgs[n], "values[%zu]: Invalid value: %s: %s", i, q ? q : "",
				     joined ? joined : "") >= 0)
				n++;
		}
	}
	if (n == 1)
		ret = fail(ps, "unable to parse requirement: %s", msgs[0]);
	else if (n > 1) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		for (size_t i = 0; f && i < n; i++)
			fprintf(f, "%s%s", i ? ", " : "[", msgs[i]);
		if (f && fputc(']', f) != EOF && fclose(f) == 0)
			ret = fail(ps, "unable to parse requirement: %s", buf);
		else
			ret = -ENOMEM;
		free(buf);
	}
	for (size_t i = 0; i < n; i++)
		free(msgs[i]);
	return ret;
}

static int parse_key(struct parser *ps, struct requirement *r)
{
	const char *lit;
	enum token t = consume(ps, true, &lit);
	struct name_msgs m;

	r->op = OP_EQ;
	if (t == TOK_NOT) {
		r->op = OP_NOT_EXISTS;
		t = consume(ps, true, &lit);
	}
	if (t != TOK_ID)
		return fail(ps, "unable to parse requirement: found '%s', expected: identifier", lit);
	name_check_qualified(lit, &m);
	if (m.n) {
		_cleanup_free_ char *joined = name_msgs_join(&m);
		_cleanup_free_ char *q = go_quote(lit);

		return fail(ps, "unable to parse requirement: <nil>: Invalid value: %s: %s", q ? q : "",
			    joined ? joined : "");
	}
	r->key = strdup(lit);
	if (!r->key)
		return -ENOMEM;
	t = peek(ps, true, NULL);
	if ((t == TOK_EOS || t == TOK_COMMA) && r->op != OP_NOT_EXISTS)
		r->op = OP_EXISTS;
	return 0;
}

static int parse_operator(struct parser *ps, struct requirement *r)
{
	const char *lit;

	switch (consume(ps, false, &lit)) {
	case TOK_IN: r->op = OP_IN; break;
	case TOK_NOTIN: r->op = OP_NOTIN; break;
	case TOK_EQ:
	case TOK_DOUBLE_EQ: r->op = OP_EQ; break;
	case TOK_NEQ: r->op = OP_NEQ; break;
	case TOK_GT: r->op = OP_GT; break;
	case TOK_LT: r->op = OP_LT; break;
	default:
		return fail(ps, "unable to parse requirement: found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
	}
	return 0;
}

/* "(a,b,c)"; "()", "(,", ",," and ",)" stand for the empty value, as in Kubernetes. */
static int parse_identifiers(struct parser *ps, struct requirement *r)
{
	for (;;) {
		const char *lit, *lit2;
		enum token t = consume(ps, true, &lit), t2;
		int ret;

		if (t == TOK_ID) {
			if ((ret = requirement_add_value(r, lit)) < 0)
				return ret;
			t2 = peek(ps, true, &lit2);
			if (t2 == TOK_CLOSE)
				return 0;
			if (t2 != TOK_COMMA)
				return fail(ps, "unable to parse requirement: found '%s', expected: ',' or ')'", lit2);
		} else if (t == TOK_COMMA) {
			if (r->n_values == 0 && (ret = requirement_add_value(r, "")) < 0)
				return ret;
			t2 = peek(ps, true, NULL);
			if (t2 == TOK_CLOSE)
				return requirement_add_value(r, "");
			if (t2 == TOK_COMMA) {
				consume(ps, true, NULL);
				if ((ret = requirement_add_value(r, "")) < 0)
					return ret;
			}
		} else {
			return fail(ps, "unable to parse requirement: found '%s', expected: ',', or identifier", lit);
		}
	}
}

static int parse_values(struct parser *ps, struct requirement *r)
{
	const char *lit;
	enum token t = consume(ps, true, &lit);
	int ret;

	if (t != TOK_OPEN)
		return fail(ps, "unable to parse requirement: found '%s' expected: '('", lit);
	t = peek(ps, true, &lit);
	if (t == TOK_CLOSE) {
		consume(ps, true, NULL);
		return requirement_add_value(r, "");
	}
	if (t != TOK_ID && t != TOK_COMMA)
		return fail(ps, "unable to parse requirement: found '%s', expected: ',', ')' or identifier", lit);
	ret = parse_identifiers(ps, r);
	if (ret < 0)
		return ret;
	if (consume(ps, true, NULL) != TOK_CLOSE)
		return fail(ps, "unable to parse requirement: found '%s', expected: ')'", lit);
	return 0;
}

static int parse_exact_value(struct parser *ps, struct requirement *r)
{
	const char *lit;
	enum token t = peek(ps, true, NULL);

	if (t == TOK_EOS || t == TOK_COMMA)
		return requirement_add_value(r, "");
	t = consume(ps, true, &lit);
	if (t != TOK_ID)
		return fail(ps, "unable to parse requirement: found '%s', expected: identifier", lit);
	return requirement_add_value(r, lit);
}

static int parse_requirement(struct parser *ps, struct requirement *r)
{
	int ret = parse_key(ps, r);

	if (ret < 0 || r->op == OP_EXISTS || r->op == OP_NOT_EXISTS)
		return ret;
	ret = parse_operator(ps, r);
	if (ret < 0)
		return ret;
	if (r->op == OP_IN || r->op == OP_NOTIN)
		ret = parse_values(ps, r);
	else
		ret = parse_exact_value(ps, r);
	return ret < 0 ? ret : requirement_check(ps, r);
}

static int selector_append(struct label_selector *sel, struct requirement *r)
{
	struct requirement *v = realloc(sel->v, (sel->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	sel->v = v;
	sel->v[sel->n++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

static int parse_selector(struct parser *ps, struct label_selector *sel)
{
	for (;;) {
		struct requirement r = { 0 };
		const char *lit;
		enum token t = peek(ps, true, &lit);
		int ret;

		if (t == TOK_EOS)
			return 0;
		if (t != TOK_ID && t != TOK_NOT)
			return fail(ps, "found '%s', expected: !, identifier, or 'end of string'", lit);
		ret = parse_requirement(ps, &r);
		if (ret >= 0)
			ret = selector_append(sel, &r);
		requirement_clear(&r);
		if (ret < 0)
			return ret;
		t = consume(ps, true, &lit);
		if (t == TOK_EOS)
			return 0;
		if (t != TOK_COMMA)
			return fail(ps, "found '%s', expected: ',' or 'end of string'", lit);
		t = peek(ps, true, &lit);
		if (t != TOK_ID && t != TOK_NOT)
			return fail(ps, "found '%s', expected: identifier after ','", lit);
	}
}

int label_selector_parse(const char *s, struct label_selector **ret, char **ret_err)
{
	struct label_selector *sel = calloc(1, sizeof(*sel));
	struct parser ps = { 0 };
	int r;

	if (ret_err)
		*ret_err = NULL;
	if (!sel)
		return -ENOMEM;
	r = lex_all(s ? s : "", &ps);
	if (r >= 0)
		r = parse_selector(&ps, sel);
	for (size_t i = 0; i < ps.n; i++)
		free(ps.items[i].lit);
	free(ps.items);
	if (r < 0) {
		label_selector_free(sel);
		if (ret_err)
			*ret_err = ps.err ? ps.err : strdup(strerror(-r));
		else
			free(ps.err);
		return r;
	}
	free(ps.err);
	*ret = sel;
	return 0;
}

int label_selector_from_map(json_object *map, struct label_selector **ret)
{
	struct label_selector *sel = calloc(1, sizeof(*sel));

	if (!sel)
		return -ENOMEM;
	if (map && json_object_is_type(map, json_type_object)) {
		json_object_object_foreach(map, k, v) {
			struct requirement r = { .op = OP_EQ };
			int err;

			r.key = strdup(k);
			err = r.key ? requirement_add_value(&r, json_object_get_string(v) ?: "") : -ENOMEM;
			if (err >= 0)
				err = selector_append(sel, &r);
			requirement_clear(&r);
			if (err < 0) {
				label_selector_free(sel);
				return err;
			}
		}
	}
	*ret = sel;
	return 0;
}

static bool has_value(const struct requirement *r, const char *v)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static bool requirement_matches(const struct requirement *r, json_object *labels)
{
	json_object *jv = NULL;
	bool has = labels && json_object_object_get_ex(labels, r->key, &jv);
	const char *v = has ? json_object_get_string(jv) : NULL;
	long long a, b;

	switch (r->op) {
	case OP_EQ:
	case OP_IN: return has && v && has_value(r, v);
	case OP_NEQ:
	case OP_NOTIN: return !has || !v || !has_value(r, v);
	case OP_EXISTS: return has;
	case OP_NOT_EXISTS: return !has;
	case OP_GT:
	case OP_LT:
		if (!has || !v || r->n_values != 1 || !parse_int64(v, &a) || !parse_int64(r->values[0], &b))
			return false;
		return r->op == OP_GT ? a > b : a < b;
	}
	return false;
}

bool label_selector_matches(const struct label_selector *sel, json_object *labels)
{
	if (labels && !json_object_is_type(labels, json_type_object))
		labels = NULL;
	for (size_t i = 0; sel && i < sel->n; i++)
		if (!requirement_matches(&sel->v[i], labels))
			return false;
	return true;
}

bool label_selector_empty(const struct label_selector *sel)
{
	return !sel || sel->n == 0;
}

void label_selector_free(struct label_selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++)
		requirement_clear(&sel->v[i]);
	free(sel->v);
	free(sel);
}

/* ---- Field selectors (k8s.io/apimachinery/pkg/fields) ---- */

struct field_term {
	char *field;
	bool neq;
	char *value;
};

struct field_selector {
	struct field_term *v;
	size_t n;
};

/* The fields each resource's field selectors may name (besides metadata.name/namespace),
 * as the Kubernetes registries publish them. */
static const struct {
	const char *resource;
	const char *const *fields;
} field_labels[] = {
	{ "pods", (const char *const[]){ "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
					 "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
					 "status.podIP", "status.nominatedNodeName", NULL } },
	{ "nodes", (const char *const[]){ "spec.unschedulable", NULL } },
	{ "namespaces", (const char *const[]){ "status.phase", NULL } },
	{ "services", (const char *const[]){ "spec.clusterIP", "spec.type", NULL } },
	{ "replicationcontrollers", (const char *const[]){ "status.replicas", NULL } },
	{ "events", (const char *const[]){ "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
					   "involvedObject.uid", "involvedObject.apiVersion",
					   "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
					   "reportingComponent", "source", "type", NULL } },
};

static bool field_supported(const char *resource, const char *field)
{
	if (strcmp(field, "metadata.name") == 0 || strcmp(field, "metadata.namespace") == 0)
		return true;
	for (size_t i = 0; resource && i < ELEMENTSOF(field_labels); i++) {
		if (strcmp(field_labels[i].resource, resource) != 0)
			continue;
		for (const char *const *f = field_labels[i].fields; *f; f++)
			if (strcmp(*f, field) == 0)
				return true;
	}
	return false;
}

/* Undoes fields.EscapeValue: "\\", "\," and "\=" stand for themselves. */
static int unescape_value(const char *s, size_t len, char **ret, char **ret_err)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= len || !strchr("\\,=", s[i + 1])) {
				if (asprintf(ret_err, "invalid field selector: invalid escape sequence: \\%.1s",
					     i + 1 < len ? &s[i + 1] : "") < 0)
					*ret_err = NULL;
				free(out);
				return -EINVAL;
			}
			i++;
		}
		*o++ = s[i];
	}
	*o = '\0';
	*ret = out;
	return 0;
}

/* One "lhs<op>rhs" term; the first "!=", "==" or "=" splits it. */
static int field_term_parse(const char *all, const char *part, size_t len, const char *resource,
			    struct field_term *t, char **ret_err)
{
	for (size_t i = 0; i < len; i++) {
		size_t oplen = strncmp(&part[i], "!=", 2) == 0 || strncmp(&part[i], "==", 2) == 0 ? 2
			       : part[i] == '='						? 1
												: 0;

		if (!oplen || i + oplen > len)
			continue;
		t->neq = part[i] == '!';
		t->field = strndup(part, i);
		if (!t->field)
			return -ENOMEM;
		if (!field_supported(resource, t->field)) {
			if (asprintf(ret_err, "field label not supported: %s", t->field) < 0)
				*ret_err = NULL;
			return -EINVAL;
		}
		return unescape_value(part + i + oplen, len - i - oplen, &t->value, ret_err);
	}
	if (asprintf(ret_err, "invalid selector: '%s'; can't understand '%.*s'", all, (int)len, part) < 0)
		*ret_err = NULL;
	return -EINVAL;
}

int field_selector_parse(const char *s, const char *resource, struct field_selector **ret, char **ret_err)
{
	struct field_selector *sel = calloc(1, sizeof(*sel));
	const char *p = s ? s : "";
	char *err = NULL;
	int r = 0;

	if (!sel)
		return -ENOMEM;
	while (*p && r >= 0) {
		size_t len = 0;
		struct field_term *v;

		/* Terms split at commas that are not escaped. */
		while (p[len] && p[len] != ',')
			len += p[len] == '\\' && p[len + 1] ? 2 : 1;
		if (len > 0) {
			v = realloc(sel->v, (sel->n + 1) * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			sel->v = v;
			memset(&sel->v[sel->n], 0, sizeof(*v));
			r = field_term_parse(s, p, len, resource, &sel->v[sel->n++], &err);
		}
		p += len + (p[len] == ',');
	}
	if (r < 0) {
		field_selector_free(sel);
		if (ret_err)
			*ret_err = err ? err : strdup(strerror(-r));
		else
			free(err);
		return r;
	}
	if (ret_err)
		*ret_err = NULL;
	*ret = sel;
	return 0;
}

/* The field's value as field selectors see it: strings as they are, numbers and booleans
 * printed, missing fields "" (booleans "false"). */
static const char *field_value(json_object *obj, const char *field, char *buf, size_t size)
{
	char path[128];
	json_object *v;

	if (strcmp(field, "source") == 0)
		field = "source.component";
	snprintf(path, sizeof(path), "%s", field);
	v = json_get_path(obj, path);
	if (!v || json_object_is_type(v, json_type_null))
		return strcmp(field, "spec.unschedulable") == 0 || strcmp(field, "spec.hostNetwork") == 0 ? "false" : "";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	snprintf(buf, size, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	return buf;
}

bool field_selector_matches(const struct field_selector *sel, json_object *obj)
{
	char buf[64];

	for (size_t i = 0; sel && i < sel->n; i++) {
		const char *v = field_value(obj, sel->v[i].field, buf, sizeof(buf));

		if ((strcmp(v, sel->v[i].value) == 0) == sel->v[i].neq)
			return false;
	}
	return true;
}

const char *field_selector_exact(const struct field_selector *sel, const char *field)
{
	for (size_t i = 0; sel && i < sel->n; i++)
		if (!sel->v[i].neq && strcmp(sel->v[i].field, field) == 0)
			return sel->v[i].value;
	return NULL;
}

void field_selector_free(struct field_selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->v[i].field);
		free(sel->v[i].value);
	}
	free(sel->v);
	free(sel);
}
