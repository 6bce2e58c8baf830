/* Server-side tables (meta.k8s.io/v1 Table) with the columns kubectl users know. */
#ifndef SKIFF_API_TABLE_H
#define SKIFF_API_TABLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "api/resources.h"

/* The Table for objects (full objects with resourceVersion set). with_columns: include
 * columnDefinitions (watch events after the first may leave them out). now: the clock
 * AGE is computed against. list_meta: the list's metadata (resourceVersion, continue) or
 * NULL. Returns a new reference. */
json_object *table_new(const struct resource *r, json_object *const *objs, size_t n, bool with_columns,
		       json_object *list_meta, time_t now);
/* Kubernetes' short age: "5s", "3m20s", "4h", "12d". Writes into buf. */
void table_format_age(time_t created, time_t now, char *buf, size_t len);

#endif
