/* Server-side tables (meta.k8s.io/v1 Table) with the columns kubectl users know. */
#ifndef SKIFF_API_TABLE_H
#define SKIFF_API_TABLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/resources.h"

/* The Table for objects (full objects with resourceVersion set). with_columns: include
 * columnDefinitions (watch events after the first may leave them out). now: the clock
 * AGE is computed against. list_meta: the list's metadata (resourceVersion, continue) or
 * NULL. Returns a new reference. */
json_object *table_new(const struct resource *r, json_object *const *objs, size_t n, bool with_columns,
		       json_object *list_meta, time_t now);
/* Kubernetes' duration.HumanDuration of now - created: "5s", "119s", "3m20s", "4h",
 * "2d5h", "400d", "3y10d"; "0s" for up to a second in the future, "<invalid>" beyond.
 * Writes into buf. */
void table_format_age(time_t created, time_t now, char *buf, size_t len);

/* Below: shared by table.c and the per-kind table_<kind>.c files only. */

struct table_column {
	const char *name;
	const char *type; /* "string", "integer" */
	const char *format; /* "name" or "" */
	const char *description;
	int priority; /* 1: only with -o wide */
};

struct table_kind {
	const char *resource; /* plural */
	const struct table_column *columns;
	size_t n_columns;
	/* Appends one cell per column to cells (a JSON array). 0 or -ENOMEM. */
	int (*cells)(json_object *obj, time_t now, json_object *cells);
};

extern const struct table_kind table_kind_pods, table_kind_nodes, table_kind_services, table_kind_endpoints,
	table_kind_replicationcontrollers, table_kind_namespaces, table_kind_events, table_kind_leases;

#define TABLE_DOC_NAME                                                                                          \
	"Name must be unique within a namespace. Is required when creating resources, although some resources " \
	"may allow a client to request the generation of an appropriate name automatically. Name is primarily " \
	"intended for creation idempotence and configuration definition. Cannot be updated. More info: "       \
	"https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define TABLE_DOC_AGE                                                                                             \
	"CreationTimestamp is a timestamp representing the server time when this object was created. It is not " \
	"guaranteed to be set in happens-before order across separate operations. Clients may not set this "     \
	"value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for " \
	"lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
#define TABLE_COL_NAME { "Name", "string", "name", TABLE_DOC_NAME, 0 }
#define TABLE_COL_AGE { "Age", "string", "", TABLE_DOC_AGE, 0 }

/* RFC 3339 ("2024-05-01T10:00:00Z", fractions and offsets allowed) to time_t. 0 or -EINVAL. */
int table_parse_time(const char *s, time_t *ret);
/* The age of the timestamp string at a dotted path of obj, as printers' translateTimestampSince:
 * "<unknown>" when missing or unparsable. */
void table_age_at(json_object *obj, const char *path, time_t now, char *buf, size_t len);
/* labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty or missing. Caller frees. */
char *table_format_labels(json_object *map);
/* Cell appenders: 0 or -ENOMEM. NULL s appends "". */
int table_add_str(json_object *cells, const char *s);
int table_add_int(json_object *cells, int64_t v);
/* The integer at a dotted path, 0 when missing. */
int64_t table_get_int(json_object *obj, const char *path);
/* A string array's elements joined with sep ("" when missing). Caller frees. */
char *table_join_strings(json_object *arr, const char *sep);

#endif
