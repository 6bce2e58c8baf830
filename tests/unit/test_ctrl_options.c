/* The controllers' flags: durations, CIDRs, rates, thresholds, and their defaults. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/controllers.h"

Test(ctrl_options, defaults)
{
	struct controllers_options o;

	controllers_options_init(&o);
	cr_expect_eq(o.node_monitor_grace_period_s, 20);
	cr_expect_eq(o.pod_eviction_timeout_s, 30);
	cr_expect_str_eq(o.cluster_cidr, "10.244.0.0/16");
	cr_expect_eq(o.node_cidr_mask_size, 24);
	cr_expect_eq(o.unhealthy_zone_threshold, 0.55);
}

Test(ctrl_options, durations)
{
	struct controllers_options o;

	controllers_options_init(&o);
	cr_expect_eq(controllers_options_set(&o, "node-monitor-grace-period", "40s"), 0);
	cr_expect_eq(o.node_monitor_grace_period_s, 40);
	cr_expect_eq(controllers_options_set(&o, "pod-eviction-timeout", "1m30s"), 0);
	cr_expect_eq(o.pod_eviction_timeout_s, 90);
	cr_expect_eq(controllers_options_set(&o, "pod-eviction-timeout", "5"), 0);
	cr_expect_eq(o.pod_eviction_timeout_s, 5);
	cr_expect_eq(controllers_options_set(&o, "pod-eviction-timeout", "0s"), 0, "0: evict at once");
	cr_expect_eq(controllers_options_set(&o, "node-monitor-grace-period", "0s"), -EINVAL);
	cr_expect_eq(controllers_options_set(&o, "pod-eviction-timeout", "5x"), -EINVAL);
	cr_expect_eq(controllers_options_set(&o, "pod-eviction-timeout", "1m30"), -EINVAL);
	cr_expect_eq(controllers_options_set(&o, "pod-eviction-timeout", "-5s"), -EINVAL);
	cr_expect_eq(controllers_options_set(&o, "pod-eviction-timeout", ""), -EINVAL);
	cr_expect_eq(o.pod_eviction_timeout_s, 0, "a bad value leaves the option as it was");
}

Test(ctrl_options, cidr_rate_threshold_unknown)
{
	struct controllers_options o;

	controllers_options_init(&o);
	cr_expect_eq(controllers_options_set(&o, "cluster-cidr", "10.200.0.0/16"), 0);
	cr_expect_str_eq(o.cluster_cidr, "10.200.0.0/16");
	cr_expect_eq(controllers_options_set(&o, "cluster-cidr", "10.200.0.0/25"), -EINVAL, "smaller than a /24 block");
	cr_expect_eq(controllers_options_set(&o, "node-cidr-mask-size", "26"), 0);
	cr_expect_eq(o.node_cidr_mask_size, 26);
	cr_expect_eq(controllers_options_set(&o, "node-cidr-mask-size", "8"), -EINVAL, "larger than the range");
	cr_expect_eq(controllers_options_set(&o, "node-eviction-rate", "0.5"), 0);
	cr_expect_eq(o.node_eviction_rate, 0.5);
	cr_expect_eq(controllers_options_set(&o, "node-eviction-rate", "0"), -EINVAL);
	cr_expect_eq(controllers_options_set(&o, "unhealthy-zone-threshold", "0.7"), 0);
	cr_expect_eq(controllers_options_set(&o, "unhealthy-zone-threshold", "1.5"), -EINVAL);
	cr_expect_eq(controllers_options_set(&o, "listen", "x"), -ENOENT);
}

Test(ctrl_options, help_shows_defaults)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	controllers_options_print_help(f);
	fclose(f);
	cr_expect_not_null(strstr(buf, "--node-monitor-grace-period D"));
	cr_expect_not_null(strstr(buf, "(default 20s)"));
	cr_expect_not_null(strstr(buf, "(default 10.244.0.0/16)"));
	cr_expect_not_null(strstr(buf, "(default 0.55)"));
	free(buf);
}
