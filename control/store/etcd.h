/* The etcd v3 backend's internals: the client of etcd's JSON gateway (base64 keys and
 * values, unary POSTs with endpoint failover, the streaming watch) and the store calls it backs. */
#ifndef SKIFF_STORE_ETCD_H
#define SKIFF_STORE_ETCD_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "store/store_internal.h"

/* The gateway's limit on operations per txn: a bigger store_txn is -E2BIG on etcd. */
#define ETCD_TXN_MAX_OPS 128
/* Keys one range of a list reads: bigger lists are read in pages at one revision. */
#define ETCD_LIST_PAGE 1000
/* Idle curl handles kept for unary requests (each with its open connections). */
#define ETCD_POOL_MAX 64

struct curl_slist;

struct etcd {
	char **endpoints;
	size_t n_endpoints;
	atomic_size_t good; /* the endpoint that answered last: tried first */
	char *prefix;       /* prepended to every store key */
	size_t plen;

	/* The feeder: one watch stream over the prefix feeding the event ring. */
	pthread_t feeder;
	bool feeder_running;
	atomic_bool stop;
	pthread_mutex_t seen_lock;
	pthread_cond_t seen_cond;
	int64_t seen; /* last revision published to the ring */

	/* Unary requests' idle curl handles (CURL *): connections reused, not one per request. */
	pthread_mutex_t pool_lock;
	bool pool_ready;
	void *pool[ETCD_POOL_MAX];
	size_t n_pool;
	struct curl_slist *headers; /* of every unary request */
};

/* etcd_http.c */
int etcd_b64_encode(const char *p, size_t n, char **ret);
/* Decodes into a NUL-terminated buffer. */
int etcd_b64_decode(const char *b64, char **ret, size_t *ret_len);
/* A json string holding base64 of prefix+key (plus a NUL byte when after is set: the next key). */
json_object *etcd_key_json(struct etcd *e, const char *key, bool after);
/* base64 of the first key past every key starting with prefix+key. */
json_object *etcd_range_end_json(struct etcd *e, const char *key);
/* 64-bit numbers arrive as strings; missing fields are zero. */
int64_t etcd_i64(json_object *o, const char *field);
json_object *etcd_i64_json(int64_t v);
/* POSTs req to path, failing over to the next endpoint on connect errors. *ret is the
 * answer; gateway errors: -ERANGE compacted, -EAGAIN future revision, else -EIO. */
int etcd_post(struct etcd *e, const char *path, json_object *req, json_object **ret);
/* The handle pool of etcd_post: set up when opening, freed (connections closed) on close. */
int etcd_pool_init(struct etcd *e);
void etcd_pool_free(struct etcd *e);
/* A streaming POST /v3/watch: on_msg gets every message; its nonzero return ends the
 * stream (returned, > 0 as 0), as does stop. Returns -ECONNRESET if the stream broke. */
int etcd_stream(struct etcd *e, json_object *req, int (*on_msg)(void *arg, json_object *msg), void *arg,
		atomic_bool *stop);

/* etcd_kv.c: store.h's calls for a store with s->etcd set. */
int etcd_get(struct store *s, const char *key, struct store_kv *ret);
int etcd_list(struct store *s, const char *prefix, const char *start_after, size_t limit, int64_t rev,
	      struct store_list_result *ret);
int etcd_count(struct store *s, const char *prefix, size_t *ret);
int etcd_txn(struct store *s, const struct store_op *ops, size_t n, int64_t *ret_rev, size_t *ret_failed);
/* The gateway body of a txn of ops: a compare per op, the writes (puts bound to lease when it is
 * not 0), and a range of every key on failure. NULL on allocation failure. */
json_object *etcd_txn_request(struct etcd *e, const struct store_op *ops, size_t n, int64_t lease);
int etcd_compact(struct store *s, int64_t rev);
/* Raises the store revision to rev if it is newer. */
void etcd_saw_rev(struct store *s, int64_t rev);
/* Raises the store's compacted revision to rev if it is newer. */
void etcd_saw_compacted(struct store *s, int64_t rev);

/* etcd_watch.c */
int etcd_feeder_start(struct store *s);
void etcd_feeder_stop(struct store *s);
/* Blocks until the ring holds revision rev (bounded): writers' events reach watchers first. */
void etcd_wait_seen(struct store *s, int64_t rev);
/* Events of (floor, ring's last revision] under the watcher's prefix, from etcd's history,
 * in revision order; *ret_floor becomes the last revision read. */
int etcd_replay(struct store *s, const char *prefix, int64_t floor, atomic_bool *stop, struct sevent ***ret,
		size_t *ret_n, int64_t *ret_floor);

/* etcd_maint.c: free bytes of a member's file (dbSize - dbSizeInUse) that make the compactor
 * defragment it. */
#define ETCD_DEFRAG_MIN_FREE (8 << 20)
/* dbSize and dbSizeInUse of member (endpoint) i. */
int etcd_member_status(struct etcd *e, size_t i, int64_t *ret_size, int64_t *ret_in_use);
/* Defragments, one after another, the members with min_free bytes or more free; a member that
 * fails (down, no answer) is logged and skipped (never fatal). Returns the number defragmented. */
int etcd_defrag(struct store *s, int64_t min_free);

/* etcd_open.c */
void etcd_close(struct store *s);

#endif
