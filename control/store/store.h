/* The store interface: a revisioned key-value store with a write log and watches.
 * SQLite is the embedded backend; etcd v3 (store_open_etcd, control/store/etcd*.c) serves the same calls.
 *
 * Keys are "/registry/<resource>/<namespace>/<name>" (cluster-scoped: no namespace part).
 * Values are the objects' JSON with metadata.resourceVersion left out: the API layer
 * sets it from mod_rev on every read, as Kubernetes does over etcd.
 *
 * Every write bumps one global revision counter. All calls are thread-safe.
 * Errors: -ENOENT missing key, -EEXIST key exists (create), -ESTALE revision
 * compare failed (update/delete), -ERANGE revision compacted (watch/list), -EIO, -ENOMEM. */
#ifndef SKIFF_STORE_H
#define SKIFF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_options {
	/* Shortest history kept by automatic compaction: both bounds must be passed. */
	int64_t compact_keep_revisions; /* default 10000 */
	int compact_keep_seconds;       /* default 300 */
	int compact_interval_seconds;   /* default 60; 0 = no automatic compaction */
	bool group_commit;              /* default true: concurrent writers share one fsync */
	bool durable;                   /* default true: synchronous=FULL */
};
void store_options_init(struct store_options *opts);

struct store_kv {
	char *key;
	char *value; /* NUL-terminated JSON */
	size_t value_len;
	int64_t create_rev;
	int64_t mod_rev;
};
void store_kv_clear(struct store_kv *kv);

struct store_list_result {
	struct store_kv *items;
	size_t n;
	int64_t revision; /* the revision the list was read at */
	bool more;        /* limit reached and further keys exist */
};
void store_list_result_clear(struct store_list_result *r);

enum store_op_type {
	STORE_OP_CREATE, /* fails -EEXIST if present */
	STORE_OP_UPDATE, /* fails -ENOENT if missing, -ESTALE if expect_rev set and differs */
	STORE_OP_DELETE, /* same compare rules as update */
};

struct store_op {
	enum store_op_type type;
	const char *key;
	const char *value; /* CREATE, UPDATE */
	int64_t expect_rev; /* UPDATE, DELETE: 0 = unconditional */
};

enum store_event_type {
	STORE_EVENT_PUT, /* create or update: prev_value NULL on create */
	STORE_EVENT_DELETE,
};

struct store_event {
	enum store_event_type type;
	char *key;
	char *value;      /* PUT: new value; DELETE: the value before deletion */
	char *prev_value; /* PUT on update: previous value; else NULL */
	int64_t create_rev;
	int64_t mod_rev; /* the revision of this event (for DELETE: the deleting revision) */
};
void store_event_clear(struct store_event *ev);

/* SQLite backend. Returns NULL with errno set. */
struct store *store_open_sqlite(const char *path, const struct store_options *opts);
/* etcd v3 backend over its JSON gateway: endpoints "http://HOST:PORT[,...]" (a request
 * that cannot connect is retried on the next), every key stored under prefix. Txns hold
 * at most 128 ops there and a txn carries at most 1.5 MiB (else -E2BIG). Returns NULL
 * with errno set. */
struct store *store_open_etcd(const char *endpoints, const char *prefix, const struct store_options *opts);
void store_close(struct store *s);

int64_t store_revision(struct store *s);
int64_t store_compacted_revision(struct store *s);

int store_get(struct store *s, const char *key, struct store_kv *ret);
/* Keys starting with prefix, in key order, strictly after start_after (NULL = from the
 * start), at most limit (0 = no limit), as of revision rev (0 = current; an older
 * revision must not be compacted: -ERANGE). */
int store_list(struct store *s, const char *prefix, const char *start_after, size_t limit,
	       int64_t rev, struct store_list_result *ret);
/* Counts keys under prefix at the current revision. */
int store_count(struct store *s, const char *prefix, size_t *ret);

/* Applies all ops atomically or none. On success *ret_rev (if not NULL) is the revision
 * of the write (every op of one txn shares it). On a failed compare returns the error of
 * the first failing op and sets *ret_failed (if not NULL) to its index. */
int store_txn(struct store *s, const struct store_op *ops, size_t n, int64_t *ret_rev, size_t *ret_failed);
/* The most ops one store_txn takes on this backend (etcd: 128; SQLite: 1,024); a bigger
 * txn is -E2BIG, which the API answers 413. Batches that may grow split by it. */
size_t store_max_txn_ops(struct store *s);
int store_create(struct store *s, const char *key, const char *value, int64_t *ret_rev);
int store_update(struct store *s, const char *key, const char *value, int64_t expect_rev, int64_t *ret_rev);
int store_delete(struct store *s, const char *key, int64_t expect_rev, int64_t *ret_rev);

/* Removes history before rev; watches and lists from earlier revisions then get -ERANGE. */
int store_compact(struct store *s, int64_t rev);

/* On (the default): the compactor compacts (and on etcd defragments). Instances sharing one etcd
 * turn it on only while leading, so that one of them does it. */
void store_set_maintenance(struct store *s, bool on);

/* Watches. A watch sees every event on keys starting with prefix whose revision is
 * greater than from_rev, in revision order, with no gaps. from_rev 0 = from now. */
struct store_watch;
int store_watch_new(struct store *s, const char *prefix, int64_t from_rev, struct store_watch **ret);
/* Waits up to timeout_ms (-1 forever) for the next event. 0 and *ret filled on event,
 * -ETIMEDOUT, -ERANGE if the watcher fell behind the compacted history, -ECANCELED
 * after store_watch_cancel. */
int store_watch_next(struct store_watch *w, struct store_event *ret, int timeout_ms);
/* Shared events: the event as every watcher of the store sees it, not copied, with one
 * attachment for the layer above to keep what it derives from the event (parsed objects,
 * encodings) once for all of its watchers. */
struct store_shared_event;
struct store_attachment {
	void (*free)(struct store_attachment *a); /* called when the event's last reference goes */
};
/* As store_watch_next, handing out a reference (drop it with store_shared_event_unref). */
int store_watch_next_shared(struct store_watch *w, struct store_shared_event **ret, int timeout_ms);
const struct store_event *store_shared_event_get(const struct store_shared_event *e);
/* The attachment, NULL while none is set. */
struct store_attachment *store_shared_event_attachment(struct store_shared_event *e);
/* Sets a unless one is set already; returns the one set (if not a, the caller frees a). */
struct store_attachment *store_shared_event_attach(struct store_shared_event *e, struct store_attachment *a);
void store_shared_event_unref(struct store_shared_event *e);
/* An fd that polls readable while events are pending (for poll() beside a socket). */
int store_watch_fd(struct store_watch *w);
/* Makes a blocked store_watch_next return -ECANCELED; safe from any thread. */
void store_watch_cancel(struct store_watch *w);
void store_watch_free(struct store_watch *w);

/* Leases (etcd only; the SQLite store answers -EOPNOTSUPP), for leader election: a key bound
 * to a lease vanishes when the lease is revoked or not kept alive for its TTL. */
int store_lease_grant(struct store *s, int ttl_s, int64_t *ret_id);
/* Renews the lease: 0 and *ret_ttl (if not NULL) its TTL again; -ENOENT when it expired. */
int store_lease_keepalive(struct store *s, int64_t id, int64_t *ret_ttl);
/* 0, or -ENOENT when it was gone already. */
int store_lease_revoke(struct store *s, int64_t id);
/* Creates key = value bound to lease when key is absent; else -EEXIST and *ret_holder (if not
 * NULL; caller frees) the present value. */
int store_create_leased(struct store *s, const char *key, const char *value, int64_t lease, char **ret_holder);

#endif
