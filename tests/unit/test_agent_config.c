/* skiff-agent configuration: defaults, the YAML file over them, flags over the file, --help. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/config.h"

static char dir[64];
static char path[128];
static struct agent_config cfg;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/skiff-test-agentcfg-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	cr_assert_eq(agent_config_init(&cfg), 0);
}

static void teardown(void)
{
	agent_config_done(&cfg);
	unlink(path);
	rmdir(dir);
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(int argc, char **argv, char **err)
{
	FILE *out = fopen("/dev/null", "w");
	int r = agent_config_load(&cfg, argc, argv, out, err);

	fclose(out);
	return r;
}

TestSuite(agent_config, .init = setup, .fini = teardown);

Test(agent_config, defaults)
{
	char host[256] = "";

	cr_assert_str_eq(cfg.root_dir, "/var/lib/skiff/agent");
	cr_assert_str_eq(cfg.run_dir, "/run/skiff");
	cr_assert_str_eq(cfg.cgroup_parent, "skiff");
	cr_assert_str_eq(cfg.gpu_devices, "auto");
	cr_assert_eq(cfg.max_pods, 110);
	cr_assert_eq(cfg.heartbeat_seconds, 5);
	cr_assert_null(cfg.kubeconfig);
	cr_assert_null(cfg.node_ip);
	gethostname(host, sizeof(host) - 1);
	cr_assert_eq(strcasecmp(cfg.node_name, host), 0, "node name %s, hostname %s", cfg.node_name, host);
}

Test(agent_config, file_overrides_defaults_and_flags_override_the_file)
{
	char *err = NULL;
	char *argv[] = { "skiff-agent", "--config", path, "--node-name", "from-flag", "--max-pods=7", NULL };

	write_file("kubeconfig: /etc/skiff/agent.kubeconfig\nnode-name: from-file\nroot-dir: /srv/skiff\n"
		   "max-pods: 50\ngpu-devices: /dev/nvidia0,/dev/nvidia1\n");
	cr_assert_eq(load(6, argv, &err), 0, "%s", err ? err : "");
	cr_assert_str_eq(cfg.node_name, "from-flag");
	cr_assert_eq(cfg.max_pods, 7);
	cr_assert_str_eq(cfg.root_dir, "/srv/skiff");
	cr_assert_str_eq(cfg.kubeconfig, "/etc/skiff/agent.kubeconfig");
	cr_assert_str_eq(cfg.gpu_devices, "/dev/nvidia0,/dev/nvidia1");
	cr_assert_str_eq(cfg.run_dir, "/run/skiff", "untouched settings keep their default");
}

Test(agent_config, flag_before_config_still_wins)
{
	char *err = NULL;
	char *argv[] = { "skiff-agent", "--cgroup-parent", "flag/parent", "--config", path, NULL };

	write_file("server: https://127.0.0.1:6443\ncgroup-parent: file/parent\n");
	cr_assert_eq(load(5, argv, &err), 0, "%s", err ? err : "");
	cr_assert_str_eq(cfg.cgroup_parent, "flag/parent");
	cr_assert_str_eq(cfg.server, "https://127.0.0.1:6443");
}

Test(agent_config, unknown_key_in_file_is_an_error)
{
	char *err = NULL;
	char *argv[] = { "skiff-agent", "--config", path, NULL };

	write_file("server: https://127.0.0.1:6443\nnode_name: typo\n");
	cr_assert_eq(load(3, argv, &err), -EINVAL);
	cr_assert_not_null(strstr(err, "unknown setting \"node_name\""), "%s", err);
	free(err);
}

Test(agent_config, bad_number_and_unknown_flag)
{
	char *err = NULL;
	char *argv1[] = { "skiff-agent", "--server", "https://x", "--max-pods", "many", NULL };
	char *argv2[] = { "skiff-agent", "--server", "https://x", "--no-such-flag", NULL };

	cr_assert_eq(load(5, argv1, &err), -EINVAL);
	cr_assert_not_null(strstr(err, "max-pods"), "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(load(4, argv2, &err), -EINVAL);
	cr_assert_not_null(strstr(err, "--no-such-flag"), "%s", err);
	free(err);
}

Test(agent_config, a_server_is_required)
{
	char *err = NULL;
	char *argv[] = { "skiff-agent", "--node-name", "n1", NULL };

	cr_assert_eq(load(3, argv, &err), -EINVAL);
	cr_assert_not_null(strstr(err, "--kubeconfig"), "%s", err);
	free(err);
}

Test(agent_config, missing_config_file_is_named)
{
	char *err = NULL;
	char *argv[] = { "skiff-agent", "--config", "/nonexistent/agent.yaml", NULL };

	cr_assert_eq(load(3, argv, &err), -EINVAL);
	cr_assert_not_null(strstr(err, "/nonexistent/agent.yaml"), "%s", err);
	free(err);
}

Test(agent_config, help_prints_the_defaults)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char *argv[] = { "skiff-agent", "--help", NULL };

	cr_assert_eq(agent_config_load(&cfg, 2, argv, out, NULL), 1);
	fclose(out);
	cr_assert_not_null(strstr(buf, "--root-dir"));
	cr_assert_not_null(strstr(buf, "\"/var/lib/skiff/agent\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"110\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "--gpu-devices"));
	free(buf);
}
