/* Pod bindings, one or many at once (see registry_bind.h), batches split to the store's txn size. */
#include "api/registry_bind.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/meta.h"

#define MANY_MAX 1000 /* larger batches bind alone: one read per pod is the cost either way */

/* k8s marks a bound pod scheduled; agents and kubectl describe read the condition. */
static void mark_scheduled(json_object *pod)
{
	json_object *status = json_ensure_object(pod, "status"), *conds, *c;
	char ts[META_TIMESTAMP_LEN];

	if (!status)
		return;
	conds = json_get_path(status, "conditions");
	if (!conds || !json_object_is_type(conds, json_type_array)) {
		conds = json_object_new_array();
		json_object_object_add(status, "conditions", conds);
	}
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		const char *t = json_get_string(json_object_array_get_idx(conds, i), "type");

		if (t && strcmp(t, "PodScheduled") == 0)
			json_object_array_del_idx(conds, i--, 1);
	}
	c = json_object_new_object();
	if (!c || !conds) {
		json_object_put(c);
		return;
	}
	meta_timestamp(time(NULL), ts);
	json_object_object_add(c, "type", json_object_new_string("PodScheduled"));
	json_object_object_add(c, "status", json_object_new_string("True"));
	json_object_object_add(c, "lastProbeTime", NULL);
	json_object_object_add(c, "lastTransitionTime", json_object_new_string(ts));
	json_object_array_add(conds, c);
}

int registry_bind_apply(json_object *pod, const char *name, const char *node, struct api_status *st)
{
	const char *bound = json_get_string(pod, "spec.nodeName");

	if (bound && *bound) {
		api_status_set(st, 409, "Conflict",
			       "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already assigned to node "
			       "\"%s\"",
			       name, name, bound);
		return -EEXIST;
	}
	if (meta_deleting(pod)) {
		api_status_set(st, 409, "Conflict",
			       "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is being deleted, cannot be "
			       "assigned to a host",
			       name, name);
		return -EEXIST;
	}
	json_object_object_add(json_ensure_object(pod, "spec"), "nodeName", json_object_new_string(node));
	mark_scheduled(pod);
	return 0;
}

/* One pod of a batch: read, checked and edited as a lone binding would be. */
struct prepared {
	char *key, *value;
	int64_t rev;
	bool in_txn; /* still in the batch's txn */
	bool alone;  /* to be bound through registry_bind */
};

static void prepare(struct registry *reg, struct registry_binding *b, struct prepared *p)
{
	const struct resource *r = resource_by_name("pods");
	_cleanup_json_ json_object *pod = NULL;
	struct api_status st = { 0 };

	b->rc = registry_read(reg, r, b->ns, b->name, &pod, &p->rev, &st);
	if (b->rc == 0)
		b->rc = registry_bind_apply(pod, b->name, b->node, &st);
	api_status_clear(&st);
	if (b->rc < 0)
		return;
	p->key = resource_key(r, b->ns, b->name);
	p->value = meta_to_stored(pod);
	p->in_txn = p->key && p->value;
	p->alone = !p->in_txn;
}

static int bind_alone(struct registry *reg, struct registry_binding *b, const struct write_options *wo)
{
	_cleanup_json_ json_object *body = json_object_new_object(), *ret = NULL;
	json_object *target = json_object_new_object();
	struct api_status st = { 0 };
	int rc;

	if (!body || !target) {
		json_object_put(target);
		return -ENOMEM;
	}
	json_object_object_add(target, "name", json_object_new_string(b->node));
	json_object_object_add(body, "kind", json_object_new_string("Binding"));
	json_object_object_add(body, "target", target);
	rc = registry_bind(reg, resource_by_name("pods"), b->ns, b->name, body, wo, &ret, &st);
	api_status_clear(&st);
	return rc;
}

/* Writes the pods still in the txn; a pod whose compare fails goes alone and the rest are
 * written again. A txn over the store's size (etcd: 1.5 MiB) is written in halves. Any other
 * failure sends them all alone. */
static void commit(struct registry *reg, struct prepared *p, size_t n)
{
	_cleanup_free_ struct store_op *ops = calloc(n, sizeof(*ops));
	_cleanup_free_ size_t *idx = calloc(n, sizeof(*idx));

	for (;;) {
		size_t m = 0, failed = 0;
		int rc;

		for (size_t i = 0; ops && idx && i < n; i++)
			if (p[i].in_txn) {
				ops[m] = (struct store_op){ .type = STORE_OP_UPDATE, .key = p[i].key, .value = p[i].value,
							    .expect_rev = p[i].rev };
				idx[m++] = i;
			}
		if (m == 0 && ops && idx)
			return;
		rc = ops && idx ? store_txn(registry_store(reg), ops, m, NULL, &failed) : -ENOMEM;
		if (rc == 0)
			return;
		if ((rc == -ESTALE || rc == -ENOENT) && failed < m) {
			p[idx[failed]].in_txn = false;
			p[idx[failed]].alone = true;
			continue;
		}
		if (rc == -E2BIG && m > 1) {
			commit(reg, p, n / 2);
			commit(reg, p + n / 2, n - n / 2);
			return;
		}
		for (size_t i = 0; i < n; i++)
			if (p[i].in_txn) {
				p[i].in_txn = false;
				p[i].alone = true;
			}
		return;
	}
}

size_t registry_bind_many(struct registry *reg, struct registry_binding *b, size_t n,
			  const struct write_options *wo)
{
	_cleanup_free_ struct prepared *p = NULL;
	size_t bound = 0;

	if (n > MANY_MAX || (wo && wo->dry_run) || !(p = calloc(n, sizeof(*p)))) {
		for (size_t i = 0; i < n; i++)
			bound += (b[i].rc = bind_alone(reg, &b[i], wo)) == 0;
		return bound;
	}
	for (size_t i = 0; i < n; i++)
		prepare(reg, &b[i], &p[i]);
	/* One txn per chunk the backend takes (etcd: 128 ops), each all-or-nothing on its own. */
	for (size_t off = 0, cap = store_max_txn_ops(registry_store(reg)); off < n; off += cap)
		commit(reg, p + off, n - off < cap ? n - off : cap);
	for (size_t i = 0; i < n; i++) {
		if (p[i].alone)
			b[i].rc = bind_alone(reg, &b[i], wo);
		bound += b[i].rc == 0;
		free(p[i].key);
		free(p[i].value);
	}
	return bound;
}
