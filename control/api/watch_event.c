/* The per-event watch cache (see watch_event.h). One mutex per event: watchers of one event
 * take it briefly each, and json-c objects are not safe to read from several threads
 * (serialising one writes into it). */
#include "api/watch_event.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/encode.h"
#include "api/meta.h"

/* Encodings kept per event: JSON for each type, plus a few Table forms. */
#define ENC_SLOTS 8

struct encoding {
	const char *type; /* NULL: free slot */
	bool table, with_columns;
	time_t now; /* Tables only: their Age column depends on it */
	char *buf;
	size_t len;
};

struct watch_event {
	struct store_attachment att; /* first: the store frees us through it */
	pthread_mutex_t lock;
	const struct store_event *ev;
	bool parsed;
	int parse_rc;
	json_object *cur, *prev; /* the stored values with resourceVersion set */
	struct encoding enc[ENC_SLOTS];
	unsigned n_encodings;
};

static void watch_event_free(struct store_attachment *a)
{
	struct watch_event *we = (struct watch_event *)a;

	json_object_put(we->cur);
	json_object_put(we->prev);
	for (size_t i = 0; i < ENC_SLOTS; i++)
		free(we->enc[i].buf);
	pthread_mutex_destroy(&we->lock);
	free(we);
}

struct watch_event *watch_event_of(struct store_shared_event *ev)
{
	struct store_attachment *a = store_shared_event_attachment(ev);
	struct watch_event *we;

	if (a)
		return (struct watch_event *)a;
	we = calloc(1, sizeof(*we));
	if (!we)
		return NULL;
	we->att.free = watch_event_free;
	we->ev = store_shared_event_get(ev);
	pthread_mutex_init(&we->lock, NULL);
	a = store_shared_event_attach(ev, &we->att);
	if (a != &we->att)
		watch_event_free(&we->att); /* another stream's thread was first */
	return (struct watch_event *)a;
}

/* With the lock held. */
static int parse(struct watch_event *we)
{
	const struct store_event *ev = we->ev;
	const char *cur = ev->type == STORE_EVENT_PUT ? ev->value : NULL;
	const char *prev = ev->type == STORE_EVENT_PUT ? ev->prev_value : ev->value;

	if (we->parsed)
		return we->parse_rc;
	we->parsed = true;
	we->cur = meta_from_stored(cur, ev->mod_rev);
	we->prev = meta_from_stored(prev, ev->mod_rev);
	we->parse_rc = (cur && !we->cur) || (prev && !we->prev) ? -EIO : 0;
	return we->parse_rc;
}

static bool matches(const struct label_selector *labels, const struct field_selector *fields, json_object *obj)
{
	return obj && (!labels || label_selector_matches(labels, json_get_path(obj, "metadata.labels"))) &&
	       (!fields || field_selector_matches(fields, obj));
}

int watch_event_classify(struct watch_event *we, const struct label_selector *labels,
			 const struct field_selector *fields, const char **ret_type)
{
	bool cm, pm;
	int rc;

	pthread_mutex_lock(&we->lock);
	rc = parse(we);
	cm = matches(labels, fields, we->cur);
	pm = matches(labels, fields, we->prev);
	pthread_mutex_unlock(&we->lock);
	if (rc < 0)
		return rc;
	/* Gone, or no longer selected: DELETED with the last state the client saw matching. */
	*ret_type = cm && pm ? "MODIFIED" : cm ? "ADDED" : pm ? "DELETED" : NULL;
	return 0;
}

static json_object *object_for(struct watch_event *we, const char *type)
{
	return strcmp(type, "DELETED") == 0 ? we->prev : we->cur;
}

/* With the lock held: the slot for this encoding, filled if new; NULL when none is free. */
static struct encoding *find_or_fill(struct watch_event *we, const struct resource *r, const char *type,
				     bool table, bool with_columns, time_t now, int *ret_rc)
{
	_cleanup_json_ json_object *o = NULL;
	struct encoding *e = NULL;
	const char *s;
	size_t n;

	*ret_rc = 0;
	if (!table) { /* plain JSON is the same at any time */
		with_columns = false;
		now = 0;
	}
	for (size_t i = 0; i < ENC_SLOTS; i++) {
		struct encoding *c = &we->enc[i];
		if (!c->type) {
			e = e ? e : c;
			continue;
		}
		if (strcmp(c->type, type) == 0 && c->table == table && c->with_columns == with_columns && c->now == now)
			return c;
	}
	if (!e)
		return NULL;
	o = encode_watch_event(r, type, object_for(we, type), table, with_columns, now);
	s = o ? encode_json(o, &n) : NULL;
	e->buf = s ? strndup(s, n) : NULL;
	if (!e->buf) {
		*ret_rc = -ENOMEM;
		return NULL;
	}
	we->n_encodings++;
	*e = (struct encoding){ .type = type, .table = table, .with_columns = with_columns, .now = now,
				.buf = e->buf, .len = n };
	return e;
}

/* With the lock held, when every slot is taken: encoded for this caller alone. */
static int encode_private(struct watch_event *we, const struct resource *r, const char *type, bool table,
			  bool with_columns, time_t now, int (*append)(void *, const char *, size_t), void *ctx)
{
	_cleanup_json_ json_object *o = encode_watch_event(r, type, object_for(we, type), table, with_columns, now);
	const char *s;
	size_t n;

	if (!o)
		return -ENOMEM;
	we->n_encodings++;
	s = encode_json(o, &n);
	return append(ctx, s, n);
}

int watch_event_encode(struct watch_event *we, const struct resource *r, const char *type, bool table,
		       bool with_columns, time_t now, int (*append)(void *ctx, const char *s, size_t n),
		       void *ctx)
{
	struct encoding *e;
	int rc;

	pthread_mutex_lock(&we->lock);
	rc = parse(we);
	if (rc == 0 && !object_for(we, type))
		rc = -EINVAL;
	if (rc < 0)
		goto out;
	e = find_or_fill(we, r, type, table, with_columns, now, &rc);
	if (e)
		rc = append(ctx, e->buf, e->len);
	else if (rc == 0)
		rc = encode_private(we, r, type, table, with_columns, now, append, ctx);
out:
	pthread_mutex_unlock(&we->lock);
	return rc;
}

json_object *watch_event_object(struct watch_event *we, const char *type)
{
	json_object *copy = NULL, *o;

	pthread_mutex_lock(&we->lock);
	if (parse(we) == 0 && (o = object_for(we, type)) && json_object_deep_copy(o, &copy, NULL) < 0)
		copy = NULL;
	pthread_mutex_unlock(&we->lock);
	return copy;
}

unsigned watch_event_encodings(struct watch_event *we)
{
	unsigned n;

	pthread_mutex_lock(&we->lock);
	n = we->n_encodings;
	pthread_mutex_unlock(&we->lock);
	return n;
}
