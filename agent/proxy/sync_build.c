/* Service + Endpoints JSON to lb_service frontends. The endpoints controller already resolved
 * each targetPort (named ones included) into the Endpoints' ports, which carry the Service
 * port's name: a frontend takes the subset ports of the same name and protocol. */
#include "proxy/sync_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

static int proto_of(const char *s)
{
	if (!s || strcmp(s, "TCP") == 0)
		return IPPROTO_TCP;
	if (strcmp(s, "UDP") == 0)
		return IPPROTO_UDP;
	return -1; /* SCTP: neither data path serves it */
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int backend_cmp(const void *a, const void *b)
{
	const struct lb_backend *x = a, *y = b;

	if (x->addr != y->addr)
		return ntohl(x->addr) < ntohl(y->addr) ? -1 : 1;
	return (int)x->port - (int)y->port;
}

/* The subset's port number for a Service port (by name and protocol), or -1. */
static int subset_port(json_object *subset, const char *name, int proto)
{
	json_object *ports = json_member(subset, "ports", json_type_array);

	for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
		json_object *p = json_object_array_get_idx(ports, i);

		if (str_eq(json_get_string(p, "name"), name) && proto_of(json_get_string(p, "protocol")) == proto)
			return (int)json_object_get_int64(json_get_path(p, "port"));
	}
	return -1;
}

/* Ready endpoints for one port; local_only keeps those whose nodeName is node. */
static int backends_of(json_object *eps, const char *name, int proto, const char *node, bool local_only,
		       struct lb_backend **ret, size_t *ret_n)
{
	json_object *subsets = json_member(eps, "subsets", json_type_array);
	struct lb_backend *be = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; subsets && i < json_object_array_length(subsets); i++) {
		json_object *sub = json_object_array_get_idx(subsets, i);
		json_object *addrs = json_member(sub, "addresses", json_type_array);
		int port = subset_port(sub, name, proto);

		for (size_t j = 0; port > 0 && port < 65536 && addrs && j < json_object_array_length(addrs); j++) {
			json_object *a = json_object_array_get_idx(addrs, j);
			struct in_addr ip;

			if (!json_get_string(a, "ip") || inet_pton(AF_INET, json_get_string(a, "ip"), &ip) != 1)
				continue;
			if (local_only && !str_eq(json_get_string(a, "nodeName"), node))
				continue;
			if (n == cap) {
				struct lb_backend *grown = realloc(be, (cap = cap ? cap * 2 : 4) * sizeof(*be));

				if (!grown) {
					free(be);
					return -ENOMEM;
				}
				be = grown;
			}
			be[n++] = (struct lb_backend){ ip.s_addr, (uint16_t)port };
		}
	}
	if (n)
		qsort(be, n, sizeof(*be), backend_cmp);
	*ret = be;
	*ret_n = n;
	return 0;
}

static int push(struct sync_fe_set *set, const struct lb_service *fe)
{
	struct lb_service *grown = realloc(set->fe, (set->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	set->fe = grown;
	set->fe[set->n++] = *fe;
	return 0;
}

static uint32_t affinity_of(json_object *svc)
{
	json_object *t = json_get_path(svc, "spec.sessionAffinityConfig.clientIP.timeoutSeconds");

	if (!str_eq(json_get_string(svc, "spec.sessionAffinity"), "ClientIP"))
		return 0;
	return t ? (uint32_t)json_object_get_int64(t) : SYNC_AFFINITY_DEFAULT_SECONDS;
}

/* One frontend of port p: the ClusterIP one (vip) or the NodePort one (vip 0). */
static int add_frontend(struct sync_fe_set *set, json_object *svc, json_object *eps, json_object *p, const char *node,
			uint32_t vip, bool node_port)
{
	const char *pname = json_get_string(p, "name"), *ns = json_get_string(svc, "metadata.namespace");
	const char *svc_name = json_get_string(svc, "metadata.name");
	int proto = proto_of(json_get_string(p, "protocol"));
	const char *policy = node_port ? "spec.externalTrafficPolicy" : "spec.internalTrafficPolicy";
	bool local = str_eq(json_get_string(svc, policy), "Local");
	int64_t port = json_object_get_int64(json_get_path(p, node_port ? "nodePort" : "port"));
	struct lb_service fe = { .vip = vip, .proto = (uint8_t)proto, .node_port = node_port,
				 .affinity_timeout = affinity_of(svc) };
	struct lb_backend *be;
	char *name = NULL;
	int r;

	if (proto < 0 || port <= 0 || port > 65535)
		return 0;
	fe.port = (uint16_t)port;
	r = backends_of(eps, pname, proto, node, local, &be, &fe.n_backends);
	if (r < 0)
		return r;
	fe.backends = be;
	if (pname && *pname)
		r = asprintf(&name, "%s/%s:%s", ns ? ns : "default", svc_name ? svc_name : "", pname);
	else
		r = asprintf(&name, "%s/%s:%u", ns ? ns : "default", svc_name ? svc_name : "", (unsigned)fe.port);
	if (r < 0)
		name = NULL;
	fe.name = name;
	if (!name || push(set, &fe) < 0) {
		free(be);
		free(name);
		return -ENOMEM;
	}
	return 0;
}

int sync_build(json_object *svc, json_object *eps, const char *node, struct sync_fe_set *ret)
{
	struct sync_fe_set set = { 0 };
	const char *cip = json_get_string(svc, "spec.clusterIP"), *type = json_get_string(svc, "spec.type");
	json_object *ports = json_get_path(svc, "spec.ports");
	bool node_ports = str_eq(type, "NodePort") || str_eq(type, "LoadBalancer");
	struct in_addr vip;
	int r = 0;

	*ret = set;
	if (!svc || !cip || inet_pton(AF_INET, cip, &vip) != 1 || str_eq(type, "ExternalName"))
		return 0; /* headless ("None"), not yet allocated, or no proxying at all */
	for (size_t i = 0; r == 0 && ports && i < json_object_array_length(ports); i++) {
		json_object *p = json_object_array_get_idx(ports, i);

		r = add_frontend(&set, svc, eps, p, node, vip.s_addr, false);
		if (r == 0 && node_ports && json_get_path(p, "nodePort"))
			r = add_frontend(&set, svc, eps, p, node, 0, true);
	}
	if (r < 0) {
		sync_fe_set_done(&set);
		return r;
	}
	*ret = set;
	return 0;
}

void sync_fe_set_done(struct sync_fe_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free((void *)s->fe[i].backends);
		free((void *)s->fe[i].name);
	}
	free(s->fe);
	*s = (struct sync_fe_set){ 0 };
}

static bool same_key(const struct lb_service *a, const struct lb_service *b)
{
	return a->node_port == b->node_port && a->port == b->port && a->proto == b->proto &&
	       (a->node_port || a->vip == b->vip);
}

const struct lb_service *sync_fe_find(const struct sync_fe_set *s, const struct lb_service *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (same_key(&s->fe[i], a))
			return &s->fe[i];
	return NULL;
}

bool sync_fe_equal(const struct lb_service *a, const struct lb_service *b)
{
	return same_key(a, b) && a->affinity_timeout == b->affinity_timeout && a->n_backends == b->n_backends &&
	       str_eq(a->name, b->name) &&
	       (a->n_backends == 0 || memcmp(a->backends, b->backends, a->n_backends * sizeof(*a->backends)) == 0);
}
