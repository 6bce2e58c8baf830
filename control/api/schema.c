/* Walks a JSON object against the schema tables (schema_*.c): reports wrong JSON types
 * and unknown fields in the words Kubernetes' decoder uses, or drops unknown fields. */
#include "api/schema.h"
#include "api/schema_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

static const struct {
	const char *kind;
	const struct schema_struct *schema;
} kinds[] = {
	{ "Pod", &schema_Pod },
	{ "Service", &schema_Service },
	{ "Endpoints", &schema_Endpoints },
	{ "ReplicationController", &schema_ReplicationController },
	{ "Node", &schema_Node },
	{ "Namespace", &schema_Namespace },
	{ "Event", &schema_Event },
	{ "Lease", &schema_Lease },
	{ "Scale", &schema_Scale },
	{ "Binding", &schema_Binding },
	{ "DeleteOptions", &schema_DeleteOptions },
};

const struct schema_struct *schema_struct_by_kind(const char *kind)
{
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].schema;
	return NULL;
}

/* A field path that grows and shrinks as the walk descends; truncated, never overrun. */
struct path {
	char buf[1024];
	size_t len;
};

static size_t path_push(struct path *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(struct path *p, const char *fmt, ...)
{
	size_t old = p->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->buf + old, sizeof(p->buf) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len = old + (size_t)n < sizeof(p->buf) ? old + (size_t)n : sizeof(p->buf) - 1;
	return old;
}

static void path_pop(struct path *p, size_t old)
{
	p->len = old;
	p->buf[old] = '\0';
}

struct walk {
	bool strict;
	struct path go;     /* Go's field path: names only ("spec.containers.ports") */
	struct path strict_path; /* Kubernetes' strict path: with indices ("spec.containers[0].foo") */
	char *type_err;     /* the first wrong type; ends the walk */
	FILE *unknown;      /* 'unknown field "a", unknown field "b"' in the order found */
	size_t n_unknown;
	int r;              /* -ENOMEM once anything failed to allocate */
};

static const char *json_value_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return "string";
	case json_type_int:
	case json_type_double:
		return "number";
	case json_type_boolean:
		return "bool";
	case json_type_array:
		return "array";
	default:
		return "object";
	}
}

static void go_type_name(const struct schema_field *f, bool elem, char *buf, size_t size)
{
	static const char *const scalar[] = {
		[SK_STRING] = "string", [SK_INT32] = "int32", [SK_INT64] = "int64", [SK_FLOAT] = "float64",
		[SK_BOOL] = "bool", [SK_QUANTITY] = "resource.Quantity", [SK_INTSTR] = "intstr.IntOrString",
		[SK_TIME] = "v1.Time", [SK_ANY] = "json.RawMessage", [SK_STRUCT] = "",
	};
	const char *prefix = "";

	if (!elem && f->shape == SH_ARRAY)
		prefix = "[]";
	else if (!elem && f->shape == SH_MAP)
		prefix = "map[string]";
	if (f->kind == SK_STRUCT)
		snprintf(buf, size, "%sv1.%s", prefix, f->sub->go_name);
	else
		snprintf(buf, size, "%s%s", prefix, scalar[f->kind]);
}

/* Go names a bad number by its text ("number 1.5"), any other bad value by its JSON type. */
static void type_error(struct walk *w, const char *owner, const struct schema_field *f, bool elem, json_object *v,
		       bool show_number)
{
	char type[160];

	go_type_name(f, elem, type, sizeof(type));
	if (asprintf(&w->type_err, "json: cannot unmarshal %s%s%s into Go struct field %s.%s of type %s",
		     json_value_name(v), show_number ? " " : "", show_number ? json_object_to_json_string(v) : "",
		     owner, w->go.buf, type) < 0) {
		w->type_err = NULL;
		w->r = -ENOMEM;
	}
}

static bool int_fits(const struct schema_field *f, json_object *v)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return false;
	i = json_object_get_int64(v);
	return f->kind != SK_INT32 || (i >= INT32_MIN && i <= INT32_MAX);
}

static void walk_struct(struct walk *w, const struct schema_struct *st, json_object *obj);

/* One value of the field's element type (the field itself, an array item or a map value). */
static void walk_elem(struct walk *w, const char *owner, const struct schema_field *f, json_object *v)
{
	json_type t = json_object_get_type(v);
	bool ok;

	switch (f->kind) {
	case SK_STRING:
	case SK_TIME:
		ok = t == json_type_string;
		break;
	case SK_INT32:
	case SK_INT64:
		if (t == json_type_double || (t == json_type_int && !int_fits(f, v)))
			return type_error(w, owner, f, true, v, true);
		ok = t == json_type_int;
		break;
	case SK_FLOAT:
		ok = t == json_type_int || t == json_type_double;
		break;
	case SK_BOOL:
		ok = t == json_type_boolean;
		break;
	case SK_QUANTITY:
		ok = t == json_type_string || t == json_type_int || t == json_type_double;
		break;
	case SK_INTSTR:
		if (t == json_type_double)
			return type_error(w, owner, f, true, v, true);
		ok = t == json_type_string || t == json_type_int;
		break;
	case SK_STRUCT:
		if (t != json_type_object)
			return type_error(w, owner, f, true, v, false);
		return walk_struct(w, f->sub, v);
	default:
		ok = true;
		break;
	}
	if (!ok)
		type_error(w, owner, f, true, v, false);
}

static void walk_field(struct walk *w, const char *owner, const struct schema_field *f, json_object *v)
{
	if (!v) /* null decodes as the zero value, whatever the type */
		return;
	if (f->shape == SH_ONE)
		return walk_elem(w, owner, f, v);

	if (f->shape == SH_ARRAY) {
		if (!json_object_is_type(v, json_type_array))
			return type_error(w, owner, f, false, v, false);
		for (size_t i = 0; i < json_object_array_length(v) && !w->type_err && w->r == 0; i++) {
			json_object *item = json_object_array_get_idx(v, i);
			size_t old = path_push(&w->strict_path, "[%zu]", i);

			if (item)
				walk_elem(w, owner, f, item);
			path_pop(&w->strict_path, old);
		}
		return;
	}

	if (!json_object_is_type(v, json_type_object))
		return type_error(w, owner, f, false, v, false);
	json_object_object_foreach(v, key, val) {
		size_t old = path_push(&w->strict_path, ".%s", key);

		if (val)
			walk_elem(w, owner, f, val);
		path_pop(&w->strict_path, old);
		if (w->type_err || w->r < 0)
			return;
	}
}

static const struct schema_field *field_find(const struct schema_struct *st, const char *name)
{
	/* Case-sensitive, as Kubernetes' decoder matches names. */
	for (const struct schema_field *f = st->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void note_unknown(struct walk *w, const char *key)
{
	fprintf(w->unknown, "%sunknown field \"%s%s%s\"", w->n_unknown ? ", " : "", w->strict_path.buf,
		w->strict_path.len ? "." : "", key);
	w->n_unknown++;
}

static void walk_struct(struct walk *w, const struct schema_struct *st, json_object *obj)
{
	_cleanup_free_ char **drop = NULL;
	size_t n_drop = 0;

	if (!st->fields)
		return;
	json_object_object_foreach(obj, key, val) {
		const struct schema_field *f = field_find(st, key);
		size_t old_go, old_strict;

		if (!f) {
			if (w->strict) {
				note_unknown(w, key);
				continue;
			}
			/* Removing while iterating would break the iteration: collect first. */
			char **grown = reallocarray(drop, n_drop + 1, sizeof(*drop));
			if (!grown) {
				w->r = -ENOMEM;
				return;
			}
			drop = grown;
			drop[n_drop++] = key;
			continue;
		}
		old_go = path_push(&w->go, "%s%s", w->go.len ? "." : "", key);
		old_strict = path_push(&w->strict_path, "%s%s", w->strict_path.len ? "." : "", key);
		walk_field(w, st->go_name, f, val);
		path_pop(&w->go, old_go);
		path_pop(&w->strict_path, old_strict);
		if (w->type_err || w->r < 0)
			return;
	}
	for (size_t i = 0; i < n_drop; i++)
		json_object_object_del(obj, drop[i]);
}

static int walk_finish(struct walk *w, char *unknown, char **ret_err)
{
	if (w->r < 0)
		return w->r;
	if (w->type_err) {
		*ret_err = TAKE_PTR(w->type_err);
		return -EINVAL;
	}
	if (w->n_unknown == 0)
		return 0;
	if (asprintf(ret_err, "strict decoding error: %s", unknown) < 0)
		return -ENOMEM;
	return -EINVAL;
}

int schema_check_kind(const char *kind, json_object *obj, int strict, char **ret_err)
{
	const struct schema_struct *st = schema_struct_by_kind(kind);
	struct walk w = { .strict = strict };
	_cleanup_free_ char *unknown = NULL, *discard = NULL;
	size_t unknown_len = 0;
	int r;

	if (!ret_err) /* the caller only wants the verdict */
		ret_err = &discard;
	if (!st)
		return -ENOENT;
	if (!json_object_is_type(obj, json_type_object)) {
		if (asprintf(ret_err, "json: cannot unmarshal %s into Go value of type v1.%s",
			     obj ? json_value_name(obj) : "null", kind) < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	w.unknown = open_memstream(&unknown, &unknown_len);
	if (!w.unknown)
		return -ENOMEM;
	walk_struct(&w, st, obj);
	if (fclose(w.unknown) != 0 && w.r == 0)
		w.r = -ENOMEM;
	r = walk_finish(&w, unknown, ret_err);
	free(w.type_err);
	return r;
}

int schema_check(const struct resource *r, json_object *obj, int strict, char **ret_err)
{
	return schema_check_kind(r->kind, obj, strict, ret_err);
}
