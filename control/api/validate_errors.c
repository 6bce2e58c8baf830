/* One constructor per Kubernetes field.ErrorType, Go-style value formatting (%q, %#v),
 * and tolerant JSON getters for the validate_*.c rules. */
#include "api/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

char *go_quote(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		case '\a': fputs("\\a", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\v': fputs("\\v", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *go_string_map(json_object *map)
{
	const char **keys = NULL;
	size_t n = 0, len = 0;
	char *buf = NULL;
	FILE *f;

	if (!map || !json_object_is_type(map, json_type_object))
		return strdup("map[string]string(nil)");
	keys = calloc(json_object_object_length(map) + 1, sizeof(*keys));
	f = keys ? open_memstream(&buf, &len) : NULL;
	if (!f) {
		free(keys);
		return NULL;
	}
	json_object_object_foreach(map, k, v) {
		(void)v;
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	fputs("map[string]string{", f);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *qk = go_quote(keys[i]);
		_cleanup_free_ char *qv = go_quote(vj_str(map, keys[i]) ? vj_str(map, keys[i]) : "");

		fprintf(f, "%s%s:%s", i ? ", " : "", qk ? qk : "", qv ? qv : "");
	}
	fputc('}', f);
	free(keys);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void field_errors_required(struct field_errors *errs, const char *field, const char *detail)
{
	field_errors_add(errs, "FieldValueRequired", field, "%s: Required value%s%s", field, detail ? ": " : "",
			 detail ? detail : "");
}

void field_errors_forbidden(struct field_errors *errs, const char *field, const char *detail)
{
	field_errors_add(errs, "FieldValueForbidden", field, "%s: Forbidden%s%s", field, detail ? ": " : "",
			 detail ? detail : "");
}

void field_errors_invalid_raw(struct field_errors *errs, const char *field, const char *value_repr,
			      const char *detail)
{
	field_errors_add(errs, "FieldValueInvalid", field, "%s: Invalid value: %s%s%s", field, value_repr,
			 detail ? ": " : "", detail ? detail : "");
}

void field_errors_invalid_str(struct field_errors *errs, const char *field, const char *value, const char *detail)
{
	_cleanup_free_ char *q = go_quote(value ? value : "");

	field_errors_invalid_raw(errs, field, q ? q : "\"\"", detail);
}

void field_errors_invalid_int(struct field_errors *errs, const char *field, int64_t value, const char *detail)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)value);
	field_errors_invalid_raw(errs, field, num, detail);
}

void field_errors_duplicate_str(struct field_errors *errs, const char *field, const char *value)
{
	_cleanup_free_ char *q = go_quote(value ? value : "");

	field_errors_add(errs, "FieldValueDuplicate", field, "%s: Duplicate value: %s", field, q ? q : "");
}

void field_errors_not_found_str(struct field_errors *errs, const char *field, const char *value)
{
	_cleanup_free_ char *q = go_quote(value ? value : "");

	field_errors_add(errs, "FieldValueNotFound", field, "%s: Not found: %s", field, q ? q : "");
}

void field_errors_not_supported(struct field_errors *errs, const char *field, const char *value,
				const char *const *supported)
{
	_cleanup_free_ char *q = go_quote(value ? value : "");
	char *list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);

	if (!f)
		return;
	for (size_t i = 0; supported[i]; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", supported[i]);
	if (fclose(f) != 0) {
		free(list);
		return;
	}
	field_errors_add(errs, "FieldValueNotSupported", field, "%s: Unsupported value: %s: supported values: %s",
			 field, q ? q : "", list);
	free(list);
}

void field_errors_too_long(struct field_errors *errs, const char *field, int64_t max_bytes)
{
	field_errors_add(errs, "FieldValueTooLong", field, "%s: Too long: may not be more than %lld %s", field,
			 (long long)max_bytes, max_bytes == 1 ? "byte" : "bytes");
}

void field_errors_add_name_msgs(struct field_errors *errs, const char *field, const char *value,
				const struct name_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		field_errors_invalid_str(errs, field, value, m->v[i]);
}

const char *vj_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool vj_int(json_object *o, const char *key, int64_t *ret)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

json_object *vj_obj(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

json_object *vj_arr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

bool vj_has(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && v && !json_object_is_type(v, json_type_null);
}

void field_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}
