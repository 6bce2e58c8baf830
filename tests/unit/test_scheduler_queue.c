/* The scheduling queue: FIFO order, unschedulable pods parked until a cluster event,
 * backoff doubling to its cap, events during an attempt, forgetting, closing, and the
 * message memory that keeps repeated failures from rewriting the same condition. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "scheduler/queue.h"

static struct sched_queue q;

static void setup_no_backoff(void)
{
	sched_queue_init(&q, 0, 0);
}

static void teardown(void)
{
	sched_queue_destroy(&q);
}

TestSuite(scheduler_queue, .init = setup_no_backoff, .fini = teardown);

static void expect_pop(const char *want)
{
	char *key = NULL;

	cr_assert_eq(sched_queue_pop(&q, 0, &key), 0, "expected %s to be due", want);
	cr_assert_str_eq(key, want);
	free(key);
}

static void expect_empty(void)
{
	char *key = NULL;

	cr_assert_eq(sched_queue_pop(&q, 0, &key), -ETIMEDOUT, "nothing due, got %s", key ? key : "");
}

Test(scheduler_queue, fifo_and_dedup)
{
	cr_assert_eq(sched_queue_add(&q, "default/a"), 0);
	cr_assert_eq(sched_queue_add(&q, "default/b"), 0);
	cr_assert_eq(sched_queue_add(&q, "default/a"), 0);
	cr_assert_eq(sched_queue_len(&q), 2);
	expect_pop("default/a");
	expect_pop("default/b");
	expect_empty();
	sched_queue_done(&q, "default/a");
	sched_queue_done(&q, "default/b");
	cr_assert_eq(sched_queue_len(&q), 0);
}

Test(scheduler_queue, unschedulable_waits_for_a_cluster_event)
{
	sched_queue_add(&q, "default/a");
	expect_pop("default/a");
	sched_queue_unschedulable(&q, "default/a");
	expect_empty();
	sched_queue_move_all(&q);
	expect_pop("default/a");
}

Test(scheduler_queue, event_during_the_attempt_retries_it)
{
	sched_queue_add(&q, "default/a");
	expect_pop("default/a");
	sched_queue_move_all(&q);
	sched_queue_unschedulable(&q, "default/a");
	expect_pop("default/a");
}

Test(scheduler_queue, update_of_a_parked_pod_requeues_it)
{
	sched_queue_add(&q, "default/a");
	expect_pop("default/a");
	sched_queue_unschedulable(&q, "default/a");
	expect_empty();
	sched_queue_add(&q, "default/a");
	expect_pop("default/a");
}

Test(scheduler_queue, forget_drops_parked_and_in_flight_pods)
{
	sched_queue_add(&q, "default/a");
	sched_queue_add(&q, "default/b");
	expect_pop("default/a");
	sched_queue_forget(&q, "default/b");
	sched_queue_forget(&q, "default/a");
	sched_queue_unschedulable(&q, "default/a");
	cr_assert_eq(sched_queue_len(&q), 0);
	expect_empty();
}

Test(scheduler_queue, messages_are_written_once_per_change)
{
	sched_queue_add(&q, "default/a");
	cr_assert(sched_queue_note_message(&q, "default/a", "0/1 nodes are available: 1 Too many pods."));
	cr_assert_not(sched_queue_note_message(&q, "default/a", "0/1 nodes are available: 1 Too many pods."));
	cr_assert(sched_queue_note_message(&q, "default/a", "0/2 nodes are available: 2 Too many pods."));
}

Test(scheduler_queue, backoff_doubles_to_its_cap)
{
	struct sched_queue b;

	sched_queue_init(&b, 1000, 10000);
	cr_assert_eq(sched_queue_backoff_ms(&b, 1), 1000);
	cr_assert_eq(sched_queue_backoff_ms(&b, 2), 2000);
	cr_assert_eq(sched_queue_backoff_ms(&b, 3), 4000);
	cr_assert_eq(sched_queue_backoff_ms(&b, 4), 8000);
	cr_assert_eq(sched_queue_backoff_ms(&b, 5), 10000);
	cr_assert_eq(sched_queue_backoff_ms(&b, 50), 10000);
	sched_queue_destroy(&b);
}

Test(scheduler_queue, backing_off_pod_is_not_due_before_its_time)
{
	struct sched_queue b;
	char *key = NULL;

	sched_queue_init(&b, 60000, 60000);
	sched_queue_add(&b, "default/a");
	cr_assert_eq(sched_queue_pop(&b, 0, &key), 0);
	free(key);
	sched_queue_unschedulable(&b, "default/a");
	sched_queue_move_all(&b);
	/* Moved, but its minute of backoff has not passed. */
	cr_assert_eq(sched_queue_pop(&b, 0, &key), -ETIMEDOUT);
	sched_queue_destroy(&b);
}

Test(scheduler_queue, sleeping_pop_wakes_when_a_backoff_ends)
{
	struct sched_queue b;
	char *key = NULL;

	sched_queue_init(&b, 20, 20);
	sched_queue_add(&b, "default/a");
	cr_assert_eq(sched_queue_pop(&b, 0, &key), 0);
	free(key);
	sched_queue_backoff(&b, "default/a");
	cr_assert_eq(sched_queue_pop(&b, -1, &key), 0);
	cr_assert_str_eq(key, "default/a");
	free(key);
	sched_queue_destroy(&b);
}

static void *blocked_pop(void *arg)
{
	char *key = NULL;

	(void)arg;
	return (void *)(intptr_t)sched_queue_pop(&q, -1, &key);
}

Test(scheduler_queue, close_wakes_a_blocked_pop)
{
	pthread_t t;
	void *rc;

	cr_assert_eq(pthread_create(&t, NULL, blocked_pop, NULL), 0);
	sched_queue_close(&q);
	pthread_join(t, &rc);
	cr_assert_eq((intptr_t)rc, -ECANCELED);
}
