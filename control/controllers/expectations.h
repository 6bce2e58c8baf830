/* Controller expectations, as Kubernetes' ReplicationManager keeps them: how many creates
 * and deletes a controller has issued and not yet seen come back on its watch. A controller
 * whose expectations are pending does not act again, so it never overshoots. */
#ifndef SKIFF_CONTROLLERS_EXPECTATIONS_H
#define SKIFF_CONTROLLERS_EXPECTATIONS_H

#include <stdbool.h>
#include <stdint.h>

struct expectations;

/* ttl_ms: pending expectations older than this count as satisfied (a lost event must not
 * stall a controller forever). NULL on ENOMEM. */
struct expectations *expectations_new(int64_t ttl_ms);
void expectations_free(struct expectations *e);

/* Replaces key's expectations with add creates and del deletes, stamped now_ms. 0 or -ENOMEM. */
int expectations_expect(struct expectations *e, const char *key, int add, int del, int64_t now_ms);
/* One create / delete of key's was observed (or failed and will never be observed). */
void expectations_created(struct expectations *e, const char *key);
void expectations_deleted(struct expectations *e, const char *key);
/* True when key has nothing pending, or what it has expired. */
bool expectations_satisfied(const struct expectations *e, const char *key, int64_t now_ms);
void expectations_forget(struct expectations *e, const char *key);
void expectations_clear(struct expectations *e);

#endif
