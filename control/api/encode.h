/* Response encoding: which form the client asked for (plain JSON, server-side Table,
 * aggregated discovery) and the conversions of lists, objects and watch events. */
#ifndef SKIFF_API_ENCODE_H
#define SKIFF_API_ENCODE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "api/resources.h"

/* True when an Accept header asks for application/json;as=Table (meta.k8s.io). */
bool encode_wants_table(const char *accept);
/* True when an Accept header asks for as=APIGroupDiscoveryList (apidiscovery.k8s.io). */
bool encode_wants_aggregated(const char *accept);

/* A <Kind>List as a Table (rows in list order, the list's resourceVersion/continue). */
json_object *encode_list_table(const struct resource *r, json_object *list, time_t now);
/* One object as a one-row Table. */
json_object *encode_object_table(const struct resource *r, json_object *obj, time_t now);
/* {"type":type,"object":obj}, obj as a one-row Table when table (column definitions only
 * when with_columns). Takes no reference to obj's ownership. */
json_object *encode_watch_event(const struct resource *r, const char *type, json_object *obj, bool table,
				bool with_columns, time_t now);
/* Compact JSON text of o, borrowed from o (valid until o changes or is freed). */
const char *encode_json(json_object *o, size_t *ret_len);

#endif
