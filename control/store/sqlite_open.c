/* SQLite store: opening (pragmas, schema, meta), closing, and the pool of read
 * connections that serve gets, lists and watch replays beside the writer (WAL). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>

#include "store/etcd.h"
#include "store/store_internal.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT NULL,"
	" create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL);"
	/* prev_mod_rev 0: the key did not exist before this entry. */
	"CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY, rev INTEGER NOT NULL,"
	" key TEXT NOT NULL, type INTEGER NOT NULL, value TEXT, prev_value TEXT,"
	" create_rev INTEGER NOT NULL, prev_mod_rev INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS log_rev_key ON log(rev, key);"
	"INSERT OR IGNORE INTO meta(k, v) VALUES('revision', 0), ('compacted', 0);";

/* Shared by every read: one snapshot gives both the revision and the compaction floor. */
#define KEY_RANGE "key >= ?1 AND key < ?2 AND key > ?3"
static const char sql_list_hist[] =
	"SELECT key, value, create_rev, mod_rev FROM kv WHERE " KEY_RANGE
	" AND key NOT IN (SELECT key FROM log WHERE rev > ?5 AND " KEY_RANGE ")"
	" UNION ALL "
	"SELECT key, prev_value, create_rev, prev_mod_rev FROM log WHERE id IN"
	" (SELECT MIN(id) FROM log WHERE rev > ?5 AND " KEY_RANGE " GROUP BY key)"
	" AND prev_mod_rev > 0"
	" ORDER BY 1 LIMIT ?4";

int store_sql_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL) != SQLITE_OK)
		return -EIO;
	return 0;
}

/* Steps a statement that returns no rows, and resets it. */
int store_sql_exec_stmt(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

bool store_key_has_prefix(const char *key, const char *prefix, size_t plen)
{
	return strncmp(key, prefix, plen) == 0;
}

int store_bind_prefix(sqlite3_stmt *st, int lo_idx, int hi_idx, const char *prefix, char **ret_hi)
{
	size_t n = strlen(prefix);
	char *hi;

	/* Keys are UTF-8 text and never hold 0xff, so "\xff" is above them all. */
	while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	if (n == 0) {
		hi = strdup("\xff");
	} else {
		hi = strndup(prefix, n);
		if (hi)
			hi[n - 1]++;
	}
	if (!hi)
		return -ENOMEM;
	sqlite3_bind_text(st, lo_idx, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, hi_idx, hi, -1, SQLITE_STATIC);
	*ret_hi = hi; /* must outlive the statement's step */
	return 0;
}

int store_sql_open(const char *path, const struct store_options *opts, int cache_kib, sqlite3 **ret)
{
	sqlite3 *db = NULL;
	char pragmas[256];

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto fail;
	/* synchronous=FULL in WAL mode fsyncs the WAL on every commit: an acknowledged
	 * write survives power loss. NORMAL only syncs at checkpoints. */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
		 "PRAGMA cache_size=-%d; PRAGMA journal_size_limit=67108864;",
		 opts->durable ? "FULL" : "NORMAL", cache_kib);
	if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	*ret = db;
	return 0;
fail:
	sqlite3_close(db);
	return -EIO;
}

static void reader_free(struct reader *r)
{
	if (!r)
		return;
	sqlite3_stmt *sts[] = { r->begin, r->commit, r->meta, r->get, r->list, r->list_hist, r->count, r->replay };
	for (size_t i = 0; i < ELEMENTSOF(sts); i++)
		sqlite3_finalize(sts[i]);
	sqlite3_close(r->db);
	free(r);
}

static int reader_new(struct store *s, struct reader **ret)
{
	struct reader *r = calloc(1, sizeof(*r));
	int e = 0;

	if (!r)
		return -ENOMEM;
	if (store_sql_open(s->path, &s->opts, 2048, &r->db) < 0) {
		free(r);
		return -EIO;
	}
	e |= store_sql_prepare(r->db, "BEGIN", &r->begin);
	e |= store_sql_prepare(r->db, "COMMIT", &r->commit);
	e |= store_sql_prepare(r->db,
			       "SELECT (SELECT v FROM meta WHERE k = 'revision'),"
			       " (SELECT v FROM meta WHERE k = 'compacted')",
			       &r->meta);
	e |= store_sql_prepare(r->db, "SELECT value, create_rev, mod_rev FROM kv WHERE key = ?1", &r->get);
	e |= store_sql_prepare(r->db,
			       "SELECT key, value, create_rev, mod_rev FROM kv WHERE " KEY_RANGE
			       " ORDER BY key LIMIT ?4",
			       &r->list);
	e |= store_sql_prepare(r->db, sql_list_hist, &r->list_hist);
	e |= store_sql_prepare(r->db, "SELECT count(*) FROM kv WHERE key >= ?1 AND key < ?2", &r->count);
	e |= store_sql_prepare(r->db,
			       "SELECT rev, key, type, value, prev_value, create_rev FROM log"
			       " WHERE rev > ?5 AND rev <= ?6 AND " KEY_RANGE " ORDER BY rev, id",
			       &r->replay);
	if (e) {
		reader_free(r);
		return -EIO;
	}
	*ret = r;
	return 0;
}

int store_reader_get(struct store *s, struct reader **ret)
{
	struct reader *r;

	pthread_mutex_lock(&s->pool_lock);
	r = s->pool;
	if (r) {
		s->pool = r->next;
		s->pool_idle--;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (r) {
		*ret = r;
		return 0;
	}
	return reader_new(s, ret);
}

/* Idle connections beyond this are closed: each holds its own page cache. */
#define POOL_MAX_IDLE 8

void store_reader_put(struct store *s, struct reader *r)
{
	pthread_mutex_lock(&s->pool_lock);
	if (s->pool_idle < POOL_MAX_IDLE) {
		r->next = s->pool;
		s->pool = r;
		s->pool_idle++;
		r = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	reader_free(r);
}

static int prepare_writer(struct store *s)
{
	int e = 0;

	e |= store_sql_prepare(s->wdb, "BEGIN IMMEDIATE", &s->w_begin);
	e |= store_sql_prepare(s->wdb, "COMMIT", &s->w_commit);
	e |= store_sql_prepare(s->wdb, "ROLLBACK", &s->w_rollback);
	e |= store_sql_prepare(s->wdb, "SELECT value, create_rev, mod_rev FROM kv WHERE key = ?1", &s->w_sel);
	e |= store_sql_prepare(s->wdb, "INSERT INTO kv(key, value, create_rev, mod_rev) VALUES(?1, ?2, ?3, ?3)",
			       &s->w_ins_kv);
	e |= store_sql_prepare(s->wdb, "UPDATE kv SET value = ?2, mod_rev = ?3 WHERE key = ?1", &s->w_upd_kv);
	e |= store_sql_prepare(s->wdb, "DELETE FROM kv WHERE key = ?1", &s->w_del_kv);
	e |= store_sql_prepare(s->wdb,
			       "INSERT INTO log(rev, key, type, value, prev_value, create_rev, prev_mod_rev)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			       &s->w_ins_log);
	e |= store_sql_prepare(s->wdb, "INSERT OR REPLACE INTO meta(k, v) VALUES(?1, ?2)", &s->w_set_meta);
	e |= store_sql_prepare(s->wdb,
			       "DELETE FROM log WHERE id IN (SELECT id FROM log WHERE rev <= ?1 LIMIT ?2)",
			       &s->w_compact_chunk);
	return e ? -EIO : 0;
}

static int load_meta(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_sql_prepare(s->wdb, "SELECT k, v FROM meta", &st) < 0)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(k, "revision") == 0)
			atomic_store(&s->rev, sqlite3_column_int64(st, 1));
		else if (strcmp(k, "compacted") == 0)
			atomic_store(&s->compacted, sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static void finalize_writer(struct store *s)
{
	sqlite3_stmt *sts[] = { s->w_begin,  s->w_commit,  s->w_rollback,  s->w_sel,	     s->w_ins_kv,
				s->w_upd_kv, s->w_del_kv, s->w_ins_log, s->w_set_meta, s->w_compact_chunk };
	for (size_t i = 0; i < ELEMENTSOF(sts); i++)
		sqlite3_finalize(sts[i]);
}

/* The compactor sleeps with deadlines that wall-clock jumps must not move. */
static void init_monotonic_cond(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

struct store *store_alloc(const struct store_options *opts)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (opts)
		s->opts = *opts;
	else
		store_options_init(&s->opts);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->q_lock, NULL);
	pthread_cond_init(&s->q_cond, NULL);
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->ck_lock, NULL);
	pthread_cond_init(&s->ck_cond, NULL);
	pthread_mutex_init(&s->c_lock, NULL);
	init_monotonic_cond(&s->c_cond);
	bcast_init(&s->bc, 0);
	return s;
}

struct store *store_open_sqlite(const char *path, const struct store_options *opts)
{
	struct store *s = store_alloc(opts);
	int r = -ENOMEM;

	if (!s)
		goto fail_nomem;
	s->path = strdup(path);
	if (!s->path)
		goto fail;

	r = store_sql_open(path, &s->opts, 8192, &s->wdb);
	if (r < 0)
		goto fail;
	r = -EIO;
	if (sqlite3_exec(s->wdb, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	r = prepare_writer(s);
	if (r < 0)
		goto fail;
	r = load_meta(s);
	if (r < 0)
		goto fail;
	s->bc.last_rev = atomic_load(&s->rev);
	r = store_checkpointer_start(s);
	if (r < 0)
		goto fail;
	if (s->opts.group_commit) {
		r = store_committer_start(s);
		if (r < 0)
			goto fail;
	}
	if (s->opts.compact_interval_seconds > 0) {
		r = store_compactor_start(s);
		if (r < 0)
			goto fail;
	}
	return s;
fail:
	store_close(s);
	errno = -r;
	return NULL;
fail_nomem:
	errno = ENOMEM;
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_compactor_stop(s);
	store_committer_stop(s);
	store_checkpointer_stop(s);
	if (s->etcd)
		etcd_close(s);
	while (s->pool) {
		struct reader *r = s->pool;
		s->pool = r->next;
		reader_free(r);
	}
	finalize_writer(s);
	sqlite3_close(s->wdb);
	bcast_destroy(&s->bc);
	pthread_mutex_destroy(&s->write_lock);
	pthread_mutex_destroy(&s->q_lock);
	pthread_cond_destroy(&s->q_cond);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->ck_lock);
	pthread_cond_destroy(&s->ck_cond);
	pthread_mutex_destroy(&s->c_lock);
	pthread_cond_destroy(&s->c_cond);
	free(s->path);
	free(s);
}

int64_t store_revision(struct store *s)
{
	return atomic_load(&s->rev);
}

int64_t store_compacted_revision(struct store *s)
{
	return atomic_load(&s->compacted);
}

int64_t store_sqlite_batches(struct store *s)
{
	return atomic_load(&s->n_batches);
}

int64_t store_sqlite_txns(struct store *s)
{
	return atomic_load(&s->n_txns);
}
