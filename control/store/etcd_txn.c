/* The etcd backend's writes: one etcd txn per store_txn (checked by store_txn already), its compares standing for the
 * store's rules; the failure branch reads every key so the failing op and its error are known. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "store/etcd.h"

static json_object *compare(struct etcd *e, const struct store_op *op)
{
	json_object *c = json_object_new_object();

	if (!c)
		return NULL;
	json_object_object_add(c, "key", etcd_key_json(e, op->key, false));
	if (op->type != STORE_OP_CREATE && op->expect_rev != 0) {
		/* A missing key's mod_revision is 0: this also fails on a missing key. */
		json_object_object_add(c, "target", json_object_new_string("MOD"));
		json_object_object_add(c, "result", json_object_new_string("EQUAL"));
		json_object_object_add(c, "mod_revision", etcd_i64_json(op->expect_rev));
	} else {
		json_object_object_add(c, "target", json_object_new_string("VERSION"));
		json_object_object_add(c, "result",
				       json_object_new_string(op->type == STORE_OP_CREATE ? "EQUAL" : "GREATER"));
		json_object_object_add(c, "version", etcd_i64_json(0));
	}
	return c;
}

static json_object *request(struct etcd *e, const char *type, const char *key, const char *value, int64_t lease)
{
	json_object *body = json_object_new_object(), *rq = json_object_new_object();
	_cleanup_free_ char *v = NULL;

	if (!body || !rq)
		goto fail;
	json_object_object_add(body, "key", etcd_key_json(e, key, false));
	if (value) {
		if (etcd_b64_encode(value, strlen(value), &v) < 0)
			goto fail;
		json_object_object_add(body, "value", json_object_new_string(v));
	}
	if (lease)
		json_object_object_add(body, "lease", etcd_i64_json(lease));
	json_object_object_add(rq, type, body);
	return rq;
fail:
	json_object_put(body);
	json_object_put(rq);
	return NULL;
}

json_object *etcd_txn_request(struct etcd *e, const struct store_op *ops, size_t n, int64_t lease)
{
	json_object *req = json_object_new_object();
	json_object *cmp = json_object_new_array(), *ok = json_object_new_array(), *fail = json_object_new_array();

	if (!req || !cmp || !ok || !fail) {
		json_object_put(cmp), json_object_put(ok), json_object_put(fail), json_object_put(req);
		return NULL;
	}
	json_object_object_add(req, "compare", cmp);
	json_object_object_add(req, "success", ok);
	json_object_object_add(req, "failure", fail);
	for (size_t i = 0; i < n; i++) {
		const struct store_op *op = &ops[i];
		json_object *c = compare(e, op), *w, *rd;

		w = op->type == STORE_OP_DELETE ? request(e, "request_delete_range", op->key, NULL, 0)
						: request(e, "request_put", op->key, op->value, lease);
		rd = request(e, "request_range", op->key, NULL, 0);
		if (!c || !w || !rd) {
			json_object_put(c), json_object_put(w), json_object_put(rd), json_object_put(req);
			return NULL;
		}
		json_object_array_add(cmp, c);
		json_object_array_add(ok, w);
		json_object_array_add(fail, rd);
	}
	return req;
}

/* The failure branch's reads: the first op whose rule the key's state breaks. */
static int first_failed(const struct store_op *ops, size_t n, json_object *responses, size_t *ret_failed)
{
	for (size_t i = 0; i < n; i++) {
		json_object *kvs = json_get_path(json_object_array_get_idx(responses, i), "response_range.kvs");
		json_object *kv = kvs ? json_object_array_get_idx(kvs, 0) : NULL;
		int r = 0;

		if (ops[i].type == STORE_OP_CREATE)
			r = kv ? -EEXIST : 0;
		else if (!kv)
			r = -ENOENT;
		else if (ops[i].expect_rev != 0 && ops[i].expect_rev != etcd_i64(kv, "mod_revision"))
			r = -ESTALE;
		if (r < 0) {
			if (ret_failed)
				*ret_failed = i;
			return r;
		}
	}
	log_debug("etcd: txn compare failed but no op breaks its rule");
	return -EIO;
}

/* Here beside the etcd limit it reports; SQLite's bounds the broadcast ring's overshoot. */
size_t store_max_txn_ops(struct store *s)
{
	return s->etcd ? ETCD_TXN_MAX_OPS : STORE_TXN_MAX_OPS;
}

int etcd_txn(struct store *s, const struct store_op *ops, size_t n, int64_t *ret_rev, size_t *ret_failed)
{
	_cleanup_json_ json_object *req = NULL, *ans = NULL;
	int64_t rev;
	int r;

	for (size_t i = 0; i < n; i++)
		if (ops[i].key[0] != '/')
			return -EINVAL; /* outside the store's range under its prefix */
	req = etcd_txn_request(s->etcd, ops, n, 0);
	if (!req)
		return -ENOMEM;
	r = etcd_post(s->etcd, "/v3/kv/txn", req, &ans);
	if (r < 0)
		return r;
	rev = etcd_i64(json_get_path(ans, "header"), "revision");
	etcd_saw_rev(s, rev);
	if (!json_object_get_boolean(json_object_object_get(ans, "succeeded")))
		return first_failed(ops, n, json_member(ans, "responses", json_type_array), ret_failed);
	/* As with SQLite: watchers hold the write's events before the writer is answered. */
	etcd_wait_seen(s, rev);
	if (ret_rev)
		*ret_rev = rev;
	return 0;
}
