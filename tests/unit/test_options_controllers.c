/* skiff-control's controller flags: defaults from the controllers, overrides, bad values, --help. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/options.h"

static int parse(struct control_options *o, int argc, char **argv)
{
	FILE *null = fopen("/dev/null", "w");
	int r;

	control_options_init(o);
	r = control_options_parse(o, argc, argv, null, null);
	fclose(null);
	return r;
}

Test(options_controllers, defaults)
{
	struct control_options o;
	char *argv[] = { "skiff-control", NULL };

	cr_assert_eq(parse(&o, 1, argv), 0);
	cr_assert_eq(o.controllers.node_monitor_grace_period_s, 20);
	cr_assert_eq(o.controllers.pod_eviction_timeout_s, 30);
	cr_assert_str_eq(o.controllers.cluster_cidr, "10.244.0.0/16");
	cr_assert_eq(o.controllers.node_cidr_mask_size, 24);
	cr_assert_float_eq(o.controllers.unhealthy_zone_threshold, 0.55, 1e-9);
}

Test(options_controllers, overrides)
{
	struct control_options o;
	char *argv[] = { "skiff-control", "--node-monitor-grace-period", "4", "--pod-eviction-timeout", "1m30s",
			 "--cluster-cidr", "10.200.0.0/16", "--node-cidr-mask-size", "26", "--node-eviction-rate", "0.5",
			 "--unhealthy-zone-threshold", "0.7", "--listen", "127.0.0.2:7443", NULL };

	cr_assert_eq(parse(&o, 15, argv), 0);
	cr_assert_eq(o.controllers.node_monitor_grace_period_s, 4);
	cr_assert_eq(o.controllers.pod_eviction_timeout_s, 90);
	cr_assert_str_eq(o.controllers.cluster_cidr, "10.200.0.0/16");
	cr_assert_eq(o.controllers.node_cidr_mask_size, 26);
	cr_assert_float_eq(o.controllers.node_eviction_rate, 0.5, 1e-9);
	cr_assert_float_eq(o.controllers.unhealthy_zone_threshold, 0.7, 1e-9);
	cr_assert_str_eq(o.listen, "127.0.0.2:7443");
}

Test(options_controllers, bad_values)
{
	struct control_options o;
	char *bad_grace[] = { "skiff-control", "--node-monitor-grace-period", "soon", NULL };
	char *bad_mask[] = { "skiff-control", "--node-cidr-mask-size", "99", NULL };
	char *missing[] = { "skiff-control", "--pod-eviction-timeout", NULL };

	cr_assert_lt(parse(&o, 3, bad_grace), 0);
	cr_assert_lt(parse(&o, 3, bad_mask), 0);
	cr_assert_lt(parse(&o, 2, missing), 0);
}

Test(options_controllers, help_shows_defaults)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	control_options_print_help("skiff-control", f);
	fclose(f);
	cr_assert_not_null(strstr(buf, "--node-monitor-grace-period"));
	cr_assert_not_null(strstr(buf, "(default 20s)"));
	cr_assert_not_null(strstr(buf, "--cluster-cidr CIDR"));
	cr_assert_not_null(strstr(buf, "10.244.0.0/16"));
	cr_assert_not_null(strstr(buf, "--help"));
	free(buf);
}
