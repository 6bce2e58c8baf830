/* A string-keyed hash map (chained, power-of-two buckets) for the scheduler's cache and
 * queue: pods by "namespace/name", nodes by name. Keys are copied; values are borrowed. */
#ifndef SKIFF_SCHEDULER_STRMAP_H
#define SKIFF_SCHEDULER_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	struct strmap_entry *next;
	void *value;
	char key[];
};

struct strmap {
	struct strmap_entry **buckets;
	size_t n_buckets; /* 0 or a power of two */
	size_t n;
};

void *strmap_get(const struct strmap *m, const char *key);
/* Sets key to value (replacing an existing value, returned in *ret_old when not NULL). */
int strmap_put(struct strmap *m, const char *key, void *value, void **ret_old);
/* Removes key and returns its value, or NULL when absent. */
void *strmap_remove(struct strmap *m, const char *key);
/* Calls fn on each value; fn must not change the map. */
void strmap_foreach(const struct strmap *m, void (*fn)(const char *key, void *value, void *arg), void *arg);
/* Frees the entries (not the values). */
void strmap_clear(struct strmap *m);

#endif
