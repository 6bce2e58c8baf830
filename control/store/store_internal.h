/* Internals shared by the SQLite store's files: the store object, the read-connection
 * pool, the write path, the in-memory event broadcaster. Not for use outside control/store/. */
#ifndef SKIFF_STORE_INTERNAL_H
#define SKIFF_STORE_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "store/store.h"

/* A txn with more ops than this is refused (-E2BIG): it bounds the ring's overshoot. */
#define STORE_TXN_MAX_OPS 1024
/* The event ring: soft bounds on what it keeps, and its fixed slot count
 * (soft count + one maximal txn must fit). */
#define STORE_RING_SLOTS 8192
#define STORE_RING_SOFT_EVENTS 4096
#define STORE_RING_SOFT_BYTES (16u << 20)

/* One event, shared by the ring and every watcher reading it; freed on the last unref. */
struct sevent {
	atomic_int ref;
	size_t bytes;
	struct store_event ev;
	_Atomic(struct store_attachment *) attachment; /* the API layer's, freed with the event */
};
struct sevent *sevent_new(enum store_event_type type, const char *key, const char *value,
			  const char *prev_value, int64_t create_rev, int64_t mod_rev);
void sevent_unref(struct sevent *e);

/* A growable list of events (the references it holds are its user's to drop). */
struct sevent_vec {
	struct sevent **v;
	size_t n, cap;
};
int sevent_vec_push(struct sevent_vec *vec, struct sevent *e);

/* A read connection with its prepared statements; used by one thread at a time. */
struct reader {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *meta, *get, *list, *list_hist, *count, *replay;
	struct reader *next;
};

/* A queued write: filled by the writer, answered by whoever commits it. */
struct txn_req {
	const struct store_op *ops;
	size_t n;
	int rc;
	int64_t rev;
	size_t failed;
	sem_t done; /* posted by the committer once answered */
	struct txn_req *next;
};

struct bcast {
	pthread_rwlock_t lock;
	struct sevent *slots[STORE_RING_SLOTS];
	uint64_t first_seq, next_seq; /* the ring holds [first_seq, next_seq) */
	size_t bytes;
	int64_t last_rev; /* last revision published */
	pthread_mutex_t watchers_lock;
	struct store_watch **watchers;
	size_t n_watchers, cap_watchers;
};

struct store {
	char *path;
	struct store_options opts;

	pthread_mutex_t write_lock; /* guards wdb and its statements */
	sqlite3 *wdb;
	sqlite3_stmt *w_begin, *w_commit, *w_rollback, *w_sel, *w_ins_kv, *w_upd_kv, *w_del_kv,
		*w_ins_log, *w_set_meta, *w_compact_chunk;

	_Atomic int64_t rev;
	_Atomic int64_t compacted;
	_Atomic int64_t n_batches; /* committed SQLite transactions holding txns */
	_Atomic int64_t n_txns;    /* txns committed */

	pthread_mutex_t q_lock;
	pthread_cond_t q_cond;    /* committer: work queued or stopping */
	struct txn_req *q_head, *q_tail;
	bool q_stop;
	bool committer_running;
	pthread_t committer;

	pthread_mutex_t pool_lock;
	struct reader *pool;
	size_t pool_idle;

	pthread_mutex_t ck_lock; /* checkpointer */
	pthread_cond_t ck_cond;
	bool ck_stop, ck_pending, ck_running;
	int ck_woken_at; /* WAL pages when the checkpointer was last woken (write lock) */
	pthread_t ck_thread;
	sqlite3 *ck_db;

	pthread_mutex_t c_lock;
	pthread_cond_t c_cond;
	bool c_stop;
	bool compactor_running;
	pthread_t compactor;

	struct bcast bc;

	atomic_bool maint_off; /* store_set_maintenance(false): no compaction, no defragmentation */
	struct etcd *etcd; /* set: the etcd backend serves the calls (etcd*.c), the SQLite parts stay unused */
};

/* A store with its locks and ring set up and no backend yet. */
struct store *store_alloc(const struct store_options *opts);
/* store_txn's checks of the ops, with the backend's limit on their number. */
int store_txn_validate(const struct store_op *ops, size_t n, size_t max_ops);

/* sqlite_open.c */
int store_sql_open(const char *path, const struct store_options *opts, int cache_kib, sqlite3 **ret);
int store_sql_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret);
int store_sql_exec_stmt(sqlite3_stmt *st);
int store_reader_get(struct store *s, struct reader **ret);
void store_reader_put(struct store *s, struct reader *r);
/* Binds [lo, hi) bounds of a key prefix ("" = all keys) to two parameters. */
int store_bind_prefix(sqlite3_stmt *st, int lo_idx, int hi_idx, const char *prefix, char **ret_hi);
bool store_key_has_prefix(const char *key, const char *prefix, size_t plen);

/* The events of one committed batch, kept referenced until its watchers are woken. */
struct batch_events {
	struct sevent **v;
	size_t n;
};

/* sqlite_txn.c: commits a list of queued txns in one SQLite transaction and adds their
 * events to the ring; write_lock held. The caller then calls bcast_notify() unlocked. */
void store_commit_batch(struct store *s, struct txn_req *reqs, struct batch_events *ret);
int store_write_meta(struct store *s, const char *k, int64_t v);

/* group_commit.c */
int store_committer_start(struct store *s);
void store_committer_stop(struct store *s);

/* broadcast.c */
void bcast_init(struct bcast *bc, int64_t rev);
void bcast_destroy(struct bcast *bc);
/* Adds the events (in revision order) to the ring, which takes its own references. */
void bcast_publish(struct bcast *bc, struct sevent **evs, size_t n);
/* Wakes the watchers the events concern, then drops the caller's references. Runs
 * outside the write lock so that the next batch commits meanwhile. */
void bcast_notify(struct bcast *bc, struct batch_events *be);
/* Events up to rev were lost (the etcd feeder resumed past compacted revisions): empties the
 * ring so that every watcher in it fails with -ERANGE, and the ring continues after rev. */
void bcast_gap(struct bcast *bc, int64_t rev);
int bcast_register(struct bcast *bc, struct store_watch *w);
void bcast_unregister(struct bcast *bc, struct store_watch *w);
/* Called by the broadcaster for a watcher that may have new events. */
void store_watch_signal(struct store_watch *w);
bool store_watch_wants(struct store_watch *w, const struct sevent *e);

/* checkpoint.c: WAL checkpoints off the commit path. */
int store_checkpointer_start(struct store *s);
void store_checkpointer_stop(struct store *s);

/* compact.c */
int store_compactor_start(struct store *s);
void store_compactor_stop(struct store *s);

/* Test hooks: how many SQLite commits carried how many txns. */
int64_t store_sqlite_batches(struct store *s);
int64_t store_sqlite_txns(struct store *s);

#endif
