/* The per-event watch cache (see watch_event.h). What is made once (the parsed objects, each
 * encoding) is published with release stores and then only read, so the 1,000 streams of one
 * event take no lock on the common path; the mutex guards making things and whatever could
 * write into a json-c object (serialising a non-string value caches the text inside it). */
#include "api/watch_event.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
	atomic_bool parsed; /* cur, prev, parse_rc and plain_labels are set and final */
	int parse_rc;
	json_object *cur, *prev; /* the stored values with resourceVersion set */
	bool plain_labels;       /* every label value of both is a string: matching only reads */
	struct encoding enc[ENC_SLOTS];
	atomic_uint n_enc; /* enc[0, n_enc) are filled and final */
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

static bool labels_plain(json_object *obj)
{
	json_object *labels = json_get_path(obj, "metadata.labels");

	if (!labels || !json_object_is_type(labels, json_type_object))
		return true;
	json_object_object_foreach(labels, k, v) {
		(void)k;
		if (!json_object_is_type(v, json_type_string))
			return false;
	}
	return true;
}

/* With the lock held. */
static int parse(struct watch_event *we)
{
	const struct store_event *ev = we->ev;
	const char *cur = ev->type == STORE_EVENT_PUT ? ev->value : NULL;
	const char *prev = ev->type == STORE_EVENT_PUT ? ev->prev_value : ev->value;

	if (atomic_load_explicit(&we->parsed, memory_order_relaxed))
		return we->parse_rc;
	we->cur = meta_from_stored(cur, ev->mod_rev);
	we->prev = meta_from_stored(prev, ev->mod_rev);
	we->parse_rc = (cur && !we->cur) || (prev && !we->prev) ? -EIO : 0;
	we->plain_labels = labels_plain(we->cur) && labels_plain(we->prev);
	atomic_store_explicit(&we->parsed, true, memory_order_release);
	return we->parse_rc;
}

/* Without the lock: true once parsed, with no selector that could write into the objects. */
static bool readable_unlocked(struct watch_event *we, const struct field_selector *fields)
{
	return atomic_load_explicit(&we->parsed, memory_order_acquire) && we->parse_rc == 0 && !fields &&
	       we->plain_labels;
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
	int rc = 0;

	if (readable_unlocked(we, fields)) {
		cm = matches(labels, NULL, we->cur);
		pm = matches(labels, NULL, we->prev);
	} else {
		pthread_mutex_lock(&we->lock);
		rc = parse(we);
		cm = matches(labels, fields, we->cur);
		pm = matches(labels, fields, we->prev);
		pthread_mutex_unlock(&we->lock);
	}
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

static bool same_form(const struct encoding *c, const char *type, bool table, bool with_columns, time_t now)
{
	return strcmp(c->type, type) == 0 && c->table == table && c->with_columns == with_columns && c->now == now;
}

/* Without the lock: a published encoding of this form, or NULL. */
static const struct encoding *find(struct watch_event *we, const char *type, bool table, bool with_columns,
				   time_t now)
{
	unsigned n = atomic_load_explicit(&we->n_enc, memory_order_acquire);

	for (unsigned i = 0; i < n; i++)
		if (same_form(&we->enc[i], type, table, with_columns, now))
			return &we->enc[i];
	return NULL;
}

/* With the lock held: the encoding of this form, made and published if new; NULL when
 * every slot is taken (or on ENOMEM: *ret_rc). */
static const struct encoding *find_or_fill(struct watch_event *we, const struct resource *r, const char *type,
					   bool table, bool with_columns, time_t now, int *ret_rc)
{
	_cleanup_json_ json_object *o = NULL;
	const struct encoding *found = find(we, type, table, with_columns, now);
	unsigned n = atomic_load_explicit(&we->n_enc, memory_order_relaxed);
	struct encoding *e;
	const char *s;
	size_t len;

	*ret_rc = 0;
	if (found || n == ENC_SLOTS)
		return found;
	e = &we->enc[n];
	o = encode_watch_event(r, type, object_for(we, type), table, with_columns, now);
	s = o ? encode_json(o, &len) : NULL;
	e->buf = s ? strndup(s, len) : NULL;
	if (!e->buf) {
		*ret_rc = -ENOMEM;
		return NULL;
	}
	we->n_encodings++;
	e->type = type;
	e->table = table;
	e->with_columns = with_columns;
	e->now = now;
	e->len = len;
	atomic_store_explicit(&we->n_enc, n + 1, memory_order_release);
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
	const struct encoding *e;
	int rc;

	if (!table) { /* plain JSON is the same at any time */
		with_columns = false;
		now = 0;
	}
	/* Published encodings never change: copied out without the lock. */
	e = find(we, type, table, with_columns, now);
	if (e)
		return append(ctx, e->buf, e->len);
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
