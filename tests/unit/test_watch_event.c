/* Watch fan-out cache tests over a real store: streams of one change share one parse and
 * one encoding per form, selectors still decide each stream's event type. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

#include "api/watch_event.h"
#include "lib/registry_kit.h"

static void setup(void)
{
	kit_setup("watchevent", NULL);
}

TestSuite(watch_event, .init = setup, .fini = kit_teardown);

struct sink {
	char buf[16384];
	size_t len;
};

static int sink_append(void *ctx, const char *s, size_t n)
{
	struct sink *k = ctx;

	cr_assert_lt(k->len + n, sizeof(k->buf));
	memcpy(k->buf + k->len, s, n);
	k->len += n;
	k->buf[k->len] = '\0';
	return 0;
}

/* A watch from the current revision (no initial state), optionally with a label selector. */
static struct registry_watch *watch_now(const char *labels)
{
	char rv[32];
	struct list_options lo = { .label_selector = labels, .resource_version = rv };
	struct registry_watch *w = NULL;

	snprintf(rv, sizeof(rv), "%lld", (long long)store_revision(kit_store));
	cr_assert_eq(registry_watch_new(kit_reg, kit_res("pods"), "default", &lo, &w, &kit_st), 0, "%s",
		     kit_st.message);
	return w;
}

static void next(struct registry_watch *w, struct registry_watch_event *e, const char *type)
{
	cr_assert_eq(registry_watch_next_event(w, e, 5000), 0);
	cr_assert_not_null(e->shared, "a change comes as a shared event");
	cr_assert_str_eq(e->type, type);
}

static void encode(struct registry_watch_event *e, bool table, bool cols, struct sink *k)
{
	k->len = 0;
	cr_assert_eq(watch_event_encode(e->cache, kit_res("pods"), e->type, table, cols, 1000, sink_append, k), 0);
}

static void patch_label(const char *name, const char *app)
{
	char body[128];
	json_object *out = NULL;
	bool created = false;

	snprintf(body, sizeof(body), "{\"metadata\":{\"labels\":{\"app\":\"%s\"}}}", app);
	cr_assert_eq(registry_patch(kit_reg, kit_res("pods"), "default", name, NULL, "application/merge-patch+json",
				    body, strlen(body), &kit_wo, &out, &created, &kit_st),
		     0, "%s", kit_st.message);
	json_object_put(out);
}

Test(watch_event, one_encoding_shared_by_streams)
{
	struct registry_watch *a = watch_now(NULL), *b = watch_now(NULL);
	struct registry_watch_event ea, eb;
	struct sink ka, kb;
	json_object *o;

	json_object_put(kit_create("pods", "default", KIT_POD("p1", "\"app\":\"a\"")));
	next(a, &ea, "ADDED");
	next(b, &eb, "ADDED");
	cr_assert_eq(ea.shared, eb.shared, "both streams hold the store's one event");
	cr_assert_eq(ea.cache, eb.cache, "and its one cache");
	encode(&ea, false, false, &ka);
	encode(&eb, false, false, &kb);
	cr_assert_str_eq(ka.buf, kb.buf);
	cr_assert_eq(watch_event_encodings(ea.cache), 1, "JSON encoded once for both streams");

	o = kit_json(ka.buf);
	cr_assert_str_eq(kit_str(o, "type"), "ADDED");
	cr_assert_str_eq(kit_str(o, "object.metadata.name"), "p1");
	cr_assert_eq(atoll(kit_str(o, "object.metadata.resourceVersion")), ea.rev);
	json_object_put(o);

	/* A Table is another form: encoded once more, then shared too. */
	encode(&ea, true, true, &ka);
	encode(&eb, true, true, &kb);
	cr_assert_str_eq(ka.buf, kb.buf);
	cr_assert(strstr(ka.buf, "\"kind\":\"Table\"") && strstr(ka.buf, "columnDefinitions"));
	cr_assert_eq(watch_event_encodings(ea.cache), 2);
	encode(&ea, true, false, &ka);
	cr_assert_eq(watch_event_encodings(ea.cache), 3, "rows without columns are their own form");
	registry_watch_event_clear(&ea);
	registry_watch_event_clear(&eb);
	registry_watch_free(a);
	registry_watch_free(b);
}

Test(watch_event, selectors_decide_the_type)
{
	struct registry_watch *all, *sel;
	struct registry_watch_event ea, es;
	struct sink ka, ks;
	json_object *o;

	json_object_put(kit_create("pods", "default", KIT_POD("p2", "\"app\":\"a\"")));
	all = watch_now(NULL);
	sel = watch_now("app=a");
	patch_label("p2", "b");
	next(all, &ea, "MODIFIED");
	next(sel, &es, "DELETED");
	cr_assert_eq(ea.cache, es.cache);
	encode(&ea, false, false, &ka);
	encode(&es, false, false, &ks);
	o = kit_json(ks.buf);
	cr_assert_str_eq(kit_str(o, "type"), "DELETED");
	cr_assert_str_eq(kit_str(o, "object.metadata.labels.app"), "a", "the last state that matched");
	json_object_put(o);
	o = kit_json(ka.buf);
	cr_assert_str_eq(kit_str(o, "object.metadata.labels.app"), "b");
	json_object_put(o);
	cr_assert_eq(watch_event_encodings(ea.cache), 2);
	registry_watch_event_clear(&ea);
	registry_watch_event_clear(&es);

	/* Back to a: the selecting stream sees it come back, the other a change. */
	patch_label("p2", "a");
	next(all, &ea, "MODIFIED");
	next(sel, &es, "ADDED");
	registry_watch_event_clear(&ea);
	registry_watch_event_clear(&es);
	registry_watch_free(all);
	registry_watch_free(sel);
}

Test(watch_event, object_copies_are_private)
{
	struct registry_watch *w = watch_now(NULL);
	struct registry_watch_event e;
	json_object *copy;
	struct sink k;

	json_object_put(kit_create("pods", "default", KIT_POD("p3", "\"app\":\"a\"")));
	next(w, &e, "ADDED");
	copy = watch_event_object(e.cache, e.type);
	cr_assert_not_null(copy);
	json_object_object_add(json_get_path(copy, "metadata"), "name", json_object_new_string("changed"));
	encode(&e, false, false, &k);
	cr_assert(strstr(k.buf, "\"name\":\"p3\"") != NULL, "a caller's copy never reaches the shared bytes");
	json_object_put(copy);
	registry_watch_event_clear(&e);
	registry_watch_free(w);
}

struct racer {
	struct registry_watch_event *e;
	struct sink k;
	const char *type;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	cr_assert_eq(watch_event_classify(r->e->cache, NULL, NULL, &r->type), 0);
	r->k.len = 0;
	cr_assert_eq(watch_event_encode(r->e->cache, kit_res("pods"), r->type, false, false, 0, sink_append, &r->k), 0);
	return NULL;
}

/* Many streams at once on a fresh event: one parse, one encoding, the same bytes for all. */
Test(watch_event, concurrent_streams_share_one_encoding)
{
	enum { N = 16 };
	struct registry_watch *w = watch_now(NULL);
	struct registry_watch_event e;
	struct racer r[N];
	pthread_t th[N];

	json_object_put(kit_create("pods", "default", KIT_POD("p4", "\"app\":\"a\"")));
	next(w, &e, "ADDED");
	for (int i = 0; i < N; i++) {
		r[i] = (struct racer){ .e = &e };
		cr_assert_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		cr_assert_str_eq(r[i].type, "ADDED");
		cr_assert_str_eq(r[i].k.buf, r[0].k.buf);
	}
	cr_assert_eq(watch_event_encodings(e.cache), 1);
	registry_watch_event_clear(&e);
	registry_watch_free(w);
}

/* A field selector is matched under the lock (serialising a value writes into the object). */
Test(watch_event, field_selector)
{
	struct list_options lo = { .field_selector = "metadata.name=p5" };
	struct registry_watch *w = NULL;
	struct registry_watch_event e;
	json_object *o;
	char rv[32];

	snprintf(rv, sizeof(rv), "%lld", (long long)store_revision(kit_store));
	lo.resource_version = rv;
	cr_assert_eq(registry_watch_new(kit_reg, kit_res("pods"), "default", &lo, &w, &kit_st), 0);
	json_object_put(kit_create("pods", "default", KIT_POD("other", "\"app\":\"a\"")));
	json_object_put(kit_create("pods", "default", KIT_POD("p5", "\"app\":\"a\"")));
	next(w, &e, "ADDED");
	cr_assert_gt(e.rev, 0);
	o = watch_event_object(e.cache, e.type);
	cr_assert_str_eq(kit_str(o, "metadata.name"), "p5", "the other pod was filtered out");
	json_object_put(o);
	registry_watch_event_clear(&e);
	registry_watch_free(w);
}
