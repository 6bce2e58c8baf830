/* meta.k8s.io/v1 Tables: the frame (columns, rows, row objects as PartialObjectMetadata),
 * the printers' age and label formatting, and the choice of a kind's column set. */
#include "api/table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

static const struct table_kind *const table_kinds[] = {
	&table_kind_pods,     &table_kind_nodes,		       &table_kind_services, &table_kind_endpoints,
	&table_kind_replicationcontrollers, &table_kind_namespaces, &table_kind_events,
	&table_kind_leases,
};

/* Kinds without printers get Kubernetes' default table convertor: Name, Created At. */
static int default_cells(json_object *obj, time_t now, json_object *cells)
{
	(void)now;
	if (table_add_str(cells, json_get_string(obj, "metadata.name")) < 0)
		return -ENOMEM;
	return table_add_str(cells, json_get_string(obj, "metadata.creationTimestamp"));
}

static const struct table_column default_columns[] = {
	TABLE_COL_NAME,
	{ "Created At", "date", "", TABLE_DOC_AGE, 0 },
};

static const struct table_kind default_kind = { NULL, default_columns, ELEMENTSOF(default_columns), default_cells };

static const struct table_kind *kind_for(const struct resource *r)
{
	for (size_t i = 0; i < ELEMENTSOF(table_kinds); i++)
		if (strcmp(table_kinds[i]->resource, r->name) == 0)
			return table_kinds[i];
	return &default_kind;
}

/* Go's duration.HumanDuration, on whole seconds. */
void table_format_age(time_t created, time_t now, char *buf, size_t len)
{
	int64_t s = (int64_t)now - (int64_t)created;
	int64_t m = s / 60, h = s / 3600, d = h / 24;

	if (s < -1)
		snprintf(buf, len, "<invalid>");
	else if (s < 0)
		snprintf(buf, len, "0s");
	else if (s < 60 * 2)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (m < 10)
		snprintf(buf, len, s % 60 ? "%" PRId64 "m%" PRId64 "s" : "%" PRId64 "m", m, s % 60);
	else if (m < 60 * 3)
		snprintf(buf, len, "%" PRId64 "m", m);
	else if (h < 8)
		snprintf(buf, len, m % 60 ? "%" PRId64 "h%" PRId64 "m" : "%" PRId64 "h", h, m % 60);
	else if (h < 48)
		snprintf(buf, len, "%" PRId64 "h", h);
	else if (h < 24 * 8)
		snprintf(buf, len, h % 24 ? "%" PRId64 "d%" PRId64 "h" : "%" PRId64 "d", d, h % 24);
	else if (h < 24 * 365 * 2)
		snprintf(buf, len, "%" PRId64 "d", d);
	else if (h < 24 * 365 * 8)
		snprintf(buf, len, d % 365 ? "%" PRId64 "y%" PRId64 "d" : "%" PRId64 "y", d / 365, d % 365);
	else
		snprintf(buf, len, "%" PRId64 "y", d / 365);
}

int table_parse_time(const char *s, time_t *ret)
{
	struct tm tm = { 0 };
	const char *p;
	time_t t;

	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	t = timegm(&tm);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int hh = atoi(p + 1), mm = atoi(p + 4);
		long off = (hh * 60L + mm) * 60L;

		t -= *p == '+' ? off : -off;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*ret = t;
	return 0;
}

void table_age_at(json_object *obj, const char *path, time_t now, char *buf, size_t len)
{
	time_t t;

	if (table_parse_time(json_get_string(obj, path), &t) < 0)
		snprintf(buf, len, "<unknown>");
	else
		table_format_age(t, now, buf, len);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *table_format_labels(json_object *map)
{
	size_t n = map && json_object_is_type(map, json_type_object) ? (size_t)json_object_object_length(map) : 0;
	_cleanup_free_ const char **keys = NULL;
	char *out = NULL;
	size_t out_len = 0, i = 0;
	FILE *f;

	if (n == 0)
		return strdup("<none>");
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return NULL;
	json_object_object_foreach(map, k, v) {
		(void)v;
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	f = open_memstream(&out, &out_len);
	if (!f)
		return NULL;
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", keys[i],
			json_object_get_string(json_object_object_get(map, keys[i])));
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *table_join_strings(json_object *arr, const char *sep)
{
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? sep : "", json_object_get_string(json_object_array_get_idx(arr, i)));
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int table_add_str(json_object *cells, const char *s)
{
	json_object *v = json_object_new_string(s ? s : "");

	if (!v || json_object_array_add(cells, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int table_add_int(json_object *cells, int64_t val)
{
	json_object *v = json_object_new_int64(val);

	if (!v || json_object_array_add(cells, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int64_t table_get_int(json_object *obj, const char *path)
{
	json_object *v = json_get_path(obj, path);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static json_object *columns_json(const struct table_kind *k)
{
	json_object *cols = json_object_new_array_ext((int)k->n_columns);

	for (size_t i = 0; cols && i < k->n_columns; i++) {
		const struct table_column *c = &k->columns[i];
		json_object *o = json_object_new_object();

		if (!o || json_object_array_add(cols, o) < 0) {
			json_object_put(o);
			json_object_put(cols);
			return NULL;
		}
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "type", json_object_new_string(c->type));
		json_object_object_add(o, "format", json_object_new_string(c->format));
		json_object_object_add(o, "description", json_object_new_string(c->description));
		json_object_object_add(o, "priority", json_object_new_int(c->priority));
	}
	return cols;
}

/* One row: the cells and the object's metadata as PartialObjectMetadata (what -A,
 * --show-labels and -L read). */
static json_object *row_json(const struct table_kind *k, json_object *obj, time_t now)
{
	_cleanup_json_ json_object *row = json_object_new_object();
	json_object *cells = json_object_new_array_ext((int)k->n_columns);
	json_object *partial = json_object_new_object();
	json_object *meta = json_object_object_get(obj, "metadata");

	if (!row || !cells || !partial) {
		json_object_put(cells);
		json_object_put(partial);
		return NULL;
	}
	json_object_object_add(row, "cells", cells);
	json_object_object_add(row, "object", partial);
	json_object_object_add(partial, "kind", json_object_new_string("PartialObjectMetadata"));
	json_object_object_add(partial, "apiVersion", json_object_new_string("meta.k8s.io/v1"));
	json_object_object_add(partial, "metadata", meta ? json_clone(meta) : json_object_new_object());
	if (k->cells(obj, now, cells) < 0)
		return NULL;
	return TAKE_PTR(row);
}

static json_object *table_meta(json_object *list_meta)
{
	static const char *const keys[] = { "resourceVersion", "continue", "remainingItemCount" };
	json_object *meta = json_object_new_object();

	for (size_t i = 0; meta && list_meta && i < ELEMENTSOF(keys); i++) {
		json_object *v = json_object_object_get(list_meta, keys[i]);

		/* An empty continue token means "no more": Kubernetes leaves it out. */
		if (v && !(json_object_is_type(v, json_type_string) && !*json_object_get_string(v)))
			json_object_object_add(meta, keys[i], json_object_get(v));
	}
	return meta;
}

json_object *table_new(const struct resource *r, json_object *const *objs, size_t n, bool with_columns,
		       json_object *list_meta, time_t now)
{
	const struct table_kind *k = kind_for(r);
	_cleanup_json_ json_object *t = json_object_new_object();
	json_object *rows, *v;

	if (!t)
		return NULL;
	json_object_object_add(t, "kind", json_object_new_string("Table"));
	json_object_object_add(t, "apiVersion", json_object_new_string("meta.k8s.io/v1"));
	if (!(v = table_meta(list_meta)))
		return NULL;
	json_object_object_add(t, "metadata", v);
	if (with_columns) {
		if (!(v = columns_json(k)))
			return NULL;
		json_object_object_add(t, "columnDefinitions", v);
	}
	if (!(rows = json_object_new_array_ext((int)n)))
		return NULL;
	json_object_object_add(t, "rows", rows);
	for (size_t i = 0; i < n; i++) {
		json_object *row = row_json(k, objs[i], now);

		if (!row || json_object_array_add(rows, row) < 0) {
			json_object_put(row);
			return NULL;
		}
	}
	return TAKE_PTR(t);
}
