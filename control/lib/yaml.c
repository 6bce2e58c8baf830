/* YAML to JSON with libyaml's event parser, typing scalars as sigs.k8s.io/yaml (go-yaml v2,
 * YAML 1.1) does: yes/no/on/off are bools, 0x/0o/0b/0 prefixed ints, ~ and null are null. */
#include <skiff/yaml.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Caps what aliases can multiply a small document into (a "billion laughs" bomb). */
#define MAX_NODES (1u << 20)
#define MAX_DEPTH 512

struct yctx {
	yaml_parser_t parser;
	json_object *anchors; /* anchor name -> value */
	size_t nodes;
	char *err;
};

static int yfail(struct yctx *c, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int yfail(struct yctx *c, size_t line, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	free(c->err);
	c->err = NULL;
	if (line)
		n = asprintf(&c->err, "error converting YAML to JSON: yaml: line %zu: %s", line, msg);
	else
		n = asprintf(&c->err, "error converting YAML to JSON: yaml: %s", msg);
	if (n < 0) {
		c->err = NULL;
		return -ENOMEM;
	}
	return -EINVAL;
}

/* go-yaml's line numbers: scanner errors count from 1, parser errors from 0 (as it prints them). */
static int parser_fail(struct yctx *c)
{
	const yaml_parser_t *p = &c->parser;
	size_t line = 0;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->problem_mark.line != 0)
		line = p->problem_mark.line + (p->error == YAML_SCANNER_ERROR ? 1 : 0);
	else if (p->context_mark.line != 0)
		line = p->context_mark.line;
	return yfail(c, line, "%s", p->problem ? p->problem : "unknown problem parsing YAML content");
}

static int next_event(struct yctx *c, yaml_event_t *ev)
{
	return yaml_parser_parse(&c->parser, ev) ? 0 : parser_fail(c);
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static const char *const true_words[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
					  NULL };
static const char *const false_words[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off",
					   "OFF", NULL };
static const char *const null_words[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const special_floats[] = { ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
					      "+.INF", "-.inf", "-.Inf", "-.INF", NULL };

/* Go's strconv.ParseInt/ParseUint with base 0 (sign, 0x / 0o / 0b / leading-0 octal). */
static bool parse_integer(const char *s, bool *ret_neg, uint64_t *ret_mag)
{
	bool neg = false;
	unsigned base = 10;
	uint64_t v = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	else if (s[0] == '0' && s[1])
		base = 8, s += 1;
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*ret_neg = neg;
	*ret_mag = v;
	return true;
}

/* go-yaml's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s)
{
	size_t d = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++)
			d++;
	} else {
		for (; *s >= '0' && *s <= '9'; s++)
			d++;
		if (d && *s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
	}
	if (!d)
		return false;
	if (*s == 'e' || *s == 'E') {
		size_t e = 0;

		s++;
		if (*s == '+' || *s == '-')
			s++;
		for (; *s >= '0' && *s <= '9'; s++)
			e++;
		if (!e)
			return false;
	}
	return *s == '\0';
}

/* A float as Go's encoding/json prints it: integral values without a fraction. */
static json_object *new_float(double f)
{
	if (f == floor(f) && fabs(f) < 9007199254740992.0)
		return json_object_new_int64((int64_t)f);
	return json_object_new_double(f);
}

enum resolved { R_STRING, R_NULL, R_BOOL, R_INT, R_FLOAT, R_BAD_FLOAT };

/* Types a plain scalar; *ret is the JSON value (NULL for null and on failure). */
static enum resolved resolve_plain(const char *s, json_object **ret)
{
	_cleanup_free_ char *plain = NULL;
	uint64_t mag;
	bool neg;
	char *o;

	*ret = NULL;
	if (in_list(s, null_words))
		return R_NULL;
	if (in_list(s, true_words) || in_list(s, false_words)) {
		*ret = json_object_new_boolean(in_list(s, true_words));
		return R_BOOL;
	}
	if (in_list(s, special_floats))
		return R_BAD_FLOAT;
	if (!strchr("0123456789+-.", s[0]))
		return R_STRING;
	plain = strdup(s);
	if (!plain)
		return R_STRING;
	o = plain;
	for (const char *p = s; *p; p++)
		if (*p != '_' || s[0] == '.')
			*o++ = *p;
	*o = '\0';
	if (s[0] != '.' && parse_integer(plain, &neg, &mag)) {
		if (!neg && mag > INT64_MAX) {
			*ret = json_object_new_uint64(mag);
			return R_INT;
		}
		if (mag <= (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
			*ret = json_object_new_int64(neg ? (int64_t)(0 - mag) : (int64_t)mag);
			return R_INT;
		}
	}
	if (float_syntax(plain)) {
		double f = strtod(plain, NULL);

		if (isinf(f))
			return R_BAD_FLOAT;
		*ret = new_float(f);
		return R_FLOAT;
	}
	return R_STRING;
}

static int scalar_value(struct yctx *c, const yaml_event_t *ev, json_object **ret)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t line = ev->start_mark.line + 1;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	enum resolved r = R_STRING;
	json_object *v = NULL;

	if (strlen(s) != ev->data.scalar.length)
		return yfail(c, line, "NUL characters are not allowed in a scalar");
	if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) == 0 && strcmp(tag + 18, "str") != 0 &&
	    strcmp(tag + 18, "binary") != 0) {
		r = resolve_plain(s, &v);
		if ((strcmp(tag + 18, "int") == 0 && r != R_INT) || (strcmp(tag + 18, "bool") == 0 && r != R_BOOL) ||
		    (strcmp(tag + 18, "null") == 0 && r != R_NULL) ||
		    (strcmp(tag + 18, "float") == 0 && r != R_FLOAT && r != R_INT && r != R_BAD_FLOAT)) {
			json_object_put(v);
			return yfail(c, line, "cannot decode !!str `%s` as a !!%s", s, tag + 18);
		}
	} else if (!tag && plain) {
		r = resolve_plain(s, &v);
	}
	if (r == R_BAD_FLOAT)
		return yfail(c, line, "float value %s cannot be represented in JSON", s);
	if (r == R_STRING)
		v = json_object_new_string_len(s, (int)ev->data.scalar.length);
	if (!v && r != R_NULL)
		return -ENOMEM;
	*ret = v;
	return 0;
}

static size_t count_nodes(json_object *o)
{
	size_t n = 1;

	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += count_nodes(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += count_nodes(v);
		}
	}
	return n;
}

static int parse_node(struct yctx *c, yaml_event_t *ev, unsigned depth, json_object **ret);

static int alias_value(struct yctx *c, const yaml_event_t *ev, json_object **ret)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_object *v;

	if (!json_object_object_get_ex(c->anchors, name, &v))
		return yfail(c, ev->start_mark.line + 1, "unknown anchor '%s' referenced", name);
	c->nodes += count_nodes(v);
	if (c->nodes > MAX_NODES)
		return yfail(c, ev->start_mark.line + 1, "document contains excessive aliasing");
	*ret = json_clone(v);
	return *ret || !v ? 0 : -ENOMEM;
}

static int parse_sequence(struct yctx *c, unsigned depth, json_object *arr)
{
	for (;;) {
		yaml_event_t ev;
		json_object *item = NULL;
		int r = next_event(c, &ev);

		if (r < 0)
			return r;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		r = parse_node(c, &ev, depth + 1, &item);
		if (r < 0)
			return r;
		if (json_object_array_add(arr, item) < 0) {
			json_object_put(item);
			return -ENOMEM;
		}
	}
}

/* A map key as sigs.k8s.io/yaml writes it: strings as they are, numbers and bools as text. */
static int key_string(struct yctx *c, const yaml_event_t *ev, char **ret)
{
	_cleanup_json_ json_object *v = NULL;
	size_t line = ev->start_mark.line + 1;
	int r;

	if (ev->type == YAML_ALIAS_EVENT)
		r = alias_value(c, ev, &v);
	else if (ev->type == YAML_SCALAR_EVENT)
		r = scalar_value(c, ev, &v);
	else
		return yfail(c, line, "invalid map key: a %s cannot be a key (keys must be strings, numbers or booleans)",
			     ev->type == YAML_MAPPING_START_EVENT ? "mapping" : "sequence");
	if (r < 0)
		return r;
	if (!v)
		return yfail(c, line, "invalid map key: null (keys must be strings, numbers or booleans)");
	if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
		return yfail(c, line, "invalid map key: an alias to a %s cannot be a key",
			     json_object_is_type(v, json_type_object) ? "mapping" : "sequence");
	if (json_object_is_type(v, json_type_double))
		r = asprintf(ret, "%.7g", json_object_get_double(v));
	else
		r = asprintf(ret, "%s", json_object_get_string(v));
	return r < 0 ? -ENOMEM : 0;
}

/* YAML merge keys (<<): a mapping or a list of mappings whose keys fill in those not set. */
static int merge_into(struct yctx *c, json_object *obj, json_object *src, size_t line)
{
	json_object *maps[] = { src };
	size_t n = json_object_is_type(src, json_type_array) ? json_object_array_length(src) : 1;

	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_is_type(src, json_type_array) ? json_object_array_get_idx(src, i) : maps[0];

		if (!json_object_is_type(m, json_type_object))
			return yfail(c, line, "map merge requires map or sequence of maps as the value");
		json_object_object_foreach(m, k, v) {
			if (!json_object_object_get_ex(obj, k, NULL) &&
			    json_object_object_add(obj, k, json_clone(v)) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int parse_mapping(struct yctx *c, unsigned depth, json_object *obj)
{
	for (;;) {
		_cleanup_free_ char *key = NULL;
		yaml_event_t ev;
		json_object *v = NULL;
		bool merge;
		size_t line;
		int r = next_event(c, &ev);

		if (r < 0)
			return r;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		line = ev.start_mark.line + 1;
		merge = ev.type == YAML_SCALAR_EVENT && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			!ev.data.scalar.tag && strcmp((const char *)ev.data.scalar.value, "<<") == 0;
		r = key_string(c, &ev, &key);
		yaml_event_delete(&ev);
		if (r < 0)
			return r;
		r = next_event(c, &ev);
		if (r == 0)
			r = parse_node(c, &ev, depth + 1, &v);
		if (r < 0)
			return r;
		if (merge) {
			r = merge_into(c, obj, v, line);
			json_object_put(v);
			if (r < 0)
				return r;
		} else if (json_object_object_add(obj, key, v) < 0) {
			json_object_put(v);
			return -ENOMEM;
		}
	}
}

static int remember_anchor(struct yctx *c, const yaml_char_t *anchor, json_object *v)
{
	if (!anchor)
		return 0;
	return json_object_object_add(c->anchors, (const char *)anchor, json_object_get(v)) < 0 ? -ENOMEM : 0;
}

/* Builds the value that starts with ev (consumed here) and the events after it. */
static int parse_node(struct yctx *c, yaml_event_t *ev, unsigned depth, json_object **ret)
{
	_cleanup_json_ json_object *v = NULL;
	yaml_char_t *anchor = NULL;
	int r;

	if (depth > MAX_DEPTH) {
		r = yfail(c, ev->start_mark.line + 1, "exceeded max depth of %d", MAX_DEPTH);
		goto out;
	}
	if (++c->nodes > MAX_NODES) {
		r = yfail(c, ev->start_mark.line + 1, "document contains excessive aliasing");
		goto out;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		r = scalar_value(c, ev, &v);
		break;
	case YAML_ALIAS_EVENT:
		r = alias_value(c, ev, &v);
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		v = json_object_new_array();
		r = v ? parse_sequence(c, depth, v) : -ENOMEM;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		v = json_object_new_object();
		r = v ? parse_mapping(c, depth, v) : -ENOMEM;
		break;
	default:
		r = yfail(c, ev->start_mark.line + 1, "unexpected YAML event %d", (int)ev->type);
		break;
	}
	if (r == 0)
		r = remember_anchor(c, anchor, v);
	if (r == 0)
		*ret = TAKE_PTR(v);
out:
	yaml_event_delete(ev);
	return r;
}

/* The first document of the stream; a stream without one is null. */
static int parse_stream(struct yctx *c, json_object **ret)
{
	yaml_event_t ev;
	int r;

	do {
		r = next_event(c, &ev);
		if (r < 0)
			return r;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			*ret = NULL;
			return 0;
		}
		r = ev.type == YAML_DOCUMENT_START_EVENT;
		yaml_event_delete(&ev);
	} while (!r);
	r = next_event(c, &ev);
	if (r < 0)
		return r;
	return parse_node(c, &ev, 0, ret);
}

int yaml_to_json(const char *buf, size_t len, json_object **ret, char **ret_err)
{
	struct yctx c = { .anchors = json_object_new_object() };
	json_object *v = NULL;
	int r;

	if (!c.anchors)
		return -ENOMEM;
	if (!yaml_parser_initialize(&c.parser)) {
		json_object_put(c.anchors);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)buf, len);
	r = parse_stream(&c, &v);
	yaml_parser_delete(&c.parser);
	json_object_put(c.anchors);
	if (r < 0) {
		if (ret_err && r == -EINVAL)
			*ret_err = TAKE_PTR(c.err);
		free(c.err);
		return r;
	}
	*ret = v;
	return 0;
}
