/* Shared by the agent's API tests: a bounded wait on a real condition, and list+watch callbacks
 * that record what they were handed ("relist:N ADDED:name ...") for the test to look for. */
#ifndef SKIFF_TEST_WATCH_KIT_H
#define SKIFF_TEST_WATCH_KIT_H

#include <criterion/criterion.h>
#include <stdbool.h>

#include "api/watch.h"

void kit_sleep_ms(int ms);

/* Polls cond up to 30 s (a bound, not a timing guess: each check is of a real state). */
#define KIT_WAIT_UNTIL(cond, what)                                \
	do {                                                      \
		int _i;                                           \
		for (_i = 0; _i < 1500 && !(cond); _i++)          \
			kit_sleep_ms(20);                         \
		cr_assert((cond), "timed out waiting: %s", what); \
	} while (0)

/* Records into one process-wide log (each Criterion test runs in its own process). */
extern const struct api_watch_ops watch_kit_recording;
bool watch_kit_logged(const char *needle);
int watch_kit_relists(void);
/* A copy of the log for a failure message (static buffer, the test thread's). */
const char *watch_kit_log(void);

#endif
