/* The event recorder (see events.h). */
#include "controllers/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "controllers/ctrl.h"

static void add_str(json_object *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_object_add(o, key, json_object_new_string(v));
}

static json_object *involved_of(json_object *obj)
{
	json_object *inv = json_object_new_object();

	if (!inv)
		return NULL;
	add_str(inv, "kind", json_get_string(obj, "kind"));
	add_str(inv, "namespace", meta_namespace(obj));
	add_str(inv, "name", meta_name(obj));
	add_str(inv, "uid", json_get_string(obj, "metadata.uid"));
	add_str(inv, "apiVersion", json_get_string(obj, "apiVersion") ?: "v1");
	add_str(inv, "resourceVersion", json_get_string(obj, "metadata.resourceVersion"));
	return inv;
}

json_object *event_build(json_object *obj, const char *component, const char *type, const char *reason,
			 const char *message)
{
	const char *ns = meta_namespace(obj);
	_cleanup_json_ json_object *ev = json_object_new_object();
	struct timespec now;
	char ts[META_TIMESTAMP_LEN], name[320];
	json_object *m, *src;

	if (!ev)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &now);
	meta_timestamp(now.tv_sec, ts);
	/* Kubernetes' naming: the object's name and the time in hex nanoseconds, unique enough. */
	snprintf(name, sizeof(name), "%.250s.%llx", meta_name(obj) ?: "unknown",
		 (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec);
	json_object_object_add(ev, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(ev, "kind", json_object_new_string("Event"));
	m = meta_of(ev);
	json_object_object_add(m, "name", json_object_new_string(name));
	json_object_object_add(m, "namespace", json_object_new_string(ns && *ns ? ns : "default"));
	json_object_object_add(ev, "involvedObject", involved_of(obj));
	add_str(ev, "reason", reason);
	add_str(ev, "message", message);
	src = json_object_new_object();
	add_str(src, "component", component);
	json_object_object_add(ev, "source", src);
	json_object_object_add(ev, "firstTimestamp", json_object_new_string(ts));
	json_object_object_add(ev, "lastTimestamp", json_object_new_string(ts));
	json_object_object_add(ev, "count", json_object_new_int(1));
	add_str(ev, "type", type);
	add_str(ev, "reportingComponent", component);
	return TAKE_PTR(ev);
}

/* client-go's EventSourceObjectSpamFilter: per source and involved object a token bucket of 25
 * events, refilled at one per 5 minutes, so an RC making 1,000 pods records 25 SuccessfulCreate
 * events, not 1,000 writes competing with the pods'. Keys live in a fixed table; a full probe
 * run evicts its least recently used entry, as client-go's LRU does. */
#define SPAM_SLOTS 4096
#define SPAM_PROBE 8
#define SPAM_BURST 25.0
#define SPAM_REFILL_S 300.0

static struct spam_entry {
	uint64_t hash;
	double tokens;
	int64_t last_ms;
} spam[SPAM_SLOTS];
static pthread_mutex_t spam_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t spam_hash(const char *component, const char *uid)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = component; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (const char *p = uid; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ? h : 1;
}

static bool spam_allow(const char *component, const char *uid, int64_t now_ms)
{
	uint64_t h = spam_hash(component, uid ?: "");
	struct spam_entry *e = NULL, *oldest = NULL;
	bool ok;

	pthread_mutex_lock(&spam_lock);
	for (unsigned i = 0; i < SPAM_PROBE && !e; i++) {
		struct spam_entry *s = &spam[(h + i) % SPAM_SLOTS];

		if (s->hash == h)
			e = s;
		else if (!oldest || s->last_ms < oldest->last_ms)
			oldest = s;
	}
	if (!e) {
		e = oldest;
		*e = (struct spam_entry){ .hash = h, .tokens = SPAM_BURST, .last_ms = now_ms };
	}
	e->tokens += (double)(now_ms - e->last_ms) / 1000.0 / SPAM_REFILL_S;
	if (e->tokens > SPAM_BURST)
		e->tokens = SPAM_BURST;
	e->last_ms = now_ms;
	ok = e->tokens >= 1.0;
	if (ok)
		e->tokens -= 1.0;
	pthread_mutex_unlock(&spam_lock);
	return ok;
}

void event_record(struct registry *reg, json_object *obj, const char *component, const char *type,
		  const char *reason, const char *fmt, ...)
{
	const struct write_options wo = { .field_manager = component };
	_cleanup_json_ json_object *ev = NULL, *out = NULL;
	_cleanup_free_ char *msg = NULL;
	struct api_status st = { 0 };
	va_list ap;
	int rc;

	if (!spam_allow(component, json_get_string(obj, "metadata.uid"), ctrl_now_ms())) {
		log_debug("event %s for %s: dropped by the spam filter (25 per object, then 1 per 5 min)", reason,
			  meta_name(obj));
		return;
	}
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return;
	ev = event_build(obj, component, type, reason, msg);
	if (!ev)
		return;
	rc = registry_create_object(reg, resource_by_name("events"), json_get_string(ev, "metadata.namespace"), ev,
				    &wo, &out, &st);
	if (rc < 0)
		log_debug("event %s for %s: %s", reason, meta_name(obj), st.message ? st.message : strerror(-rc));
	api_status_clear(&st);
}
