/* The namespaces create admission knows, fed by a store watch that is caught up before
 * every answer, so a create into an active namespace costs no store read (see admission.h). */
#include "api/admission.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"

#define NS_PREFIX "/registry/namespaces/"
#define NS_BUCKETS 64

/* Terminating or deleted namespaces stay as entries (tombstones) so that a store read older
 * than the event that ended them is never learned as active. */
struct ns_entry {
	struct ns_entry *next;
	int64_t rev; /* the revision this state is as of */
	bool active;
	char name[];
};

struct ns_cache {
	struct ns_cache *next;
	struct store *store;
	struct store_watch *w; /* NULL until (re)started */
	uint64_t gen;          /* bumped whenever the entries are dropped */
	struct ns_entry *buckets[NS_BUCKETS];
};

/* One lock for all: the caches are a handful of pointer walks next to a store round trip. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ns_cache *caches;

bool admission_ns_terminating(const char *value)
{
	_cleanup_json_ json_object *obj = NULL;

	/* Without the key in the stored text it cannot be terminating: the parse is skipped. */
	if (!value || !strstr(value, "\"deletionTimestamp\""))
		return false;
	obj = meta_from_stored(value, 0);
	return obj && meta_deleting(obj);
}

static size_t bucket_of(const char *name)
{
	size_t h = 5381;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = h * 33 + *p;
	return h % NS_BUCKETS;
}

static struct ns_entry **entry_slot(struct ns_cache *c, const char *name)
{
	struct ns_entry **e = &c->buckets[bucket_of(name)];

	while (*e && strcmp((*e)->name, name) != 0)
		e = &(*e)->next;
	return e;
}

/* Records name's state as of rev unless the entry already knows a newer one. */
static void entry_set(struct ns_cache *c, const char *name, int64_t rev, bool active)
{
	struct ns_entry **slot = entry_slot(c, name), *e = *slot;

	if (!e) {
		e = calloc(1, sizeof(*e) + strlen(name) + 1);
		if (!e)
			return; /* not cached: the next create reads the store */
		strcpy(e->name, name);
		*slot = e;
	} else if (e->rev >= rev) {
		return;
	}
	e->rev = rev;
	e->active = active;
}

static void entries_drop(struct ns_cache *c)
{
	for (size_t i = 0; i < NS_BUCKETS; i++) {
		while (c->buckets[i]) {
			struct ns_entry *e = c->buckets[i];

			c->buckets[i] = e->next;
			free(e);
		}
	}
	c->gen++;
}

static void apply_event(struct ns_cache *c, const struct store_event *ev)
{
	const char *name = ev->key + strlen(NS_PREFIX);

	if (strncmp(ev->key, NS_PREFIX, strlen(NS_PREFIX)) != 0 || !*name)
		return;
	entry_set(c, name, ev->mod_rev,
		  ev->type == STORE_EVENT_PUT && !admission_ns_terminating(ev->value));
}

/* Applies every event the store has published so far. A writer's events are in the store's
 * ring before its write returns, so a namespace change acknowledged to anyone is seen here.
 * A watch that fell behind is restarted with the entries dropped. */
static void catch_up(struct ns_cache *c)
{
	struct store_event ev = { 0 };
	int r;

	if (!c->w) {
		r = store_watch_new(c->store, NS_PREFIX, 0, &c->w);
		if (r < 0) {
			c->w = NULL;
			log_debug("admission: namespace watch: %s", strerror(-r));
			return;
		}
	}
	while ((r = store_watch_next(c->w, &ev, 0)) == 0) {
		apply_event(c, &ev);
		store_event_clear(&ev);
	}
	if (r != -ETIMEDOUT) {
		log_debug("admission: namespace watch ended (%s), restarting", strerror(-r));
		store_watch_free(c->w);
		c->w = NULL;
		entries_drop(c);
	}
}

static struct ns_cache *cache_of(struct store *s)
{
	struct ns_cache *c = caches;

	while (c && c->store != s)
		c = c->next;
	return c;
}

int admission_ns_cache_attach(struct store *s)
{
	struct ns_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->store = s;
	pthread_mutex_lock(&lock);
	c->next = caches;
	caches = c;
	pthread_mutex_unlock(&lock);
	return 0;
}

void admission_ns_cache_detach(struct store *s)
{
	struct ns_cache **p, *c = NULL;

	pthread_mutex_lock(&lock);
	for (p = &caches; *p; p = &(*p)->next) {
		if ((*p)->store == s) {
			c = *p;
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	if (!c)
		return;
	if (c->w)
		store_watch_free(c->w);
	entries_drop(c);
	free(c);
}

int admission_ns_cache_lookup(struct store *s, const char *ns, uint64_t *ret_gen)
{
	struct ns_cache *c;
	struct ns_entry *e;
	int r = 0;

	pthread_mutex_lock(&lock);
	c = cache_of(s);
	if (c) {
		catch_up(c);
		e = *entry_slot(c, ns);
		r = e && e->active ? 1 : 0;
		*ret_gen = c->gen;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

void admission_ns_cache_learn(struct store *s, const char *ns, int64_t mod_rev, bool active, uint64_t gen)
{
	struct ns_cache *c;

	pthread_mutex_lock(&lock);
	c = cache_of(s);
	/* A read begun before the entries were dropped may predate events now lost. */
	if (c && c->w && c->gen == gen)
		entry_set(c, ns, mod_rev, active);
	pthread_mutex_unlock(&lock);
}
