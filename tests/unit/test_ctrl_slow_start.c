/* slow_start_batch: growing batches, every call made once, a failing batch ends the run,
 * and the count it returns is exactly the calls that succeeded. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>

#include "controllers/slow_start.h"

#define MAX 1100

struct calls {
	atomic_int seen[MAX];
	atomic_int n;
	int fail_from;  /* calls with i >= this fail (-1: none) */
	int fail_every; /* or every such call fails (0: none) */
};

static int call(void *arg, int i)
{
	struct calls *c = arg;

	atomic_fetch_add(&c->seen[i], 1);
	atomic_fetch_add(&c->n, 1);
	if (c->fail_from >= 0 && i >= c->fail_from)
		return -EIO;
	if (c->fail_every && i % c->fail_every == c->fail_every - 1)
		return -EINVAL;
	return 0;
}

Test(slow_start, all_succeed_each_call_once)
{
	static struct calls c = { .fail_from = -1 };

	cr_assert_eq(slow_start_batch(1000, 64, call, &c), 1000);
	cr_assert_eq(atomic_load(&c.n), 1000);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(atomic_load(&c.seen[i]), 1, "call %d", i);
}

Test(slow_start, a_failure_ends_after_its_batch)
{
	/* Batches are [0], [1,2], [3..6], [7..14], [15..30]: a failure at 20 ends after 30. */
	static struct calls c = { .fail_from = 20 };

	cr_assert_eq(slow_start_batch(500, 8, call, &c), 20);
	cr_assert_eq(atomic_load(&c.n), 31);
	cr_assert_eq(atomic_load(&c.seen[31]), 0);
}

Test(slow_start, first_call_failing_costs_one_call)
{
	static struct calls c = { .fail_from = 0 };

	cr_assert_eq(slow_start_batch(500, 64, call, &c), 0);
	cr_assert_eq(atomic_load(&c.n), 1);
}

Test(slow_start, failures_inside_a_batch_are_counted_exactly)
{
	/* Every 3rd call fails: batch [0] ok, [1,2] has call 2 failing, so 3 calls, 2 ok. */
	static struct calls c = { .fail_from = -1, .fail_every = 3 };

	cr_assert_eq(slow_start_batch(100, 4, call, &c), 2);
	cr_assert_eq(atomic_load(&c.n), 3);
}

Test(slow_start, zero_and_one_parallel)
{
	static struct calls c = { .fail_from = -1 };

	cr_assert_eq(slow_start_batch(0, 4, call, &c), 0);
	cr_assert_eq(slow_start_batch(7, 0, call, &c), 7);
	cr_assert_eq(atomic_load(&c.n), 7);
}

Test(slow_start, all_at_once_ignores_failures)
{
	static struct calls c = { .fail_from = 0 };

	slow_start_all(300, 16, call, &c);
	cr_assert_eq(atomic_load(&c.n), 300);
	for (int i = 0; i < 300; i++)
		cr_assert_eq(atomic_load(&c.seen[i]), 1, "call %d", i);
}
