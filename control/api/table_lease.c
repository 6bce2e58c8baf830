/* The lease table: NAME, HOLDER (spec.holderIdentity), AGE, as kubectl get leases prints. */
#include "api/table.h"

#include <errno.h>

#include <skiff/json.h>

static int lease_cells(json_object *lease, time_t now, json_object *cells)
{
	char age[32];

	table_age_at(lease, "metadata.creationTimestamp", now, age, sizeof(age));
	if (table_add_str(cells, json_get_string(lease, "metadata.name")) < 0 ||
	    table_add_str(cells, json_get_string(lease, "spec.holderIdentity")) < 0 || table_add_str(cells, age) < 0)
		return -ENOMEM;
	return 0;
}

static const struct table_column lease_columns[] = {
	TABLE_COL_NAME,
	{ "Holder", "string", "", "The holder of the lease.", 0 },
	TABLE_COL_AGE,
};

const struct table_kind table_kind_leases = { "leases", lease_columns,
					      sizeof(lease_columns) / sizeof(lease_columns[0]), lease_cells };
