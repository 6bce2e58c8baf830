/* Watches over the store's watch: the initial state as ADDED events, then changes
 * filtered by namespace and selectors, with selector transitions turned into ADDED and
 * DELETED as Kubernetes' watch cache does. */
#include "api/registry.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/meta.h"
#include "api/selector.h"
#include "api/watch_event.h"

struct registry_watch {
	struct label_selector *labels;
	struct field_selector *fields;
	struct store_watch *sw; /* NULL when the start revision was compacted */
	json_object *initial;   /* the ADDED events still to hand out */
	size_t next_initial;
	atomic_bool cancelled;
};

static int parse_selectors(struct registry_watch *w, const struct resource *r, const struct list_options *lo,
			   struct api_status *st)
{
	_cleanup_free_ char *err = NULL;
	int rc;

	rc = label_selector_parse(lo && lo->label_selector ? lo->label_selector : "", &w->labels, &err);
	/* No field selector stays NULL: the shared event cache then matches without its lock. */
	if (rc == 0 && lo && lo->field_selector && lo->field_selector[0])
		rc = field_selector_parse(lo->field_selector, r->name, &w->fields, &err);
	if (rc < 0)
		api_status_bad_request(st, "%s", err ? err : "invalid selector");
	return rc;
}

/* The current state, read at one revision; *ret_rev is where the changes start. */
static int read_initial(struct registry *reg, struct registry_watch *w, const struct resource *r, const char *ns,
			const struct list_options *lo, int64_t *ret_rev, struct api_status *st)
{
	struct list_options all = *lo;
	_cleanup_json_ json_object *list = NULL;
	int64_t rev = 0;
	int rc;

	all.limit = 0;
	all.continue_token = NULL;
	all.resource_version = NULL;
	rc = registry_list(reg, r, ns, &all, &list, st);
	if (rc < 0)
		return rc;
	if (meta_parse_rv(json_get_string(list, "metadata.resourceVersion"), &rev) < 0)
		return -EIO;
	w->initial = json_object_get(json_get_path(list, "items"));
	*ret_rev = rev;
	return 0;
}

int registry_watch_new(struct registry *reg, const struct resource *r, const char *ns,
		       const struct list_options *lo, struct registry_watch **ret, struct api_status *st)
{
	struct list_options none = { 0 };
	_cleanup_free_ char *prefix = resource_prefix(r, r->namespaced ? ns : NULL);
	struct registry_watch *w = calloc(1, sizeof(*w));
	int64_t from = 0;
	int rc;

	if (!w || !prefix) {
		free(w);
		return -ENOMEM;
	}
	if (!lo)
		lo = &none;
	rc = parse_selectors(w, r, lo, st);
	if (rc == 0 && meta_parse_rv(lo->resource_version, &from) < 0) {
		api_status_bad_request(st, "invalid resource version: %s", lo->resource_version);
		rc = -EINVAL;
	}
	if (rc == 0 && from == 0)
		rc = read_initial(reg, w, r, ns, lo, &from, st);
	if (rc == 0) {
		rc = store_watch_new(registry_store(reg), prefix, from, &w->sw);
		/* A compacted start is reported by the first next(), as an ERROR event in the stream. */
		if (rc == -ERANGE)
			rc = 0;
		else if (rc < 0)
			api_status_internal(st, rc, "starting a store watch");
	}
	if (rc < 0) {
		registry_watch_free(w);
		return rc;
	}
	*ret = w;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next change that concerns this watcher, as the shared store event and its cache. */
static int next_change(struct registry_watch *w, struct registry_watch_event *ret, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

	if (!w->sw)
		return -ERANGE;
	for (;;) {
		struct store_shared_event *ev = NULL;
		struct watch_event *we;
		const char *type = NULL;
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int rc;

		rc = store_watch_next_shared(w->sw, &ev, left < 0 && deadline >= 0 ? 0 : (int)left);
		if (rc < 0)
			return rc;
		we = watch_event_of(ev);
		rc = we ? watch_event_classify(we, w->labels, w->fields, &type) : -ENOMEM;
		if (rc < 0 || !type) {
			store_shared_event_unref(ev);
			if (rc < 0)
				return rc;
			continue;
		}
		*ret = (struct registry_watch_event){ .type = type, .shared = ev, .cache = we,
						      .rev = store_shared_event_get(ev)->mod_rev };
		return 0;
	}
}

int registry_watch_next_event(struct registry_watch *w, struct registry_watch_event *ret, int timeout_ms)
{
	if (atomic_load(&w->cancelled))
		return -ECANCELED;
	if (w->initial && w->next_initial < json_object_array_length(w->initial)) {
		json_object *o = json_object_array_get_idx(w->initial, w->next_initial++);
		int64_t rev = 0;

		(void)meta_parse_rv(json_get_string(o, "metadata.resourceVersion"), &rev);
		*ret = (struct registry_watch_event){ .type = "ADDED", .obj = json_object_get(o), .rev = rev };
		return 0;
	}
	return next_change(w, ret, timeout_ms);
}

void registry_watch_event_clear(struct registry_watch_event *e)
{
	json_object_put(e->obj);
	if (e->shared)
		store_shared_event_unref(e->shared);
	*e = (struct registry_watch_event){ 0 };
}

int registry_watch_next(struct registry_watch *w, const char **ret_type, json_object **ret_obj, int timeout_ms)
{
	struct registry_watch_event e;
	int rc = registry_watch_next_event(w, &e, timeout_ms);

	if (rc < 0)
		return rc;
	/* The shared objects stay with the cache: the caller gets its own copy. */
	*ret_type = e.type;
	*ret_obj = e.obj ? json_object_get(e.obj) : watch_event_object(e.cache, e.type);
	registry_watch_event_clear(&e);
	return *ret_obj ? 0 : -ENOMEM;
}

int registry_watch_fd(struct registry_watch *w)
{
	return w->sw ? store_watch_fd(w->sw) : -1;
}

void registry_watch_cancel(struct registry_watch *w)
{
	if (!w)
		return;
	atomic_store(&w->cancelled, true);
	if (w->sw)
		store_watch_cancel(w->sw);
}

void registry_watch_free(struct registry_watch *w)
{
	if (!w)
		return;
	store_watch_free(w->sw);
	json_object_put(w->initial);
	label_selector_free(w->labels);
	field_selector_free(w->fields);
	free(w);
}
