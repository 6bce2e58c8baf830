/* The node IPAM controller (see nodeipam.h). The allocation key is created first and the
 * node written second: a crash between the two leaves a key naming the node, which the
 * next allocation for that node reuses, so a node's block never changes. */
#include "controllers/nodeipam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "controllers/ctrl.h"
#include "controllers/events.h"
#include "controllers/informer.h"

#define NODE_PREFIX "/registry/nodes/"
#define COMPONENT "node-ipam-controller"

struct nodeipam_controller {
	struct registry *reg;
	struct informer *inf;
	struct ipam_range range;
};

static struct store *store_of(struct nodeipam_controller *c)
{
	return registry_store(c->reg);
}

static char *key_of(const char *net)
{
	char *key = NULL;

	return asprintf(&key, IPAM_KEY_PREFIX "%s", net) < 0 ? NULL : key;
}

/* The node an allocation key names, or NULL (caller frees). */
static char *key_node(const struct store_kv *kv)
{
	_cleanup_json_ json_object *v = json_tokener_parse(kv->value);
	const char *node = json_get_string(v, "node");

	return node ? strdup(node) : NULL;
}

/* Marks every allocated block; *ret_mine is the block already naming node (or -1). */
static int load_used(struct nodeipam_controller *c, const char *node, bool *used, ssize_t *ret_mine)
{
	struct store_list_result l = { 0 };
	int rc = store_list(store_of(c), IPAM_KEY_PREFIX, NULL, 0, 0, &l);

	*ret_mine = -1;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		_cleanup_json_ json_object *v = json_tokener_parse(l.items[i].value);
		const char *cidr = json_get_string(v, "podCIDR"), *owner = json_get_string(v, "node");
		size_t idx;

		if (!cidr || ipam_index_of(&c->range, cidr, &idx) < 0)
			continue;
		used[idx] = true;
		if (owner && strcmp(owner, node) == 0)
			*ret_mine = (ssize_t)idx;
	}
	store_list_result_clear(&l);
	return rc;
}

static int claim_key(struct nodeipam_controller *c, const char *node, size_t idx)
{
	char cidr[IPAM_CIDR_LEN], net[IPAM_CIDR_LEN];
	_cleanup_free_ char *key = NULL, *value = NULL;

	ipam_cidr_at(&c->range, idx, cidr, net);
	key = key_of(net);
	if (!key || asprintf(&value, "{\"node\":\"%s\",\"podCIDR\":\"%s\"}", node, cidr) < 0)
		return -ENOMEM;
	return store_create(store_of(c), key, value, NULL);
}

/* A block for node: the one a key already gives it, or the first free one, claimed. */
static int pick_block(struct nodeipam_controller *c, const char *node, size_t *ret)
{
	bool *used = calloc(c->range.count, sizeof(*used));
	ssize_t mine = -1;
	int rc;

	if (!used)
		return -ENOMEM;
	rc = load_used(c, node, used, &mine);
	if (rc == 0 && mine >= 0)
		*ret = (size_t)mine;
	while (rc == 0 && mine < 0) {
		rc = ipam_first_free(&c->range, used, ret);
		if (rc == 0)
			rc = claim_key(c, node, *ret);
		if (rc != -EEXIST)
			break;
		used[*ret] = true; /* taken meanwhile */
		rc = 0;
	}
	free(used);
	return rc;
}

static void release_block(struct nodeipam_controller *c, const char *node, const char *cidr)
{
	char unused[IPAM_CIDR_LEN], net[IPAM_CIDR_LEN];
	_cleanup_free_ char *key = NULL;
	struct store_kv kv = { 0 };
	char *owner;
	size_t idx;

	if (!cidr || ipam_index_of(&c->range, cidr, &idx) < 0)
		return;
	ipam_cidr_at(&c->range, idx, unused, net);
	key = key_of(net);
	if (!key || store_get(store_of(c), key, &kv) < 0)
		return;
	owner = key_node(&kv);
	if (owner && strcmp(owner, node) == 0 && store_delete(store_of(c), key, kv.mod_rev, NULL) == 0)
		log_info("node %s: released pod CIDR %s", node, cidr);
	free(owner);
	store_kv_clear(&kv);
}

static int mutate_cidr(json_object *node, void *arg)
{
	const char *cidr = arg, *have = json_get_string(node, "spec.podCIDR");
	json_object *spec = json_ensure_object(node, "spec"), *cidrs;

	if (have && *have)
		return 1;
	cidrs = json_object_new_array();
	json_object_array_add(cidrs, json_object_new_string(cidr));
	json_object_object_add(spec, "podCIDR", json_object_new_string(cidr));
	json_object_object_add(spec, "podCIDRs", cidrs);
	return 0;
}

static void allocate(struct nodeipam_controller *c, const char *name)
{
	_cleanup_json_ json_object *node = NULL;
	char cidr[IPAM_CIDR_LEN];
	const char *have;
	size_t idx = 0;
	int rc;

	rc = pick_block(c, name, &idx);
	if (rc < 0) {
		log_warn_errno(rc, "node %s: no free /%d pod CIDR left in the cluster CIDR: %m", name, c->range.node_mask);
		return;
	}
	ipam_cidr_at(&c->range, idx, cidr, NULL);
	rc = ctrl_update(c->reg, "nodes", NULL, name, NULL, mutate_cidr, cidr, &node);
	have = node ? json_get_string(node, "spec.podCIDR") : NULL;
	if (rc == 0) {
		log_info("node %s: pod CIDR %s", name, cidr);
		return;
	}
	/* Gone, failed, or someone set another block: ours goes back. */
	if (!have || strcmp(have, cidr) != 0)
		release_block(c, name, cidr);
	if (rc < 0 && rc != -ENOENT) {
		log_warn_errno(rc, "node %s: cannot set pod CIDR %s: %m", name, cidr);
		if (node)
			event_record(c->reg, node, COMPONENT, EVENT_WARNING, "CIDRAssignmentFailed",
				     "Node %s status is now: CIDRAssignmentFailed", name);
	}
}

/* A node that already has a block in range (set before a restart, or by hand) keeps its key. */
static void ensure_key(struct nodeipam_controller *c, const char *name, const char *cidr)
{
	size_t idx;

	if (ipam_index_of(&c->range, cidr, &idx) == 0)
		claim_key(c, name, idx); /* -EEXIST: already held, the usual case */
}

static void handle_node(struct nodeipam_controller *c, json_object *node)
{
	const char *cidr = json_get_string(node, "spec.podCIDR");

	if (meta_deleting(node))
		return;
	if (cidr && *cidr)
		ensure_key(c, meta_name(node), cidr);
	else
		allocate(c, meta_name(node));
}

static void on_event(void *ctx, const struct store_event *ev)
{
	struct nodeipam_controller *c = ctx;
	_cleanup_json_ json_object *node = meta_from_stored(ev->value, ev->mod_rev);

	if (!node)
		return;
	if (ev->type == STORE_EVENT_DELETE)
		release_block(c, meta_name(node), json_get_string(node, "spec.podCIDR"));
	else if (!ev->prev_value || !json_get_string(node, "spec.podCIDR"))
		handle_node(c, node);
}

/* Keys whose node is gone (deleted while skiff-control was down) are released. */
static void release_orphans(struct nodeipam_controller *c)
{
	struct store_list_result l = { 0 };

	if (store_list(store_of(c), IPAM_KEY_PREFIX, NULL, 0, 0, &l) < 0)
		return;
	for (size_t i = 0; i < l.n; i++) {
		char *owner = key_node(&l.items[i]);
		_cleanup_json_ json_object *node = NULL;
		struct api_status st = { 0 };
		int rc = owner ? registry_read(c->reg, resource_by_name("nodes"), NULL, owner, &node, NULL, &st) : -ENOENT;
		const char *cidr = node ? json_get_string(node, "spec.podCIDR") : NULL;
		_cleanup_json_ json_object *v = json_tokener_parse(l.items[i].value);
		const char *mine = json_get_string(v, "podCIDR");

		api_status_clear(&st);
		free(owner);
		if (rc == -ENOENT || (cidr && *cidr && mine && strcmp(cidr, mine) != 0))
			store_delete(store_of(c), l.items[i].key, l.items[i].mod_rev, NULL);
	}
	store_list_result_clear(&l);
}

static void resync(void *ctx)
{
	struct nodeipam_controller *c = ctx;
	_cleanup_json_ json_object *list = NULL;
	json_object *items;

	if (ctrl_list(c->reg, "nodes", NULL, NULL, &list, &items) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(items); i++)
		handle_node(c, json_object_array_get_idx(items, i));
	release_orphans(c);
}

static const char *const prefixes[] = { NODE_PREFIX, NULL };
static const struct informer_ops ops = {
	.name = "node ipam controller",
	.thread_name = "ctrl-nodeipam",
	.prefixes = prefixes,
	.event = on_event,
	.resync = resync,
};

struct nodeipam_controller *nodeipam_controller_start(struct registry *reg, const char *cluster_cidr, int node_mask)
{
	struct nodeipam_controller *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return NULL;
	c->reg = reg;
	rc = ipam_range_parse(cluster_cidr, node_mask, &c->range);
	if (rc < 0) {
		log_error("--cluster-cidr %s with /%d node blocks: not an IPv4 CIDR that holds them", cluster_cidr,
			  node_mask);
		free(c);
		errno = -rc;
		return NULL;
	}
	c->inf = informer_start(reg, &ops, c);
	if (!c->inf) {
		int err = errno;

		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void nodeipam_controller_stop(struct nodeipam_controller *c)
{
	if (!c)
		return;
	informer_stop(c->inf);
	free(c);
}
