/* The RC controller's pure parts: which pods go first on scale-down, expectations, and
 * the status counts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>

#include <skiff/json.h>

#include "controllers/expectations.h"
#include "controllers/rc.h"

static json_object *J(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

/* A pod: name, node ("" unscheduled), phase, ready, restarts, creation time. */
static json_object *pod(const char *name, const char *node, const char *phase, bool ready, int restarts,
			const char *created)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\",\"creationTimestamp\":\"%s\",\"labels\":{\"app\":\"web\"}},"
		 "\"spec\":{%s%s%s},"
		 "\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
		 "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}],"
		 "\"containerStatuses\":[{\"name\":\"c\",\"restartCount\":%d}]}}",
		 name, created, *node ? "\"nodeName\":\"" : "", node, *node ? "\"" : "", phase, ready ? "True" : "False",
		 restarts);
	return J(buf);
}

static void check_order(json_object **pods, size_t n, const char *const *want)
{
	rc_sort_for_deletion(pods, n);
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(json_get_string(pods[i], "metadata.name"), want[i], "position %zu", i);
}

Test(rc_rank, unscheduled_then_not_ready_then_newest)
{
	json_object *pods[] = {
		pod("old-ready", "n1", "Running", true, 0, "2026-01-01T00:00:00Z"),
		pod("new-ready", "n1", "Running", true, 0, "2026-01-02T00:00:00Z"),
		pod("unscheduled", "", "Pending", false, 0, "2026-01-01T00:00:00Z"),
		pod("not-ready", "n2", "Running", false, 0, "2026-01-01T00:00:00Z"),
		pod("pending", "n2", "Pending", false, 0, "2026-01-01T00:00:00Z"),
	};
	static const char *const want[] = { "unscheduled", "pending", "not-ready", "new-ready", "old-ready" };

	check_order(pods, ELEMENTSOF(pods), want);
	for (size_t i = 0; i < ELEMENTSOF(pods); i++)
		json_object_put(pods[i]);
}

Test(rc_rank, restarts_before_age)
{
	json_object *pods[] = {
		pod("new", "n1", "Running", true, 0, "2026-01-03T00:00:00Z"),
		pod("crashy", "n1", "Running", true, 5, "2026-01-01T00:00:00Z"),
	};
	static const char *const want[] = { "crashy", "new" };

	check_order(pods, ELEMENTSOF(pods), want);
	for (size_t i = 0; i < ELEMENTSOF(pods); i++)
		json_object_put(pods[i]);
}

Test(rc_rank, deleting_counts_as_not_ready)
{
	json_object *pods[] = {
		pod("a", "n1", "Running", true, 0, "2026-01-01T00:00:00Z"),
		pod("b", "n1", "Running", true, 0, "2026-01-01T00:00:00Z"),
	};
	static const char *const want[] = { "b", "a" };

	json_object_object_add(json_get_path(pods[1], "metadata"), "deletionTimestamp",
			       json_object_new_string("2026-01-01T00:00:30Z"));
	check_order(pods, ELEMENTSOF(pods), want);
	for (size_t i = 0; i < ELEMENTSOF(pods); i++)
		json_object_put(pods[i]);
}

Test(rc_count, ready_available_fully_labeled)
{
	json_object *rc = J("{\"spec\":{\"minReadySeconds\":10,\"template\":{\"metadata\":{\"labels\":"
			    "{\"app\":\"web\",\"tier\":\"fe\"}}}}}");
	json_object *pods[] = {
		pod("a", "n1", "Running", true, 0, "2026-01-01T00:00:00Z"),
		pod("b", "n1", "Running", false, 0, "2026-01-01T00:00:00Z"),
	};
	struct rc_counts n;

	json_object_object_add(json_get_path(pods[0], "metadata.labels"), "tier", json_object_new_string("fe"));
	/* Ready since 2026-01-01T00:00:00Z: 5 s later not yet available, 10 s later it is. */
	rc_count(rc, pods, 2, 1767225600 + 5, &n);
	cr_expect_eq(n.replicas, 2);
	cr_expect_eq(n.fully_labeled, 1);
	cr_expect_eq(n.ready, 1);
	cr_expect_eq(n.available, 0);
	rc_count(rc, pods, 2, 1767225600 + 10, &n);
	cr_expect_eq(n.available, 1);
	json_object_put(rc);
	json_object_put(pods[0]);
	json_object_put(pods[1]);
}

Test(expectations, pending_until_observed)
{
	struct expectations *e = expectations_new(1000);

	cr_assert_not_null(e);
	cr_expect(expectations_satisfied(e, "default/web", 0), "nothing expected yet");
	cr_assert_eq(expectations_expect(e, "default/web", 2, 0, 0), 0);
	cr_expect_not(expectations_satisfied(e, "default/web", 10));
	cr_expect(expectations_satisfied(e, "default/other", 10), "keys are separate");
	expectations_created(e, "default/web");
	cr_expect_not(expectations_satisfied(e, "default/web", 10));
	expectations_created(e, "default/web");
	cr_expect(expectations_satisfied(e, "default/web", 10));
	/* Extra observations (someone else's pods) never go below zero. */
	expectations_created(e, "default/web");
	cr_assert_eq(expectations_expect(e, "default/web", 0, 1, 20), 0);
	cr_expect_not(expectations_satisfied(e, "default/web", 30));
	expectations_deleted(e, "default/web");
	cr_expect(expectations_satisfied(e, "default/web", 30));
	expectations_free(e);
}

Test(expectations, expire_and_forget)
{
	struct expectations *e = expectations_new(1000);

	cr_assert_eq(expectations_expect(e, "ns/a", 3, 0, 100), 0);
	cr_assert_eq(expectations_expect(e, "ns/b", 1, 0, 100), 0);
	cr_expect_not(expectations_satisfied(e, "ns/a", 1099));
	cr_expect(expectations_satisfied(e, "ns/a", 1100), "a lost event must not stall the RC forever");
	expectations_forget(e, "ns/a");
	cr_expect(expectations_satisfied(e, "ns/a", 200));
	cr_expect_not(expectations_satisfied(e, "ns/b", 200), "forgetting one key keeps the others");
	expectations_clear(e);
	cr_expect(expectations_satisfied(e, "ns/b", 200));
	expectations_free(e);
}
