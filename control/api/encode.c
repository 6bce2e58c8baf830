/* Content negotiation and the JSON/Table encodings of API answers (see encode.h). */
#include "api/encode.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/table.h"

/* Finds parameter name=value inside one media range ("application/json;as=Table;v=v1"). */
static bool range_has_param(const char *range, size_t len, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	const char *p = range, *end = range + len;

	while ((p = memchr(p, ';', (size_t)(end - p)))) {
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) >= nlen + 1 + vlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == '=' &&
		    strncmp(p + nlen + 1, value, vlen) == 0) {
			const char *after = p + nlen + 1 + vlen;

			if (after == end || *after == ';' || *after == ' ' || *after == '\t')
				return true;
		}
	}
	return false;
}

/* True when some JSON media range of accept carries as=<as> in API group <group>. */
static bool accept_asks(const char *accept, const char *as, const char *group)
{
	const char *p = accept;

	if (!accept)
		return false;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= 16 && strncasecmp(p, "application/json", 16) == 0 && range_has_param(p, len, "as", as) &&
		    range_has_param(p, len, "g", group))
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

bool encode_wants_table(const char *accept)
{
	return accept_asks(accept, "Table", "meta.k8s.io");
}

bool encode_wants_aggregated(const char *accept)
{
	return accept_asks(accept, "APIGroupDiscoveryList", "apidiscovery.k8s.io");
}

json_object *encode_list_table(const struct resource *r, json_object *list, time_t now)
{
	json_object *items = json_object_object_get(list, "items");
	json_object *meta = json_object_object_get(list, "metadata");
	size_t n = items && json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
	json_object **objs = NULL;
	json_object *table;

	if (n) {
		objs = calloc(n, sizeof(*objs));
		if (!objs)
			return NULL;
		for (size_t i = 0; i < n; i++)
			objs[i] = json_object_array_get_idx(items, i);
	}
	table = table_new(r, objs, n, true, meta, now);
	free(objs);
	return table;
}

json_object *encode_object_table(const struct resource *r, json_object *obj, time_t now)
{
	json_object *meta = json_object_new_object();
	const char *rv = NULL;
	json_object *table;

	if (!meta)
		return NULL;
	/* A get's Table carries the object's resourceVersion, as Kubernetes' does. */
	json_object *m = json_object_object_get(obj, "metadata");
	json_object *rvo = m ? json_object_object_get(m, "resourceVersion") : NULL;
	if (rvo)
		rv = json_object_get_string(rvo);
	if (rv)
		json_object_object_add(meta, "resourceVersion", json_object_new_string(rv));
	table = table_new(r, &obj, 1, true, meta, now);
	json_object_put(meta);
	return table;
}

json_object *encode_watch_event(const struct resource *r, const char *type, json_object *obj, bool table,
				bool with_columns, time_t now)
{
	json_object *ev = json_object_new_object();
	json_object *payload;

	if (!ev)
		return NULL;
	/* Bookmarks and errors carry no row: they go as they are. */
	if (table && strcmp(type, "BOOKMARK") != 0 && strcmp(type, "ERROR") != 0)
		payload = table_new(r, &obj, 1, with_columns, NULL, now);
	else
		payload = json_object_get(obj);
	if (!payload) {
		json_object_put(ev);
		return NULL;
	}
	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "object", payload);
	return ev;
}

const char *encode_json(json_object *o, size_t *ret_len)
{
	return json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
						 ret_len);
}
