/* skiff-control flags: defaults, overrides, bad values, --help. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/options.h"
#include "store/store.h"

static int parse(struct control_options *o, int argc, char **argv)
{
	FILE *null = fopen("/dev/null", "w");
	int r;

	control_options_init(o);
	r = control_options_parse(o, argc, argv, null, null);
	fclose(null);
	return r;
}

Test(options, defaults)
{
	struct control_options o;
	char *argv[] = { "skiff-control", NULL };

	cr_assert_eq(parse(&o, 1, argv), 0);
	cr_assert_str_eq(o.listen, "127.0.0.1:6443");
	cr_assert_str_eq(o.data_dir, "/var/lib/skiff/control");
	cr_assert_str_eq(o.service_cidr, "10.96.0.0/12");
	cr_assert_eq(o.node_port_min, 30000);
	cr_assert_eq(o.node_port_max, 32767);
	cr_assert(o.group_commit);
	cr_assert_eq(o.max_body_bytes, 3u * 1024 * 1024);
}

Test(options, overrides)
{
	struct control_options o;
	char san[] = "a.example,10.0.0.9";
	char *argv[] = { "skiff-control", "--listen", "127.0.0.2:7443", "--data-dir", "/tmp/x",
			 "--service-node-port-range", "31000-31010", "--tls-san", san, "--advertise-address",
			 "10.1.1.1", "--log-level", "debug", "--no-group-commit", NULL };

	cr_assert_eq(parse(&o, 14, argv), 0);
	cr_assert_str_eq(o.listen, "127.0.0.2:7443");
	cr_assert_str_eq(o.data_dir, "/tmp/x");
	cr_assert_eq(o.node_port_min, 31000);
	cr_assert_eq(o.node_port_max, 31010);
	cr_assert_eq(o.n_tls_sans, 3);
	cr_assert_str_eq(o.tls_sans[0], "a.example");
	cr_assert_str_eq(o.tls_sans[1], "10.0.0.9");
	cr_assert_str_eq(o.tls_sans[2], "10.1.1.1");
	cr_assert_eq(o.log_level, SKIFF_LOG_DEBUG);
	cr_assert_not(o.group_commit);
}

Test(options, bad_values)
{
	struct control_options o;
	char *a1[] = { "c", "--listen", "nope", NULL };
	char *a2[] = { "c", "--service-node-port-range", "5-2", NULL };
	char *a3[] = { "c", "--log-level", "loud", NULL };
	char *a4[] = { "c", "--bogus", NULL };
	char *a5[] = { "c", "--listen", "127.0.0.1:99999", NULL };

	cr_assert_eq(parse(&o, 3, a1), -EINVAL);
	cr_assert_eq(parse(&o, 3, a2), -EINVAL);
	cr_assert_eq(parse(&o, 3, a3), -EINVAL);
	cr_assert_eq(parse(&o, 2, a4), -EINVAL);
	cr_assert_eq(parse(&o, 3, a5), -EINVAL);
}

Test(options, help_prints_defaults)
{
	char buf[4096] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	control_options_print_help("skiff-control", f);
	fclose(f);
	cr_assert(strstr(buf, "127.0.0.1:6443") != NULL);
	cr_assert(strstr(buf, "/var/lib/skiff/control") != NULL);
	cr_assert(strstr(buf, "30000-32767") != NULL);
	cr_assert(strstr(buf, "10.96.0.0/12") != NULL);
}

Test(options, listen_forms)
{
	char host[64];
	unsigned port;

	cr_assert_eq(control_parse_listen("127.0.0.1:6443", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 6443);
	cr_assert_eq(control_parse_listen("[::1]:8443", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "::1");
	cr_assert_eq(port, 8443);
	cr_assert_eq(control_parse_listen(":80", host, sizeof(host), &port), -EINVAL);
}

Test(options, compaction_and_components)
{
	struct control_options o;
	struct store_options so;
	char *a[] = { "c", "--compact-interval-seconds", "1", "--compact-keep-revisions", "3",
		      "--compact-keep-seconds", "0", "--disable-scheduler", "--disable-controllers", NULL };
	char *bad1[] = { "c", "--compact-keep-revisions", "-1", NULL };
	char *bad2[] = { "c", "--compact-interval-seconds", "1x", NULL };

	/* The defaults are the store's own. */
	cr_assert_eq(parse(&o, 1, (char *[]){ "c", NULL }), 0);
	store_options_init(&so);
	cr_assert_eq(o.compact_interval_s, so.compact_interval_seconds);
	cr_assert_eq(o.compact_keep_revisions, so.compact_keep_revisions);
	cr_assert_eq(o.compact_keep_s, so.compact_keep_seconds);
	cr_assert(o.run_scheduler && o.run_controllers);

	cr_assert_eq(parse(&o, 9, a), 0);
	cr_assert_eq(o.compact_interval_s, 1);
	cr_assert_eq(o.compact_keep_revisions, 3);
	cr_assert_eq(o.compact_keep_s, 0);
	cr_assert(!o.run_scheduler && !o.run_controllers);
	cr_assert_eq(parse(&o, 3, bad1), -EINVAL);
	cr_assert_eq(parse(&o, 3, bad2), -EINVAL);
}

Test(options, help_shows_compaction_defaults)
{
	char buf[8192] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	control_options_print_help("skiff-control", f);
	fclose(f);
	cr_assert(strstr(buf, "--compact-interval-seconds N") && strstr(buf, "(default 60)"));
	cr_assert(strstr(buf, "(default 10000)") && strstr(buf, "(default 300)"));
	cr_assert(strstr(buf, "--disable-scheduler") && strstr(buf, "--disable-controllers"));
}
