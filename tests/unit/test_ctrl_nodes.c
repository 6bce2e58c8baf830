/* The node controllers' pure parts: eviction deadlines and tolerations, the partition
 * stop, the eviction rate limiter, and pod CIDR arithmetic. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <skiff/json.h>

#include "controllers/nodeipam.h"
#include "controllers/nodelifecycle.h"
#include "controllers/nodelifecycle_internal.h"

static json_object *J(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

static int64_t deadline(const char *tolerations)
{
	char buf[1024];
	json_object *pod;
	int64_t d;

	snprintf(buf, sizeof(buf), "{\"spec\":{\"tolerations\":%s}}", tolerations);
	pod = J(buf);
	d = nodelc_eviction_deadline(pod, TAINT_UNREACHABLE, 1000, 30);
	json_object_put(pod);
	return d;
}

Test(eviction, deadlines_from_tolerations)
{
	cr_expect_eq(deadline("[]"), 1030, "no toleration: --pod-eviction-timeout");
	cr_expect_eq(deadline("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
			      "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]"),
		     1030, "the registry's default toleration leaves it to the flag");
	cr_expect_eq(deadline("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
			      "\"effect\":\"NoExecute\",\"tolerationSeconds\":5}]"),
		     1005, "the pod's own tolerationSeconds wins");
	cr_expect_eq(deadline("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
			      "\"effect\":\"NoExecute\",\"tolerationSeconds\":120},{\"operator\":\"Exists\","
			      "\"tolerationSeconds\":60}]"),
		     1060, "the shortest of the matching tolerations");
	cr_expect_eq(deadline("[{\"operator\":\"Exists\"}]"), -1, "tolerates everything forever");
	cr_expect_eq(deadline("[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
			      "\"effect\":\"NoExecute\",\"tolerationSeconds\":1}]"),
		     1030, "a toleration of another taint does not count");
	cr_expect_eq(deadline("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
			      "\"effect\":\"NoSchedule\"}]"),
		     1030, "a NoSchedule toleration does not count");
	cr_expect_eq(deadline("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
			      "\"effect\":\"NoExecute\",\"tolerationSeconds\":-5}]"),
		     1000, "a negative tolerationSeconds evicts at once");
}

Test(eviction, partition_stop)
{
	cr_expect_not(nodelc_partitioned(0, 0, 0.55));
	cr_expect_not(nodelc_partitioned(2, 1, 0.55), "one node of two down is a node failure");
	cr_expect_not(nodelc_partitioned(20, 11, 0.55), "55%% exactly still evicts");
	cr_expect(nodelc_partitioned(20, 12, 0.55), "60%% down: the control plane is cut off");
	cr_expect(nodelc_partitioned(3, 2, 0.55));
	cr_expect(nodelc_partitioned(1, 1, 0.55), "the only node gone: nowhere to move pods anyway");
}

Test(eviction, rate_limiter)
{
	struct nodelc_bucket b;

	nodelc_bucket_init(&b, 2, 0);
	cr_expect(nodelc_bucket_take(&b, 0));
	cr_expect(nodelc_bucket_take(&b, 0), "burst of 2");
	cr_expect_not(nodelc_bucket_take(&b, 0));
	cr_expect_not(nodelc_bucket_take(&b, 400));
	cr_expect(nodelc_bucket_take(&b, 500), "one token per 500 ms at 2/s");
	nodelc_bucket_init(&b, 0.5, 0);
	cr_expect(nodelc_bucket_take(&b, 0));
	cr_expect_not(nodelc_bucket_take(&b, 1999));
	cr_expect(nodelc_bucket_take(&b, 2000));
}

Test(ipam, blocks_of_a_cluster_cidr)
{
	struct ipam_range r;
	char cidr[IPAM_CIDR_LEN], net[IPAM_CIDR_LEN];
	size_t i;

	cr_assert_eq(ipam_range_parse("10.244.0.0/16", 24, &r), 0);
	cr_expect_eq(r.count, 256);
	ipam_cidr_at(&r, 0, cidr, net);
	cr_expect_str_eq(cidr, "10.244.0.0/24");
	cr_expect_str_eq(net, "10.244.0.0");
	ipam_cidr_at(&r, 3, cidr, NULL);
	cr_expect_str_eq(cidr, "10.244.3.0/24");
	ipam_cidr_at(&r, 255, cidr, NULL);
	cr_expect_str_eq(cidr, "10.244.255.0/24");
	cr_assert_eq(ipam_index_of(&r, "10.244.7.0/24", &i), 0);
	cr_expect_eq(i, 7);
	cr_expect_eq(ipam_index_of(&r, "10.245.7.0/24", &i), -ENOENT, "outside the range");
	cr_expect_eq(ipam_index_of(&r, "10.244.7.0/25", &i), -ENOENT, "another block size");
	cr_expect_eq(ipam_index_of(&r, "10.244.7.1/24", &i), -ENOENT, "not a network address");
	cr_assert_eq(ipam_range_parse("10.244.1.7/16", 26, &r), 0, "host bits are masked off");
	ipam_cidr_at(&r, 5, cidr, NULL);
	cr_expect_str_eq(cidr, "10.244.1.64/26");
}

Test(ipam, bad_ranges)
{
	struct ipam_range r;

	cr_expect_eq(ipam_range_parse("10.244.0.0", 24, &r), -EINVAL);
	cr_expect_eq(ipam_range_parse("10.244.0.0/33", 24, &r), -EINVAL);
	cr_expect_eq(ipam_range_parse("fd00::/64", 80, &r), -EINVAL, "IPv4 only");
	cr_expect_eq(ipam_range_parse("10.244.0.0/24", 16, &r), -EINVAL, "node blocks larger than the range");
	cr_expect_eq(ipam_range_parse("garbage/16", 24, &r), -EINVAL);
}

Test(ipam, first_free_and_exhaustion)
{
	struct ipam_range r;
	bool used[4] = { true, false, true, false };
	size_t i;

	cr_assert_eq(ipam_range_parse("10.0.0.0/22", 24, &r), 0);
	cr_assert_eq(r.count, 4);
	cr_assert_eq(ipam_first_free(&r, used, &i), 0);
	cr_expect_eq(i, 1);
	used[1] = used[3] = true;
	cr_expect_eq(ipam_first_free(&r, used, &i), -ENOSPC);
}

static bool has(json_object *node, const char *key, const char *effect)
{
	json_object *taints = json_get_path(node, "spec.taints");

	for (size_t i = 0; taints && i < json_object_array_length(taints); i++) {
		json_object *t = json_object_array_get_idx(taints, i);

		if (strcmp(json_get_string(t, "key"), key) == 0 && strcmp(json_get_string(t, "effect"), effect) == 0)
			return true;
	}
	return false;
}

Test(taints, replaced_paired_and_user_taints_kept)
{
	json_object *node = J("{\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"},"
			      "{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\"}]}}");

	cr_expect_eq(nodelc_apply_taint(node, TAINT_UNREACHABLE), 0);
	cr_expect(has(node, "dedicated", "NoSchedule"), "a user's taint stays");
	cr_expect_not(has(node, TAINT_NOT_READY, "NoExecute"), "the other condition's taint goes");
	cr_expect(has(node, TAINT_UNREACHABLE, "NoExecute"));
	cr_expect(has(node, TAINT_UNREACHABLE, "NoSchedule"), "paired as TaintNodesByCondition does");
	cr_expect_geq(nodelc_taint_time(node, TAINT_UNREACHABLE), 0, "NoExecute carries timeAdded");
	cr_expect_eq(nodelc_apply_taint(node, TAINT_UNREACHABLE), 1, "already as wanted");
	cr_expect_eq(nodelc_apply_taint(node, NULL), 0);
	cr_expect_not(has(node, TAINT_UNREACHABLE, "NoExecute"));
	cr_expect_not(has(node, TAINT_UNREACHABLE, "NoSchedule"));
	cr_expect(has(node, "dedicated", "NoSchedule"));
	json_object_put(node);
}
