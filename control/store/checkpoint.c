/* WAL checkpoints on their own thread and connection: the committer only signals when the
 * WAL has grown, so copying pages into the database and its fsync never delay a commit. */
#include <errno.h>

#include "store/store_internal.h"

/* WAL size (pages) that wakes the checkpointer, and the size at which the committer
 * finishes the checkpoint itself: under steady writes a background checkpoint never
 * catches up with the WAL's end, and only a complete one lets the WAL start over. By
 * then most pages were copied in the background, so the committer's share is small. */
#define CKPT_WAKE_PAGES 1000
#define CKPT_FORCE_PAGES 8000

/* Runs inside the committer's COMMIT, write lock held. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	if (pages >= CKPT_FORCE_PAGES) {
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	if (pages < s->ck_woken_at)
		s->ck_woken_at = 0; /* the WAL started over */
	/* Once per CKPT_WAKE_PAGES of growth, not after every commit past it: back-to-back
	 * checkpoints each copied the same hot pages again and paid one more fsync of the
	 * database file (a quarter of the server's CPU time during creates). */
	if (pages - s->ck_woken_at >= CKPT_WAKE_PAGES) {
		s->ck_woken_at = pages;
		pthread_mutex_lock(&s->ck_lock);
		s->ck_pending = true;
		pthread_cond_signal(&s->ck_cond);
		pthread_mutex_unlock(&s->ck_lock);
	}
	return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->ck_lock);
	for (;;) {
		while (!s->ck_pending && !s->ck_stop)
			pthread_cond_wait(&s->ck_cond, &s->ck_lock);
		if (s->ck_stop)
			break;
		s->ck_pending = false;
		pthread_mutex_unlock(&s->ck_lock);
		/* PASSIVE: copies what no reader still needs, never waits for the writer. */
		(void)sqlite3_wal_checkpoint_v2(s->ck_db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&s->ck_lock);
	}
	pthread_mutex_unlock(&s->ck_lock);
	return NULL;
}

int store_checkpointer_start(struct store *s)
{
	int r;

	r = store_sql_open(s->path, &s->opts, 256, &s->ck_db);
	if (r < 0)
		return r;
	r = pthread_create(&s->ck_thread, NULL, checkpointer_main, s);
	if (r != 0) {
		sqlite3_close(s->ck_db);
		s->ck_db = NULL;
		return -r;
	}
	s->ck_running = true;
	/* Replaces SQLite's own autocheckpoint, which would run inside the committer. */
	sqlite3_wal_hook(s->wdb, wal_hook, s);
	return 0;
}

void store_checkpointer_stop(struct store *s)
{
	if (!s->ck_running)
		return;
	pthread_mutex_lock(&s->ck_lock);
	s->ck_stop = true;
	pthread_cond_signal(&s->ck_cond);
	pthread_mutex_unlock(&s->ck_lock);
	pthread_join(s->ck_thread, NULL);
	sqlite3_close(s->ck_db);
	s->ck_db = NULL;
	s->ck_running = false;
}
