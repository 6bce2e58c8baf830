/* Node routes: a table of node name -> route mirrors what was put in the kernel, so an event only
 * touches the one node it is about and a relist removes exactly the routes of vanished nodes. */
#include "net/node_routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>
#include <skiff/log.h>

#include "controllers/nodeipam.h"

struct entry {
	char *name;
	struct nl_route rt;
};

struct net_node_routes {
	char *self;
	struct entry *v;
	size_t n, cap;
};

struct net_node_routes *net_node_routes_new(const char *self)
{
	struct net_node_routes *nr = calloc(1, sizeof(*nr));

	if (!nr)
		return NULL;
	nr->self = strdup(self);
	if (!nr->self) {
		free(nr);
		return NULL;
	}
	return nr;
}

static void forget_all(struct net_node_routes *nr)
{
	for (size_t i = 0; i < nr->n; i++)
		free(nr->v[i].name);
	nr->n = 0;
}

void net_node_routes_free(struct net_node_routes *nr)
{
	if (!nr)
		return;
	forget_all(nr);
	free(nr->v);
	free(nr->self);
	free(nr);
}

size_t net_node_routes_count(const struct net_node_routes *nr)
{
	return nr->n;
}

static const char *internal_ip(json_object *node)
{
	json_object *addrs = json_get_path(node, "status.addresses");

	for (size_t i = 0; addrs && i < json_object_array_length(addrs); i++) {
		json_object *a = json_object_array_get_idx(addrs, i);
		const char *type = json_get_string(a, "type");

		if (type && strcmp(type, "InternalIP") == 0)
			return json_get_string(a, "address");
	}
	return NULL;
}

int net_node_route_of(json_object *node, struct nl_route *ret)
{
	const char *cidr = json_get_string(node, "spec.podCIDR"), *ip = internal_ip(node);
	struct ipam_range range;
	struct in_addr gw;

	if (!cidr || !*cidr || !ip || !*ip)
		return -ENOENT;
	if (ipam_range_parse(cidr, 32, &range) < 0 || inet_pton(AF_INET, ip, &gw) != 1)
		return -EINVAL;
	*ret = (struct nl_route){ .dst.s_addr = htonl(range.base), .dst_len = range.prefix, .gw = gw,
				  .type = RTN_UNICAST, .protocol = NL_RTPROT_SKIFF };
	return 0;
}

static struct entry *find(struct net_node_routes *nr, const char *name)
{
	for (size_t i = 0; i < nr->n; i++)
		if (strcmp(nr->v[i].name, name) == 0)
			return &nr->v[i];
	return NULL;
}

static bool same(const struct nl_route *a, const struct nl_route *b)
{
	return a->dst.s_addr == b->dst.s_addr && a->dst_len == b->dst_len && a->gw.s_addr == b->gw.s_addr;
}

static int remember(struct net_node_routes *nr, const char *name, const struct nl_route *rt)
{
	if (nr->n == nr->cap) {
		size_t cap = nr->cap ? nr->cap * 2 : 16;
		struct entry *v = realloc(nr->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		nr->v = v;
		nr->cap = cap;
	}
	nr->v[nr->n].name = strdup(name);
	if (!nr->v[nr->n].name)
		return -ENOMEM;
	nr->v[nr->n++].rt = *rt;
	return 0;
}

static void forget(struct net_node_routes *nr, struct entry *e)
{
	free(e->name);
	*e = nr->v[--nr->n];
}

static void add_logged(struct nl *nl, const char *name, const struct nl_route *rt)
{
	char dst[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	int r = nl_route_add(nl, rt);

	if (r < 0)
		log_warn_errno(r, "node %s: route to its pods %s/%d via %s: %m (is its InternalIP on a link of this "
			       "node?)", name, inet_ntop(AF_INET, &rt->dst, dst, sizeof(dst)), rt->dst_len,
			       inet_ntop(AF_INET, &rt->gw, gw, sizeof(gw)));
}

int net_node_routes_event(struct net_node_routes *nr, struct nl *nl, const char *type, json_object *node)
{
	const char *name = json_get_string(node, "metadata.name");
	struct entry *e;
	struct nl_route rt;
	bool want;

	if (!name || strcmp(name, nr->self) == 0)
		return 0;
	e = find(nr, name);
	want = strcmp(type, "DELETED") != 0 && net_node_route_of(node, &rt) == 0;
	if (e && want && same(&e->rt, &rt))
		return 0;
	if (e) {
		nl_route_del(nl, &e->rt);
		forget(nr, e);
	}
	if (!want)
		return 0;
	add_logged(nl, name, &rt);
	/* Remembered even when the kernel refused it, so a later relist or event retries. */
	return remember(nr, name, &rt);
}

/* Routes found in a dump; deleted only after it, so the dump is not disturbed. */
struct doomed {
	struct net_node_routes *nr;
	struct nl_route *v;
	size_t n, cap;
	int err;
};

static void collect_unwanted(void *ud, const struct nl_route *rt)
{
	struct doomed *d = ud;

	if (rt->type != RTN_UNICAST)
		return; /* the Service CIDR's unreachable route is the agent's too, but not a node's */
	for (size_t i = 0; d->nr && i < d->nr->n; i++)
		if (same(&d->nr->v[i].rt, rt))
			return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct nl_route *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->err = -ENOMEM;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = *rt;
}

/* Deletes the agent's unicast routes that keep (NULL: none) does not hold. */
static int prune(struct nl *nl, struct net_node_routes *keep)
{
	struct doomed d = { .nr = keep };
	int r = nl_route_list(nl, NL_RTPROT_SKIFF, collect_unwanted, &d);

	if (r >= 0)
		r = d.err;
	for (size_t i = 0; r >= 0 && i < d.n; i++)
		r = nl_route_del(nl, &d.v[i]);
	free(d.v);
	return r;
}

int net_node_routes_relist(struct net_node_routes *nr, struct nl *nl, json_object *items)
{
	struct nl_route rt;
	int r;

	forget_all(nr);
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		json_object *node = json_object_array_get_idx(items, i);
		const char *name = json_get_string(node, "metadata.name");

		if (!name || strcmp(name, nr->self) == 0 || net_node_route_of(node, &rt) < 0)
			continue;
		r = remember(nr, name, &rt);
		if (r < 0)
			return r;
	}
	r = prune(nl, nr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nr->n; i++)
		add_logged(nl, nr->v[i].name, &nr->v[i].rt);
	return 0;
}

int net_node_routes_clear(struct net_node_routes *nr, struct nl *nl)
{
	forget_all(nr);
	return prune(nl, NULL);
}
