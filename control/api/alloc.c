/* ClusterIP and NodePort allocation as store keys (see alloc.h). */
#include "api/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#define RANDOM_PROBES 32

struct alloc {
	uint32_t base; /* network address, host order */
	uint32_t size; /* addresses in the prefix */
	char cidr[32];
	int port_min, port_max;
};

struct alloc *alloc_new(const char *service_cidr, int node_port_min, int node_port_max)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(service_cidr, '/');
	struct in_addr in;
	struct alloc *a;
	long len;
	char *end;

	if (!slash || (size_t)(slash - service_cidr) >= sizeof(addr) || node_port_min < 1 ||
	    node_port_max > 65535 || node_port_min > node_port_max)
		goto invalid;
	memcpy(addr, service_cidr, (size_t)(slash - service_cidr));
	addr[slash - service_cidr] = '\0';
	len = strtol(slash + 1, &end, 10);
	/* A /31 or /32 leaves no usable address once network and broadcast are excluded. */
	if (*end || len < 8 || len > 30 || inet_pton(AF_INET, addr, &in) != 1)
		goto invalid;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->size = 1u << (32 - len);
	a->base = ntohl(in.s_addr) & ~(a->size - 1);
	snprintf(a->cidr, sizeof(a->cidr), "%s", service_cidr);
	a->port_min = node_port_min;
	a->port_max = node_port_max;
	return a;
invalid:
	errno = EINVAL;
	return NULL;
}

void alloc_free(struct alloc *a)
{
	free(a);
}

void alloc_plan_clear(struct alloc_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].field);
		free(p->v[i].value);
	}
	free(p->v);
	free(p->owner);
	*p = (struct alloc_plan){ 0 };
}

static int plan_add(struct alloc_plan *p, const char *prefix, const char *value, enum store_op_type type,
		    bool requested, const char *field)
{
	struct alloc_key *k;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct alloc_key *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	k = &p->v[p->n];
	*k = (struct alloc_key){ .type = type, .requested = requested };
	if (asprintf(&k->key, "%s%s", prefix, value) < 0) {
		k->key = NULL;
		return -ENOMEM;
	}
	k->field = strdup(field ? field : "");
	k->value = strdup(value);
	p->n++;
	if (!k->field || !k->value)
		return -ENOMEM;
	return 0;
}

size_t alloc_plan_ops(const struct alloc_plan *p, struct store_op *ops)
{
	for (size_t i = 0; i < p->n; i++)
		ops[i] = (struct store_op){ .type = p->v[i].type,
					    .key = p->v[i].key,
					    .value = p->v[i].type == STORE_OP_CREATE ? p->owner : NULL };
	return p->n;
}

static void add_taken_error(struct field_errors *errs, const struct alloc_key *k)
{
	if (strcmp(k->field, "spec.clusterIPs") == 0)
		field_errors_add(errs, "FieldValueInvalid", k->field,
				 "%s: Invalid value: [\"%s\"]: failed to allocate IP %s: provided IP is already allocated",
				 k->field, k->value, k->value);
	else
		field_errors_add(errs, "FieldValueInvalid", k->field,
				 "%s: Invalid value: %s: provided port is already allocated", k->field, k->value);
}

int alloc_plan_conflict(const struct alloc_plan *p, size_t i, struct field_errors *errs)
{
	if (i >= p->n || p->v[i].type != STORE_OP_CREATE)
		return -EIO;
	if (!p->v[i].requested)
		return -EAGAIN;
	add_taken_error(errs, &p->v[i]);
	return -EEXIST;
}

void alloc_plan_drop(struct alloc_plan *p, size_t i)
{
	if (i >= p->n)
		return;
	free(p->v[i].key);
	free(p->v[i].field);
	free(p->v[i].value);
	memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof(p->v[0]));
	p->n--;
}

static void ip_string(uint32_t host_order, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = { .s_addr = htonl(host_order) };

	inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static int parse_ip(const char *s, uint32_t *ret)
{
	struct in_addr in;

	if (!s || inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*ret = ntohl(in.s_addr);
	return 0;
}

/* Which values of a kind exist: the ip range or the port range, as one integer space. */
struct space {
	const char *prefix;
	uint32_t lo, hi; /* inclusive */
	bool ip;
};

static void space_format(const struct space *sp, uint32_t v, char buf[INET_ADDRSTRLEN])
{
	if (sp->ip)
		ip_string(v, buf);
	else
		snprintf(buf, INET_ADDRSTRLEN, "%u", v);
}

static int space_parse(const struct space *sp, const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (sp->ip)
		return parse_ip(s, ret);
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static bool in_list(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int key_taken(struct store *s, const char *prefix, const char *value)
{
	_cleanup_free_ char *key = NULL;
	struct store_kv kv = { 0 };
	int r;

	if (asprintf(&key, "%s%s", prefix, value) < 0)
		return -ENOMEM;
	r = store_get(s, key, &kv);
	store_kv_clear(&kv);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

/* The store's allocated values of the space, sorted, so a scan can skip them. */
static int space_used(struct store *s, const struct space *sp, uint32_t **ret, size_t *ret_n)
{
	struct store_list_result res = { 0 };
	uint32_t *v;
	size_t n = 0;
	int r;

	r = store_list(s, sp->prefix, NULL, 0, 0, &res);
	if (r < 0)
		return r;
	v = calloc(res.n + 1, sizeof(*v));
	if (!v) {
		store_list_result_clear(&res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < res.n; i++)
		if (space_parse(sp, res.items[i].key + strlen(sp->prefix), &v[n]) == 0)
			n++;
	store_list_result_clear(&res);
	qsort(v, n, sizeof(*v), cmp_u32);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* A free value of the space, not in exclude: random probes first, then a scan of the
 * whole space from a random start (for a nearly full range). -ENOSPC when full. */
static int space_pick(struct store *s, const struct space *sp, const uint32_t *exclude, size_t n_exclude,
		      uint32_t *ret)
{
	uint32_t span = sp->hi - sp->lo + 1, rnd[RANDOM_PROBES + 1];
	char buf[INET_ADDRSTRLEN];
	_cleanup_free_ uint32_t *used = NULL;
	size_t n_used = 0;
	int r;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	for (size_t i = 0; i < RANDOM_PROBES; i++) {
		uint32_t v = sp->lo + rnd[i] % span;

		if (in_list(exclude, n_exclude, v))
			continue;
		space_format(sp, v, buf);
		r = key_taken(s, sp->prefix, buf);
		if (r < 0)
			return r;
		if (r == 0) {
			*ret = v;
			return 0;
		}
	}
	r = space_used(s, sp, &used, &n_used);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < span; i++) {
		uint32_t v = sp->lo + (rnd[RANDOM_PROBES] + i) % span;

		if (!in_list(exclude, n_exclude, v) && !bsearch(&v, used, n_used, sizeof(v), cmp_u32)) {
			*ret = v;
			return 0;
		}
	}
	return -ENOSPC;
}

static const char *service_type(json_object *svc)
{
	const char *t = json_get_string(svc, "spec.type");

	return t ? t : "ClusterIP";
}

static bool needs_node_ports(const char *type)
{
	return strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0;
}

/* The ClusterIP a Service holds in the store, or NULL (headless, ExternalName, none). */
static const char *held_ip(json_object *svc)
{
	const char *ip = json_get_string(svc, "spec.clusterIP");
	uint32_t v;

	if (!svc || strcmp(service_type(svc), "ExternalName") == 0 || !ip || parse_ip(ip, &v) < 0)
		return NULL;
	return ip;
}

static int64_t port_field(json_object *port, const char *field)
{
	json_object *v;

	if (!json_object_object_get_ex(port, field, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

/* The node ports a Service holds in the store; *ret has room for its ports. */
static int held_ports(json_object *svc, uint32_t **ret, size_t *ret_n)
{
	json_object *ports = svc ? json_get_path(svc, "spec.ports") : NULL;
	size_t n = 0, len = ports && json_object_is_type(ports, json_type_array) ? json_object_array_length(ports) : 0;
	uint32_t *v = calloc(len + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (svc && needs_node_ports(service_type(svc)))
		for (size_t i = 0; i < len; i++) {
			int64_t np = port_field(json_object_array_get_idx(ports, i), "nodePort");

			if (np > 0 && np <= 65535 && !in_list(v, n, (uint32_t)np))
				v[n++] = (uint32_t)np;
		}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void set_cluster_ips(json_object *spec, const char *ip)
{
	json_object *ips = json_object_new_array();

	json_object_object_add(spec, "clusterIP", json_object_new_string(ip));
	if (ips) {
		json_object_array_add(ips, json_object_new_string(ip));
		json_object_object_add(spec, "clusterIPs", ips);
	}
}

static int plan_cluster_ip(struct alloc *a, struct store *s, json_object *old, json_object *spec,
			   struct alloc_plan *plan, struct field_errors *errs)
{
	const struct space sp = { ALLOC_IP_PREFIX, a->base + 1, a->base + a->size - 2, true };
	const char *old_ip = held_ip(old), *ip = json_get_string(spec, "clusterIP");
	json_object *ips = json_get_path(spec, "clusterIPs");
	char buf[INET_ADDRSTRLEN];
	uint32_t v;
	int r;

	if ((!ip || !*ip) && ips && json_object_is_type(ips, json_type_array) && json_object_array_length(ips) > 0)
		ip = json_object_get_string(json_object_array_get_idx(ips, 0));
	/* An update that leaves the ClusterIP out keeps the allocated one (kubectl apply). */
	if ((!ip || !*ip) && old_ip)
		ip = old_ip;
	if (ip && strcmp(ip, "None") == 0) {
		set_cluster_ips(spec, "None");
		return 0;
	}
	if (!ip || !*ip) {
		r = space_pick(s, &sp, NULL, 0, &v);
		if (r == -ENOSPC)
			field_errors_add(errs, "InternalError", "spec.clusterIPs",
					 "failed to allocate a serviceIP: range is full");
		if (r < 0)
			return r;
		space_format(&sp, v, buf);
		set_cluster_ips(spec, buf);
		return plan_add(plan, ALLOC_IP_PREFIX, buf, STORE_OP_CREATE, false, "spec.clusterIPs");
	}
	snprintf(buf, sizeof(buf), "%s", ip);
	set_cluster_ips(spec, buf);
	if (old_ip && strcmp(old_ip, buf) == 0)
		return 0;
	if (parse_ip(buf, &v) < 0 || v < sp.lo || v > sp.hi) {
		field_errors_add(errs, "FieldValueInvalid", "spec.clusterIPs",
				 "spec.clusterIPs: Invalid value: [\"%s\"]: failed to allocate IP %s: the provided IP (%s) "
				 "is not in the valid range. The range of valid IPs is %s",
				 buf, buf, buf, a->cidr);
		return 0;
	}
	r = plan_add(plan, ALLOC_IP_PREFIX, buf, STORE_OP_CREATE, true, "spec.clusterIPs");
	if (r < 0)
		return r;
	r = key_taken(s, ALLOC_IP_PREFIX, buf);
	if (r > 0)
		add_taken_error(errs, &plan->v[plan->n - 1]);
	return r < 0 ? r : 0;
}

/* The nodePort the stored Service had for the same port, so an update keeps it. */
static int64_t old_node_port(json_object *old, json_object *port)
{
	json_object *ports = old ? json_get_path(old, "spec.ports") : NULL;
	const char *proto = json_get_string(port, "protocol");

	if (!ports || !json_object_is_type(ports, json_type_array) || !needs_node_ports(service_type(old)))
		return 0;
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		const char *pp = json_get_string(p, "protocol");

		if (port_field(p, "port") == port_field(port, "port") &&
		    strcmp(pp ? pp : "TCP", proto ? proto : "TCP") == 0)
			return port_field(p, "nodePort");
	}
	return 0;
}

static int plan_one_port(struct alloc *a, struct store *s, json_object *port, size_t idx, int64_t np,
			 bool requested, uint32_t **kept, size_t *n_kept, const uint32_t *old, size_t n_old,
			 struct alloc_plan *plan, struct field_errors *errs)
{
	const struct space sp = { ALLOC_PORT_PREFIX, (uint32_t)a->port_min, (uint32_t)a->port_max, false };
	char field[64], buf[INET_ADDRSTRLEN];
	uint32_t v;
	int r;

	snprintf(field, sizeof(field), "spec.ports[%zu].nodePort", idx);
	if (np == 0) {
		/* Keep clear of ports this Service holds or is about to release in this txn. */
		_cleanup_free_ uint32_t *excl = calloc(*n_kept + n_old + 1, sizeof(*excl));

		if (!excl)
			return -ENOMEM;
		memcpy(excl, *kept, *n_kept * sizeof(*excl));
		memcpy(excl + *n_kept, old, n_old * sizeof(*excl));
		r = space_pick(s, &sp, excl, *n_kept + n_old, &v);
		if (r == -ENOSPC)
			field_errors_add(errs, "InternalError", field, "failed to allocate a nodePort: range is full");
		if (r < 0)
			return r;
		json_object_object_add(port, "nodePort", json_object_new_int64(v));
	} else {
		v = (uint32_t)np;
		if (np < a->port_min || np > a->port_max) {
			field_errors_add(errs, "FieldValueInvalid", field,
					 "%s: Invalid value: %lld: provided port is not in the valid range. The range "
					 "of valid ports is %d-%d",
					 field, (long long)np, a->port_min, a->port_max);
			return 0;
		}
		json_object_object_add(port, "nodePort", json_object_new_int64(np));
	}
	/* The same port twice in one Service (TCP and UDP) is one allocation. */
	if (in_list(*kept, *n_kept, v))
		return 0;
	(*kept)[(*n_kept)++] = v;
	if (in_list(old, n_old, v))
		return 0;
	space_format(&sp, v, buf);
	r = plan_add(plan, ALLOC_PORT_PREFIX, buf, STORE_OP_CREATE, requested, field);
	if (r < 0 || !requested)
		return r;
	r = key_taken(s, ALLOC_PORT_PREFIX, buf);
	if (r > 0)
		add_taken_error(errs, &plan->v[plan->n - 1]);
	return r < 0 ? r : 0;
}

static int plan_node_ports(struct alloc *a, struct store *s, json_object *old, json_object *svc,
			   struct alloc_plan *plan, struct field_errors *errs)
{
	json_object *ports = json_get_path(svc, "spec.ports");
	_cleanup_free_ uint32_t *old_ports = NULL, *kept = NULL;
	size_t n_old = 0, n_kept = 0, len;
	char buf[INET_ADDRSTRLEN];
	int r;

	r = held_ports(old, &old_ports, &n_old);
	if (r < 0)
		return r;
	len = ports && json_object_is_type(ports, json_type_array) ? json_object_array_length(ports) : 0;
	kept = calloc(len + 1, sizeof(*kept));
	if (!kept)
		return -ENOMEM;
	/* Ports with a number (asked for, or kept from old) first, so a random pick never takes
	 * one that a later port of the same Service asks for. */
	for (int pass = 0; pass < 2 && needs_node_ports(service_type(svc)); pass++)
		for (size_t i = 0; i < len; i++) {
			json_object *port = json_object_array_get_idx(ports, i);
			int64_t np = port_field(port, "nodePort");
			bool requested = np != 0;

			if (np == 0)
				np = old_node_port(old, port);
			if ((pass == 0) != (np != 0))
				continue;
			r = plan_one_port(a, s, port, i, np, requested, &kept, &n_kept, old_ports, n_old, plan, errs);
			if (r < 0)
				return r;
		}
	for (size_t i = 0; i < n_old; i++)
		if (!in_list(kept, n_kept, old_ports[i])) {
			snprintf(buf, sizeof(buf), "%u", old_ports[i]);
			r = plan_add(plan, ALLOC_PORT_PREFIX, buf, STORE_OP_DELETE, false, NULL);
			if (r < 0)
				return r;
		}
	return 0;
}

static int plan_owner(json_object *svc, struct alloc_plan *plan)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *ns = json_get_string(svc, "metadata.namespace"), *name = json_get_string(svc, "metadata.name");

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "namespace", json_object_new_string(ns ? ns : ""));
	json_object_object_add(o, "name", json_object_new_string(name ? name : ""));
	free(plan->owner);
	plan->owner = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return plan->owner ? 0 : -ENOMEM;
}

int alloc_service(struct alloc *a, struct store *s, json_object *old, json_object *svc, struct alloc_plan *plan,
		  struct field_errors *errs)
{
	json_object *spec = json_get_path(svc, "spec");
	const char *old_ip = held_ip(old), *new_ip;
	int r;

	if (!spec || !json_object_is_type(spec, json_type_object))
		return 0; /* validation reports it */
	r = plan_owner(svc, plan);
	if (r < 0)
		return r;
	if (strcmp(service_type(svc), "ExternalName") != 0) {
		r = plan_cluster_ip(a, s, old, spec, plan, errs);
		if (r < 0)
			return r;
	}
	new_ip = held_ip(svc);
	if (old_ip && (!new_ip || strcmp(old_ip, new_ip) != 0)) {
		r = plan_add(plan, ALLOC_IP_PREFIX, old_ip, STORE_OP_DELETE, false, NULL);
		if (r < 0)
			return r;
	}
	return plan_node_ports(a, s, old, svc, plan, errs);
}

int alloc_service_release(json_object *svc, struct alloc_plan *plan)
{
	_cleanup_free_ uint32_t *ports = NULL;
	const char *ip = held_ip(svc);
	char buf[INET_ADDRSTRLEN];
	size_t n = 0;
	int r;

	if (ip) {
		r = plan_add(plan, ALLOC_IP_PREFIX, ip, STORE_OP_DELETE, false, NULL);
		if (r < 0)
			return r;
	}
	r = held_ports(svc, &ports, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%u", ports[i]);
		r = plan_add(plan, ALLOC_PORT_PREFIX, buf, STORE_OP_DELETE, false, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}
