/* etcd leases for leader election: grant, keep alive, revoke, and a key created only while
 * absent and bound to a lease (it vanishes with the lease). The SQLite store has no leases. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "store/etcd.h"

static json_object *id_request(int64_t id)
{
	json_object *req = json_object_new_object();

	if (req)
		json_object_object_add(req, "ID", etcd_i64_json(id));
	return req;
}

int store_lease_grant(struct store *s, int ttl_s, int64_t *ret_id)
{
	_cleanup_json_ json_object *req = NULL, *ans = NULL;
	int64_t id;
	int r;

	if (!s->etcd)
		return -EOPNOTSUPP;
	req = json_object_new_object();
	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "TTL", etcd_i64_json(ttl_s));
	r = etcd_post(s->etcd, "/v3/lease/grant", req, &ans);
	if (r < 0)
		return r;
	id = etcd_i64(ans, "ID");
	if (id == 0)
		return -EIO;
	*ret_id = id;
	return 0;
}

int store_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl)
{
	_cleanup_json_ json_object *req = NULL, *ans = NULL;
	int64_t ttl;
	int r;

	if (!s->etcd)
		return -EOPNOTSUPP;
	req = id_request(id);
	if (!req)
		return -ENOMEM;
	/* A streaming call on the gateway: one request in, one {"result": ...} out. */
	r = etcd_post(s->etcd, "/v3/lease/keepalive", req, &ans);
	if (r < 0)
		return r;
	if (json_get_path(ans, "error"))
		return -EIO;
	/* An expired or revoked lease answers without a TTL. */
	ttl = etcd_i64(json_get_path(ans, "result"), "TTL");
	if (ttl <= 0)
		return -ENOENT;
	if (ret_ttl)
		*ret_ttl = ttl;
	return 0;
}

int store_lease_revoke(struct store *s, int64_t id)
{
	_cleanup_json_ json_object *req = NULL, *ans = NULL;
	int r;

	if (!s->etcd)
		return -EOPNOTSUPP;
	req = id_request(id);
	if (!req)
		return -ENOMEM;
	r = etcd_post(s->etcd, "/v3/kv/lease/revoke", req, &ans);
	/* "requested lease not found": gone already, which is what revoking asks for. */
	return r == -EIO ? -ENOENT : r;
}

int store_create_leased(struct store *s, const char *key, const char *value, int64_t lease, char **ret_holder)
{
	_cleanup_json_ json_object *req = NULL, *ans = NULL;
	json_object *kv;
	int r;

	if (!s->etcd)
		return -EOPNOTSUPP;
	req = etcd_txn_request(s->etcd, &(struct store_op){ .type = STORE_OP_CREATE, .key = key, .value = value }, 1,
			       lease);
	if (!req)
		return -ENOMEM;
	r = etcd_post(s->etcd, "/v3/kv/txn", req, &ans);
	if (r < 0)
		return r;
	etcd_saw_rev(s, etcd_i64(json_get_path(ans, "header"), "revision"));
	if (json_object_get_boolean(json_object_object_get(ans, "succeeded")))
		return 0;
	kv = json_object_array_get_idx(json_get_path(ans, "responses"), 0);
	kv = json_object_array_get_idx(json_get_path(kv, "response_range.kvs"), 0);
	if (ret_holder && kv && etcd_b64_decode(json_get_string(kv, "value"), ret_holder, NULL) < 0)
		return -ENOMEM;
	return -EEXIST;
}
