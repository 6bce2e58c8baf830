/* The namespace table: NAME, STATUS (the phase), AGE. */
#include "api/table.h"

#include <errno.h>

#include <skiff/json.h>

static int namespace_cells(json_object *ns, time_t now, json_object *cells)
{
	char age[32];

	table_age_at(ns, "metadata.creationTimestamp", now, age, sizeof(age));
	if (table_add_str(cells, json_get_string(ns, "metadata.name")) < 0 ||
	    table_add_str(cells, json_get_string(ns, "status.phase")) < 0 || table_add_str(cells, age) < 0)
		return -ENOMEM;
	return 0;
}

static const struct table_column namespace_columns[] = {
	TABLE_COL_NAME,
	{ "Status", "string", "", "The status of the namespace", 0 },
	TABLE_COL_AGE,
};

const struct table_kind table_kind_namespaces = { "namespaces", namespace_columns,
						  sizeof(namespace_columns) / sizeof(namespace_columns[0]),
						  namespace_cells };
