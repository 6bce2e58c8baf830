/* Growing parallel batches of writes (see slow_start.h). */
#include "controllers/slow_start.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct batch {
	slow_start_fn fn;
	void *ctx;
	atomic_int next; /* the next index to hand out */
	int end;
	atomic_int ok, failed;
};

static void *worker(void *arg)
{
	struct batch *b = arg;
	int i;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->end) {
		if (b->fn(b->ctx, i) == 0)
			atomic_fetch_add(&b->ok, 1);
		else
			atomic_fetch_add(&b->failed, 1);
	}
	return NULL;
}

/* Runs calls [start, start+size) on up to threads threads (the caller's among them, so a
 * failed pthread_create only costs parallelism). */
static void run_batch(struct batch *b, int start, int size, int threads)
{
	pthread_t *tids = threads > 1 ? calloc(threads - 1, sizeof(*tids)) : NULL;
	int started = 0;

	atomic_store(&b->next, start);
	b->end = start + size;
	for (int t = 0; tids && t < threads - 1; t++, started++)
		if (pthread_create(&tids[t], NULL, worker, b) != 0)
			break;
	worker(b);
	for (int t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
}

int slow_start_batch(int count, int max_parallel, slow_start_fn fn, void *ctx)
{
	struct batch b = { .fn = fn, .ctx = ctx };
	int done = 0;

	if (max_parallel < 1)
		max_parallel = 1;
	for (int size = 1; done < count; size *= 2) {
		if (size > count - done)
			size = count - done;
		run_batch(&b, done, size, size < max_parallel ? size : max_parallel);
		done += size;
		if (atomic_load(&b.failed) > 0)
			break;
	}
	return atomic_load(&b.ok);
}

void slow_start_all(int count, int max_parallel, slow_start_fn fn, void *ctx)
{
	struct batch b = { .fn = fn, .ctx = ctx };

	if (count > 0)
		run_batch(&b, 0, count, count < max_parallel ? count : (max_parallel < 1 ? 1 : max_parallel));
}
