/* Kubernetes' slowStartBatch: many similar writes issued in growing parallel batches, so
 * they share the store's group commits, while a failing write (quota, a bad template)
 * costs one call rather than hundreds. */
#ifndef SKIFF_CONTROLLERS_SLOW_START_H
#define SKIFF_CONTROLLERS_SLOW_START_H

/* One call: 0 on success, a negative errno on failure. Calls of one batch run at once on
 * different threads: fn must be safe for that. */
typedef int (*slow_start_fn)(void *ctx, int i);

/* Calls fn(ctx, i) for i = 0 .. count-1 in batches of 1, 2, 4, ... (each at most
 * max_parallel calls at once, on that many threads); a batch with any failure ends the
 * run after that batch. Returns how many calls succeeded: count minus that is the calls
 * that failed or were never made. */
int slow_start_batch(int count, int max_parallel, slow_start_fn fn, void *ctx);

/* Calls fn(ctx, i) for i = 0 .. count-1 all at once, on up to max_parallel threads, with
 * no regard to failures (writes that cannot hurt: events). */
void slow_start_all(int count, int max_parallel, slow_start_fn fn, void *ctx);

#endif
