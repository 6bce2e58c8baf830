/* The scheduler's cache fed with pod and node JSON as the watch delivers it: pending
 * pods and what their updates mean for the queue, assumed pods and their confirmation or
 * failure, freed resources, nodes leaving with pods still on them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "scheduler/cache.h"

static struct sched_cache c;

static void setup(void)
{
	sched_cache_init(&c, 1);
}

static void teardown(void)
{
	sched_cache_destroy(&c);
}

TestSuite(scheduler_cache, .init = setup, .fini = teardown);

static void put_node(const char *name, const char *cpu, bool *ret_changed)
{
	char text[512];
	json_object *o;
	bool changed = false;

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
		 "\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"4Gi\",\"pods\":\"10\"}}}",
		 name, cpu);
	o = json_tokener_parse(text);
	cr_assert_eq(sched_cache_node_put(&c, o, &changed), 0);
	json_object_put(o);
	if (ret_changed)
		*ret_changed = changed;
}

static enum sched_pod_change put_pod(const char *name, const char *node, const char *cpu, const char *extra)
{
	char text[1024];
	json_object *o;
	struct sched_pod *p;
	enum sched_pod_change ch;

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"u-%s\"},"
		 "\"spec\":{%s%s%s\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]}%s}",
		 name, name, node ? "\"nodeName\":\"" : "", node ? node : "", node ? "\"," : "", cpu, extra ? extra : "");
	o = json_tokener_parse(text);
	cr_assert_not_null(o, "%s", text);
	p = sched_pod_parse(o);
	json_object_put(o);
	cr_assert_not_null(p);
	cr_assert_eq(sched_cache_pod_put(&c, p, &ch), 0);
	return ch;
}

static int64_t requested_cpu(const char *node)
{
	struct sched_node *n = strmap_get(&c.nodes, node);

	return n ? n->requested.v[SCHED_RES_CPU] : -1;
}

Test(scheduler_cache, pending_pod_updates)
{
	cr_assert_eq(put_pod("a", NULL, "1", NULL), SCHED_POD_PENDING_NEW);
	cr_assert(sched_cache_pending(&c, "default/a"));
	/* A status change does not make the pod fit anywhere new. */
	cr_assert_eq(put_pod("a", NULL, "1", ",\"status\":{\"phase\":\"Pending\"}"), SCHED_POD_PENDING_SAME);
	cr_assert_eq(put_pod("a", NULL, "500m", NULL), SCHED_POD_PENDING_UPDATE);
	cr_assert_eq(sched_cache_pod_delete(&c, "default/a"), SCHED_POD_PENDING_GONE);
	cr_assert_not(sched_cache_pending(&c, "default/a"));
}

Test(scheduler_cache, other_schedulers_pods_are_ignored)
{
	char text[256];
	json_object *o;
	struct sched_pod *p;
	enum sched_pod_change ch;

	snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"x\",\"namespace\":\"default\"},"
				     "\"spec\":{\"schedulerName\":\"other\",\"containers\":[{\"name\":\"c\"}]}}");
	o = json_tokener_parse(text);
	p = sched_pod_parse(o);
	json_object_put(o);
	cr_assert_eq(sched_cache_pod_put(&c, p, &ch), 0);
	cr_assert_eq(ch, SCHED_POD_IGNORED);
	cr_assert_not(sched_cache_pending(&c, "default/x"));
}

Test(scheduler_cache, assume_confirm_and_free)
{
	struct sched_decision d = { 0 };

	put_node("n1", "2", NULL);
	put_pod("a", NULL, "1500m", NULL);
	cr_assert_eq(sched_cache_schedule(&c, "default/a", &d), 0);
	cr_assert_str_eq(d.node, "n1");
	cr_assert_str_eq(d.uid, "u-a");
	cr_assert_null(d.message);
	sched_decision_clear(&d);
	cr_assert_eq(requested_cpu("n1"), 1500);
	/* A stale event from before the binding leaves the assumption alone. */
	cr_assert_eq(put_pod("a", NULL, "1500m", NULL), SCHED_POD_IGNORED);
	cr_assert_eq(requested_cpu("n1"), 1500);
	/* The second pod no longer fits. */
	put_pod("b", NULL, "1", NULL);
	cr_assert_eq(sched_cache_schedule(&c, "default/b", &d), -ENOSPC);
	cr_assert_str_eq(d.message, "0/1 nodes are available: 1 Insufficient cpu.");
	cr_assert_str_eq(d.uid, "u-b");
	cr_assert_null(d.node);
	sched_decision_clear(&d);
	/* The binding arrives, then the pod finishes: its cpu is free again. */
	cr_assert_eq(put_pod("a", "n1", "1500m", NULL), SCHED_POD_BOUND);
	cr_assert_eq(requested_cpu("n1"), 1500);
	cr_assert_eq(put_pod("a", "n1", "1500m", ",\"status\":{\"phase\":\"Succeeded\"}"), SCHED_POD_FREED);
	cr_assert_eq(requested_cpu("n1"), 0);
	cr_assert_eq(sched_cache_schedule(&c, "default/b", &d), 0);
	sched_decision_clear(&d);
}

Test(scheduler_cache, forget_returns_an_assumed_pod_to_pending)
{
	struct sched_decision d = { 0 };

	put_node("n1", "2", NULL);
	put_pod("a", NULL, "1", NULL);
	cr_assert_eq(sched_cache_schedule(&c, "default/a", &d), 0);
	sched_decision_clear(&d);
	cr_assert_not(sched_cache_pending(&c, "default/a"));
	sched_cache_forget(&c, "default/a");
	cr_assert(sched_cache_pending(&c, "default/a"));
	cr_assert_eq(requested_cpu("n1"), 0);
	cr_assert_eq(sched_cache_schedule(&c, "default/zzz", &d), -ENOENT);
}

Test(scheduler_cache, pods_bound_elsewhere_leave_pending_and_count)
{
	put_node("n1", "2", NULL);
	put_pod("a", NULL, "1", NULL);
	cr_assert_eq(put_pod("a", "n1", "1", NULL), SCHED_POD_PENDING_GONE);
	cr_assert_eq(requested_cpu("n1"), 1000);
	cr_assert_eq(sched_cache_pod_delete(&c, "default/a"), SCHED_POD_FREED);
	cr_assert_eq(requested_cpu("n1"), 0);
}

Test(scheduler_cache, node_changes_and_placeholders)
{
	bool changed = false;

	put_node("n1", "2", &changed);
	cr_assert(changed);
	put_node("n1", "2", &changed);
	cr_assert_not(changed, "a heartbeat changes nothing the filters read");
	put_node("n1", "4", &changed);
	cr_assert(changed);
	/* A pod bound to a node not seen yet holds its place there. */
	put_pod("a", "n2", "1", NULL);
	cr_assert_eq(requested_cpu("n2"), 1000);
	put_node("n2", "2", NULL);
	cr_assert_eq(requested_cpu("n2"), 1000);
	sched_cache_node_delete(&c, "n2");
	cr_assert_eq(requested_cpu("n2"), 1000, "kept while its pod remains");
	sched_cache_pod_delete(&c, "default/a");
	cr_assert_eq(requested_cpu("n2"), -1);
	sched_cache_node_delete(&c, "n1");
	cr_assert_eq(c.n_node_v, 0);
}
