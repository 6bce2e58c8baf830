/* The endpoints table: ENDPOINTS as "ip:port" for every port of every subset, the first
 * three shown and the rest counted ("... + 3 more..."), "<none>" without subsets. */
#include "api/table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#define SHOWN_MAX 3

static size_t arr_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

struct ep_list {
	FILE *f;
	size_t shown, count;
	bool more;
};

static void ep_add(struct ep_list *l, json_object *addr, json_object *port)
{
	const char *ip = json_get_string(addr, "ip");

	if (!ip)
		ip = "";
	if (l->shown == SHOWN_MAX) {
		l->more = true;
		return;
	}
	fprintf(l->f, "%s", l->shown++ ? "," : "");
	if (!port)
		fprintf(l->f, "%s", ip);
	else if (strchr(ip, ':')) /* net.JoinHostPort brackets IPv6 */
		fprintf(l->f, "[%s]:%lld", ip, (long long)table_get_int(port, "port"));
	else
		fprintf(l->f, "%s:%lld", ip, (long long)table_get_int(port, "port"));
}

/* formatEndpoints with all ports: per subset, each port times each ready address. */
static char *format_endpoints(json_object *ep)
{
	json_object *subsets = json_object_object_get(ep, "subsets");
	struct ep_list l = { NULL, 0, 0, false };
	char *out = NULL;
	size_t out_len = 0;

	if (arr_len(subsets) == 0)
		return strdup("<none>");
	if (!(l.f = open_memstream(&out, &out_len)))
		return NULL;
	for (size_t s = 0; s < arr_len(subsets); s++) {
		json_object *ss = json_object_array_get_idx(subsets, s);
		json_object *addrs = json_object_object_get(ss, "addresses");
		json_object *ports = json_object_object_get(ss, "ports");
		size_t np = arr_len(ports);

		for (size_t p = 0; p < (np ? np : 1); p++) {
			l.count += arr_len(addrs);
			for (size_t a = 0; a < arr_len(addrs) && !l.more; a++)
				ep_add(&l, json_object_array_get_idx(addrs, a),
				       np ? json_object_array_get_idx(ports, p) : NULL);
		}
	}
	if (l.more)
		fprintf(l.f, " + %zu more...", l.count - SHOWN_MAX);
	if (fclose(l.f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int endpoints_cells(json_object *ep, time_t now, json_object *cells)
{
	_cleanup_free_ char *eps = format_endpoints(ep);
	char age[32];

	if (!eps)
		return -ENOMEM;
	table_age_at(ep, "metadata.creationTimestamp", now, age, sizeof(age));
	if (table_add_str(cells, json_get_string(ep, "metadata.name")) < 0 || table_add_str(cells, eps) < 0 ||
	    table_add_str(cells, age) < 0)
		return -ENOMEM;
	return 0;
}

static const struct table_column endpoints_columns[] = {
	TABLE_COL_NAME,
	{ "Endpoints", "string", "",
	  "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to "
	  "the IPs they share. A single address with multiple ports, some of which are ready and some of which are "
	  "not (because they come from different containers) will result in the address being displayed in "
	  "different subsets for the different ports. No address will appear in both Addresses and "
	  "NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
	  0 },
	TABLE_COL_AGE,
};

const struct table_kind table_kind_endpoints = { "endpoints", endpoints_columns,
						 sizeof(endpoints_columns) / sizeof(endpoints_columns[0]),
						 endpoints_cells };
