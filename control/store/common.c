/* Store value types shared by every backend: option defaults, result/event destructors,
 * and the refcounted event the broadcaster shares between watchers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void store_options_init(struct store_options *opts)
{
	*opts = (struct store_options){
		.compact_keep_revisions = 10000,
		.compact_keep_seconds = 300,
		.compact_interval_seconds = 60,
		.group_commit = true,
		.durable = true,
	};
}

void store_kv_clear(struct store_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	*kv = (struct store_kv){ 0 };
}

void store_list_result_clear(struct store_list_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		store_kv_clear(&r->items[i]);
	free(r->items);
	*r = (struct store_list_result){ 0 };
}

void store_event_clear(struct store_event *ev)
{
	if (!ev)
		return;
	free(ev->key);
	free(ev->value);
	free(ev->prev_value);
	*ev = (struct store_event){ 0 };
}

struct sevent *sevent_new(enum store_event_type type, const char *key, const char *value,
			  const char *prev_value, int64_t create_rev, int64_t mod_rev)
{
	struct sevent *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	atomic_init(&e->ref, 1);
	e->ev.type = type;
	e->ev.create_rev = create_rev;
	e->ev.mod_rev = mod_rev;
	e->ev.key = strdup(key);
	e->ev.value = value ? strdup(value) : NULL;
	e->ev.prev_value = prev_value ? strdup(prev_value) : NULL;
	if (!e->ev.key || (value && !e->ev.value) || (prev_value && !e->ev.prev_value)) {
		store_event_clear(&e->ev);
		free(e);
		return NULL;
	}
	e->bytes = sizeof(*e) + strlen(key) + (value ? strlen(value) : 0) +
		   (prev_value ? strlen(prev_value) : 0);
	return e;
}

void sevent_unref(struct sevent *e)
{
	struct store_attachment *a;

	if (!e || atomic_fetch_sub_explicit(&e->ref, 1, memory_order_acq_rel) != 1)
		return;
	a = atomic_load(&e->attachment);
	if (a)
		a->free(a);
	store_event_clear(&e->ev);
	free(e);
}

int sevent_vec_push(struct sevent_vec *vec, struct sevent *e)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 64;
		struct sevent **v = realloc(vec->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	vec->v[vec->n++] = e;
	return 0;
}

/* A store_shared_event is a sevent under its public name. */
static struct sevent *sev(const struct store_shared_event *e)
{
	return (struct sevent *)(uintptr_t)e;
}

const struct store_event *store_shared_event_get(const struct store_shared_event *e)
{
	return &sev(e)->ev;
}

struct store_attachment *store_shared_event_attachment(struct store_shared_event *e)
{
	return atomic_load_explicit(&sev(e)->attachment, memory_order_acquire);
}

struct store_attachment *store_shared_event_attach(struct store_shared_event *e, struct store_attachment *a)
{
	struct store_attachment *none = NULL;

	if (atomic_compare_exchange_strong(&sev(e)->attachment, &none, a))
		return a;
	return none; /* another watcher's thread attached first */
}

void store_shared_event_unref(struct store_shared_event *e)
{
	sevent_unref(sev(e));
}
