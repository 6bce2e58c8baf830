/* The namespace cache of create admission on both backends: an active namespace is answered
 * from the cache once known; one that turns terminating, is deleted or is created is seen
 * by the very next create, exactly as a store read would. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "api/admission.h"
#include "api/status.h"
#include "lib/store_kit.h"
#include "store/store.h"

STORE_KIT_SUITES(admission_ns);

#define NS_TEST(name) STORE_KIT_TEST(admission_ns, name)

#define ACTIVE "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team\"},\"status\":{\"phase\":\"Active\"}}"
#define TERMINATING                                                                          \
	"{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}," \
	"\"status\":{\"phase\":\"Terminating\"}}"
#define KEY "/registry/namespaces/team"

static struct store *open_store(void)
{
	struct store_options o;
	struct store *s;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	s = store_kit_open(&o);
	cr_assert_eq(admission_ns_cache_attach(s), 0);
	return s;
}

static int admit(struct store *s, int want_code)
{
	struct api_status st = { 0 };
	int r = admission_namespace(s, "team", "pods", "p", &st);

	cr_assert_eq(st.code, want_code, "status code %d, want %d (r %d)", st.code, want_code, r);
	api_status_clear(&st);
	return r;
}

static int cached(struct store *s)
{
	uint64_t gen;

	return admission_ns_cache_lookup(s, "team", &gen);
}

NS_TEST(active_namespace_is_cached_after_first_read)
{
	struct store *s = open_store();

	cr_assert_eq(admit(s, 404), -ENOENT, "a missing namespace refuses");
	cr_assert_eq(store_create(s, KEY, ACTIVE, NULL), 0);
	cr_assert_eq(admit(s, 0), 0, "a namespace created just before is seen");
	cr_assert_eq(cached(s), 1, "the read made it known");
	cr_assert_eq(admit(s, 0), 0);
	admission_ns_cache_detach(s);
	store_close(s);
}

NS_TEST(terminating_and_deleted_seen_at_once)
{
	struct store *s = open_store();
	int64_t rev;

	cr_assert_eq(store_create(s, KEY, ACTIVE, &rev), 0);
	cr_assert_eq(admit(s, 0), 0);
	cr_assert_eq(cached(s), 1);
	cr_assert_eq(store_update(s, KEY, TERMINATING, rev, &rev), 0);
	cr_assert_eq(cached(s), 0, "the update's event reached the cache before the next create");
	cr_assert_eq(admit(s, 403), -EPERM);
	cr_assert_eq(store_delete(s, KEY, rev, NULL), 0);
	cr_assert_eq(admit(s, 404), -ENOENT);
	cr_assert_eq(store_create(s, KEY, ACTIVE, NULL), 0);
	cr_assert_eq(admit(s, 0), 0, "a namespace created again is seen");
	cr_assert_eq(cached(s), 1);
	admission_ns_cache_detach(s);
	store_close(s);
}

NS_TEST(without_cache_every_create_reads_the_store)
{
	struct store_options o;
	struct store *s;
	uint64_t gen;

	store_options_init(&o);
	o.compact_interval_seconds = 0;
	s = store_kit_open(&o);
	cr_assert_eq(store_create(s, KEY, ACTIVE, NULL), 0);
	cr_assert_eq(admit(s, 0), 0);
	cr_assert_eq(admission_ns_cache_lookup(s, "team", &gen), 0);
	store_close(s);
}
