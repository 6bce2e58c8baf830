/* Store writes: validation of txns, and group commit — writers queue their txn and wait
 * while one committer thread commits everything queued in one SQLite transaction. */
#include <errno.h>
#include <semaphore.h>
#include <string.h>

#include "store/etcd.h"
#include "store/store_internal.h"

int store_txn_validate(const struct store_op *ops, size_t n, size_t max_ops)
{
	if (n == 0)
		return -EINVAL;
	if (n > max_ops)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (!ops[i].key || !ops[i].key[0])
			return -EINVAL;
		if (ops[i].type != STORE_OP_CREATE && ops[i].type != STORE_OP_UPDATE &&
		    ops[i].type != STORE_OP_DELETE)
			return -EINVAL;
		if (ops[i].type != STORE_OP_DELETE && !ops[i].value)
			return -EINVAL;
		/* Like etcd: one key at most once per txn, so compares read committed state. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(ops[i].key, ops[j].key) == 0)
				return -EINVAL;
	}
	return 0;
}

static void *committer_main(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->q_lock);
	for (;;) {
		struct txn_req *batch;
		struct batch_events be;

		while (!s->q_head && !s->q_stop)
			pthread_cond_wait(&s->q_cond, &s->q_lock);
		if (!s->q_head)
			break;
		batch = s->q_head;
		s->q_head = s->q_tail = NULL;
		pthread_mutex_unlock(&s->q_lock);

		pthread_mutex_lock(&s->write_lock);
		store_commit_batch(s, batch, &be);
		pthread_mutex_unlock(&s->write_lock);
		bcast_notify(&s->bc, &be);

		/* Each writer has its own semaphore: only this batch's writers wake, and none of
		 * them has to take q_lock again to find out. */
		while (batch) {
			struct txn_req *next = batch->next; /* the writer owns batch once posted */
			sem_post(&batch->done);
			batch = next;
		}
		pthread_mutex_lock(&s->q_lock);
	}
	pthread_mutex_unlock(&s->q_lock);
	return NULL;
}

int store_committer_start(struct store *s)
{
	int r = pthread_create(&s->committer, NULL, committer_main, s);

	if (r != 0)
		return -r;
	s->committer_running = true;
	return 0;
}

void store_committer_stop(struct store *s)
{
	if (!s->committer_running)
		return;
	pthread_mutex_lock(&s->q_lock);
	s->q_stop = true;
	pthread_cond_signal(&s->q_cond);
	pthread_mutex_unlock(&s->q_lock);
	pthread_join(s->committer, NULL);
	s->committer_running = false;
}

static int txn_submit(struct store *s, struct txn_req *req)
{
	struct batch_events be;

	if (!s->opts.group_commit) {
		pthread_mutex_lock(&s->write_lock);
		store_commit_batch(s, req, &be);
		pthread_mutex_unlock(&s->write_lock);
		bcast_notify(&s->bc, &be);
		return 0;
	}
	if (sem_init(&req->done, 0, 0) < 0)
		return -errno;
	pthread_mutex_lock(&s->q_lock);
	if (s->q_stop) {
		pthread_mutex_unlock(&s->q_lock);
		sem_destroy(&req->done);
		return -ESHUTDOWN;
	}
	if (s->q_tail)
		s->q_tail->next = req;
	else
		s->q_head = req;
	s->q_tail = req;
	pthread_cond_signal(&s->q_cond);
	pthread_mutex_unlock(&s->q_lock);
	while (sem_wait(&req->done) < 0 && errno == EINTR)
		;
	sem_destroy(&req->done);
	return 0;
}

int store_txn(struct store *s, const struct store_op *ops, size_t n, int64_t *ret_rev, size_t *ret_failed)
{
	struct txn_req req = { .ops = ops, .n = n };
	int r;

	r = store_txn_validate(ops, n, s->etcd ? ETCD_TXN_MAX_OPS : STORE_TXN_MAX_OPS);
	if (r < 0)
		return r;
	if (s->etcd)
		return etcd_txn(s, ops, n, ret_rev, ret_failed);
	r = txn_submit(s, &req);
	if (r < 0)
		return r;
	if (req.rc < 0) {
		if (ret_failed && (req.rc == -EEXIST || req.rc == -ENOENT || req.rc == -ESTALE))
			*ret_failed = req.failed;
		return req.rc;
	}
	if (ret_rev)
		*ret_rev = req.rev;
	return 0;
}

int store_create(struct store *s, const char *key, const char *value, int64_t *ret_rev)
{
	struct store_op op = { .type = STORE_OP_CREATE, .key = key, .value = value };

	return store_txn(s, &op, 1, ret_rev, NULL);
}

int store_update(struct store *s, const char *key, const char *value, int64_t expect_rev, int64_t *ret_rev)
{
	struct store_op op = { .type = STORE_OP_UPDATE, .key = key, .value = value, .expect_rev = expect_rev };

	return store_txn(s, &op, 1, ret_rev, NULL);
}

int store_delete(struct store *s, const char *key, int64_t expect_rev, int64_t *ret_rev)
{
	struct store_op op = { .type = STORE_OP_DELETE, .key = key, .expect_rev = expect_rev };

	return store_txn(s, &op, 1, ret_rev, NULL);
}
