/* SQLite store write path: checks each txn's compares and applies its writes inside the
 * batch's one SQLite transaction, logs every write, then publishes the events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

/* A key's state as the batch sees it before an op. */
struct cur {
	bool exists;
	char *value;
	int64_t create_rev, mod_rev;
};

int store_write_meta(struct store *s, const char *k, int64_t v)
{
	sqlite3_bind_text(s->w_set_meta, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->w_set_meta, 2, v);
	return store_sql_exec_stmt(s->w_set_meta);
}

static int read_current(struct store *s, const char *key, struct cur *c)
{
	sqlite3_stmt *st = s->w_sel;
	int r = 0, rc;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->exists = true;
		c->value = strdup((const char *)sqlite3_column_text(st, 0));
		c->create_rev = sqlite3_column_int64(st, 1);
		c->mod_rev = sqlite3_column_int64(st, 2);
		if (!c->value)
			r = -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		r = -EIO;
	}
	sqlite3_reset(st);
	return r;
}

static int op_check(const struct store_op *op, const struct cur *c)
{
	if (op->type == STORE_OP_CREATE)
		return c->exists ? -EEXIST : 0;
	if (!c->exists)
		return -ENOENT;
	if (op->expect_rev != 0 && op->expect_rev != c->mod_rev)
		return -ESTALE;
	return 0;
}

static int write_kv(struct store *s, const struct store_op *op, int64_t rev)
{
	sqlite3_stmt *st;

	switch (op->type) {
	case STORE_OP_CREATE:
		st = s->w_ins_kv;
		break;
	case STORE_OP_UPDATE:
		st = s->w_upd_kv;
		break;
	default:
		st = s->w_del_kv;
		break;
	}
	sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
	if (op->type != STORE_OP_DELETE) {
		sqlite3_bind_text(st, 2, op->value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, rev);
	}
	return store_sql_exec_stmt(st);
}

static int write_log(struct store *s, const struct store_op *op, const struct cur *c, int64_t rev,
		     int64_t create_rev)
{
	sqlite3_stmt *st = s->w_ins_log;
	bool del = op->type == STORE_OP_DELETE;

	sqlite3_bind_int64(st, 1, rev);
	sqlite3_bind_text(st, 2, op->key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, del ? STORE_EVENT_DELETE : STORE_EVENT_PUT);
	if (del)
		sqlite3_bind_null(st, 4);
	else
		sqlite3_bind_text(st, 4, op->value, -1, SQLITE_STATIC);
	if (c->exists)
		sqlite3_bind_text(st, 5, c->value, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, create_rev);
	sqlite3_bind_int64(st, 7, c->exists ? c->mod_rev : 0);
	return store_sql_exec_stmt(st);
}

static int op_apply(struct store *s, const struct store_op *op, const struct cur *c, int64_t rev,
		    struct sevent_vec *eb)
{
	int64_t create_rev = op->type == STORE_OP_CREATE ? rev : c->create_rev;
	struct sevent *e;
	int r;

	r = write_kv(s, op, rev);
	if (r < 0)
		return r;
	r = write_log(s, op, c, rev, create_rev);
	if (r < 0)
		return r;
	if (op->type == STORE_OP_DELETE)
		e = sevent_new(STORE_EVENT_DELETE, op->key, c->value, NULL, create_rev, rev);
	else
		e = sevent_new(STORE_EVENT_PUT, op->key, op->value, c->exists ? c->value : NULL, create_rev, rev);
	if (!e)
		return -ENOMEM;
	r = sevent_vec_push(eb, e);
	if (r < 0)
		sevent_unref(e);
	return r;
}

/* 0: applied at rev; 1: a compare failed (answered in req); < 0: the batch must fail. */
static int txn_run(struct store *s, struct txn_req *req, int64_t rev, struct sevent_vec *eb)
{
	struct cur *curs = calloc(req->n, sizeof(*curs));
	int r = 0;

	if (!curs)
		return -ENOMEM;
	for (size_t i = 0; i < req->n; i++) {
		r = read_current(s, req->ops[i].key, &curs[i]);
		if (r < 0)
			goto out;
		r = op_check(&req->ops[i], &curs[i]);
		if (r < 0) {
			req->rc = r;
			req->failed = i;
			r = 1;
			goto out;
		}
	}
	for (size_t i = 0; i < req->n && r == 0; i++)
		r = op_apply(s, &req->ops[i], &curs[i], rev, eb);
out:
	for (size_t i = 0; i < req->n; i++)
		free(curs[i].value);
	free(curs);
	return r;
}

void store_commit_batch(struct store *s, struct txn_req *reqs, struct batch_events *ret)
{
	int64_t rev = atomic_load(&s->rev), ntx = 0;
	struct sevent_vec eb = { 0 };
	int r;

	*ret = (struct batch_events){ 0 };
	for (struct txn_req *q = reqs; q; q = q->next)
		q->rc = 1; /* pending */
	if (store_sql_exec_stmt(s->w_begin) < 0)
		goto fail;
	for (struct txn_req *q = reqs; q; q = q->next) {
		r = txn_run(s, q, rev + 1, &eb);
		if (r < 0)
			goto rollback;
		if (r == 0) {
			q->rc = 0;
			q->rev = ++rev;
			ntx++;
		}
	}
	if (ntx == 0) {
		/* Only failed compares: nothing was written. */
		store_sql_exec_stmt(s->w_rollback);
		return;
	}
	if (store_write_meta(s, "revision", rev) < 0 || store_sql_exec_stmt(s->w_commit) < 0)
		goto rollback;
	atomic_store(&s->rev, rev);
	atomic_fetch_add(&s->n_batches, 1);
	atomic_fetch_add(&s->n_txns, ntx);
	/* Watchers see the batch only once it is durable, before any writer is answered. */
	bcast_publish(&s->bc, eb.v, eb.n);
	*ret = (struct batch_events){ .v = eb.v, .n = eb.n };
	return;
rollback:
	store_sql_exec_stmt(s->w_rollback);
fail:
	for (struct txn_req *q = reqs; q; q = q->next)
		if (q->rc >= 0)
			q->rc = -EIO;
	for (size_t i = 0; i < eb.n; i++)
		sevent_unref(eb.v[i]);
	free(eb.v);
}
