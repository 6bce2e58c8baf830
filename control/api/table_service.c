/* The service table: TYPE, CLUSTER-IP, EXTERNAL-IP by service type, PORT(S) as
 * "80/TCP" or "80:30080/TCP", and the wide SELECTOR. */
#include "api/table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

static size_t arr_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Load-balancer ingress IPs (or hostnames), sorted and unique, then spec.externalIPs. */
static char *lb_external(json_object *svc)
{
	json_object *ing = json_get_path(svc, "status.loadBalancer.ingress");
	json_object *ext = json_get_path(svc, "spec.externalIPs");
	size_t n = arr_len(ing), k = 0;
	_cleanup_free_ const char **v = calloc(n + 1, sizeof(*v));
	char *out = NULL;
	size_t out_len = 0;
	FILE *f;

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(ing, i);
		const char *ip = json_get_string(e, "ip"), *host = json_get_string(e, "hostname");

		if (ip && *ip)
			v[k++] = ip;
		else if (host && *host)
			v[k++] = host;
	}
	qsort(v, k, sizeof(*v), cmp_str);
	if (k == 0 && arr_len(ext) == 0)
		return strdup("<pending>");
	if (!(f = open_memstream(&out, &out_len)))
		return NULL;
	for (size_t i = 0, w = 0; i < k; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			fprintf(f, "%s%s", w++ ? "," : "", v[i]);
	for (size_t i = 0; i < arr_len(ext); i++)
		fprintf(f, "%s%s", k || i ? "," : "", json_object_get_string(json_object_array_get_idx(ext, i)));
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static char *external_ip(json_object *svc)
{
	const char *type = json_get_string(svc, "spec.type");
	json_object *ext = json_get_path(svc, "spec.externalIPs");

	if (!type)
		type = "";
	if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0)
		return arr_len(ext) ? table_join_strings(ext, ",") : strdup("<none>");
	if (strcmp(type, "LoadBalancer") == 0)
		return lb_external(svc);
	if (strcmp(type, "ExternalName") == 0) {
		const char *en = json_get_string(svc, "spec.externalName");

		return strdup(en ? en : "");
	}
	return strdup("<unknown>");
}

static char *port_string(json_object *svc)
{
	json_object *ports = json_get_path(svc, "spec.ports");
	char *out = NULL;
	size_t out_len = 0;
	FILE *f;

	if (arr_len(ports) == 0)
		return strdup("<none>");
	if (!(f = open_memstream(&out, &out_len)))
		return NULL;
	for (size_t i = 0; i < arr_len(ports); i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		const char *proto = json_get_string(p, "protocol");
		int64_t node_port = table_get_int(p, "nodePort");

		fprintf(f, "%s%lld", i ? "," : "", (long long)table_get_int(p, "port"));
		if (node_port > 0)
			fprintf(f, ":%lld", (long long)node_port);
		fprintf(f, "/%s", proto ? proto : "");
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int service_cells(json_object *svc, time_t now, json_object *cells)
{
	json_object *ips = json_get_path(svc, "spec.clusterIPs");
	const char *cluster_ip = arr_len(ips) ? json_object_get_string(json_object_array_get_idx(ips, 0))
					      : json_get_string(svc, "spec.clusterIP");
	_cleanup_free_ char *ext = external_ip(svc);
	_cleanup_free_ char *ports = port_string(svc);
	_cleanup_free_ char *selector = table_format_labels(json_get_path(svc, "spec.selector"));
	char age[32];

	if (!ext || !ports || !selector)
		return -ENOMEM;
	table_age_at(svc, "metadata.creationTimestamp", now, age, sizeof(age));
	if (table_add_str(cells, json_get_string(svc, "metadata.name")) < 0 ||
	    table_add_str(cells, json_get_string(svc, "spec.type")) < 0 ||
	    table_add_str(cells, cluster_ip && *cluster_ip ? cluster_ip : "<none>") < 0 ||
	    table_add_str(cells, ext) < 0 || table_add_str(cells, ports) < 0 || table_add_str(cells, age) < 0 ||
	    table_add_str(cells, selector) < 0)
		return -ENOMEM;
	return 0;
}

static const struct table_column service_columns[] = {
	TABLE_COL_NAME,
	{ "Type", "string", "",
	  "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, "
	  "ClusterIP, NodePort, and LoadBalancer.",
	  0 },
	{ "Cluster-IP", "string", "",
	  "clusterIP is the IP address of the service and is usually assigned randomly.", 0 },
	{ "External-IP", "string", "",
	  "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this "
	  "service.",
	  0 },
	{ "Port(s)", "string", "", "The list of ports that are exposed by this service.", 0 },
	TABLE_COL_AGE,
	{ "Selector", "string", "",
	  "Route service traffic to pods with label keys and values matching this selector.", 1 },
};

const struct table_kind table_kind_services = { "services", service_columns,
						sizeof(service_columns) / sizeof(service_columns[0]), service_cells };
