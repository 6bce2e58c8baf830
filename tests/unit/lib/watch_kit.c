/* The recording watch callbacks and the wait helper of watch_kit.h. */
#include "watch_kit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <skiff/json.h>

static struct {
	pthread_mutex_t lock;
	char log[4096];
	int relists;
} seen = { .lock = PTHREAD_MUTEX_INITIALIZER };

void kit_sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

static void note(const char *what, const char *name)
{
	pthread_mutex_lock(&seen.lock);
	snprintf(seen.log + strlen(seen.log), sizeof(seen.log) - strlen(seen.log), "%s:%s ", what, name);
	pthread_mutex_unlock(&seen.lock);
}

static int on_relist(void *ud, json_object *items)
{
	char n[16];

	(void)ud;
	snprintf(n, sizeof(n), "%zu", json_object_array_length(items));
	pthread_mutex_lock(&seen.lock);
	seen.relists++;
	pthread_mutex_unlock(&seen.lock);
	note("relist", n);
	return 0;
}

static int on_event(void *ud, const char *type, json_object *obj)
{
	(void)ud;
	note(type, json_get_string(obj, "metadata.name"));
	return 0;
}

const struct api_watch_ops watch_kit_recording = { .relist = on_relist, .event = on_event };

bool watch_kit_logged(const char *needle)
{
	bool r;

	pthread_mutex_lock(&seen.lock);
	r = strstr(seen.log, needle) != NULL;
	pthread_mutex_unlock(&seen.lock);
	return r;
}

int watch_kit_relists(void)
{
	int n;

	pthread_mutex_lock(&seen.lock);
	n = seen.relists;
	pthread_mutex_unlock(&seen.lock);
	return n;
}

const char *watch_kit_log(void)
{
	static char copy[sizeof(seen.log)];

	pthread_mutex_lock(&seen.lock);
	memcpy(copy, seen.log, sizeof(copy));
	pthread_mutex_unlock(&seen.lock);
	return copy;
}
