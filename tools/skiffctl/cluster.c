/* skiffctl cluster up|down|restart-agent: flags, then the steps of cluster_up.c, cluster_down.c
 * and cluster_node.c. A failed up shows the daemons' last log lines and tears down what it made. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "cluster.h"
#include "commands.h"

#define DEFAULT_NAME "skiff"
#define DEFAULT_TIMEOUT_S 120
#define TAIL_LINES 15

static int usage(FILE *f)
{
	fprintf(f,
		"usage: skiffctl cluster up [--nodes N (1)] [--name NAME (" DEFAULT_NAME ")] [--image NAME=PATH].. "
		"[--proxy-mode MODE] [--node-auth join|admin (join)] [--bin-dir DIR] [--log-dir DIR] [--timeout SECONDS] "
		"[--keep-on-failure]\n"
		"       skiffctl cluster down [--name NAME]\n"
		"       skiffctl cluster restart-agent [--name NAME] --node I [--proxy-mode MODE (from now on)]\n");
	return f == stdout ? 0 : 2;
}

static int bad_flag(const char *cmd, const char *what)
{
	fprintf(stderr, "skiffctl cluster %s: %s (see skiffctl cluster --help)\n", cmd, what);
	return 2;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* skiff-control and skiff-agent beside this skiffctl unless --bin-dir says otherwise. */
static char *default_bin_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	return strdup(dirname(exe));
}

static void tail_file(const char *path, const char *label)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *lines[TAIL_LINES] = { 0 }, *line = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		free(lines[n % TAIL_LINES]);
		lines[n++ % TAIL_LINES] = strdup(line);
	}
	free(line);
	fprintf(stderr, "--- last lines of %s (%s)\n", label, path);
	for (size_t i = n > TAIL_LINES ? n - TAIL_LINES : 0; i < n; i++)
		fprintf(stderr, "  | %s", lines[i % TAIL_LINES] ? lines[i % TAIL_LINES] : "\n");
	for (size_t i = 0; i < TAIL_LINES; i++)
		free(lines[i]);
}

static void show_logs(const struct cluster *c)
{
	_cleanup_free_ char *dir = c->log_dir ? strdup(c->log_dir) : cluster_path(c, "log");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		_cleanup_free_ char *path = NULL;

		if (de->d_name[0] != '.' && asprintf(&path, "%s/%s", dir, de->d_name) >= 0)
			tail_file(path, de->d_name);
	}
	if (d)
		closedir(d);
}

static int add_image(struct cluster_image *images, size_t *n, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || *n >= CLUSTER_MAX_IMAGES)
		return -EINVAL;
	*eq = '\0';
	images[*n].name = arg;
	images[(*n)++].path = eq + 1;
	return 0;
}

static int print_up(const struct cluster *c)
{
	_cleanup_free_ char *kubeconfig = cluster_kubeconfig(c);
	char api[16];

	if (!kubeconfig)
		return 1;
	cluster_ip(CLUSTER_HOSTLINK_NET(c->subnet), CLUSTER_CONTROL_HOST, api);
	fprintf(stderr, "cluster %s: %u node(s) Ready; API https://%s:%d; nodes in netns %s-node-1..%u; down with: "
			"skiffctl cluster down --name %s\n",
		c->name, c->nodes, api, CLUSTER_API_PORT, c->name, c->nodes, c->name);
	printf("export KUBECONFIG=%s\n", kubeconfig);
	return 0;
}

static int cmd_up(struct cluster *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },    { "name", required_argument, NULL, 'N' },
		{ "image", required_argument, NULL, 'i' },    { "proxy-mode", required_argument, NULL, 'p' },
		{ "bin-dir", required_argument, NULL, 'b' },  { "timeout", required_argument, NULL, 't' },
		{ "keep-on-failure", no_argument, NULL, 'k' }, { "log-dir", required_argument, NULL, 'l' },
		{ "node-auth", required_argument, NULL, 'a' }, { 0 },
	};
	struct cluster_image images[CLUSTER_MAX_IMAGES];
	const char *name = DEFAULT_NAME, *bin_dir = NULL, *proxy = NULL, *log_dir = NULL;
	unsigned nodes = 1, timeout = DEFAULT_TIMEOUT_S;
	size_t n_images = 0;
	bool keep = false, join = true, existed;
	int ch, r;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (parse_uint(optarg, 1, CLUSTER_MAX_NODES, &nodes) < 0)
				return bad_flag("up", "--nodes wants a number from 1 to 32");
			break;
		case 'N': name = optarg; break;
		case 'i':
			if (add_image(images, &n_images, optarg) < 0)
				return bad_flag("up", "--image wants NAME=PATH (at most 16)");
			break;
		case 'p': proxy = optarg; break;
		case 'b': bin_dir = optarg; break;
		case 't':
			if (parse_uint(optarg, 1, 3600, &timeout) < 0)
				return bad_flag("up", "--timeout wants seconds from 1 to 3600");
			break;
		case 'k': keep = true; break;
		case 'l': log_dir = optarg; break;
		case 'a':
			if (strcmp(optarg, "join") != 0 && strcmp(optarg, "admin") != 0)
				return bad_flag("up", "--node-auth wants join or admin");
			join = strcmp(optarg, "join") == 0;
			break;
		default: return bad_flag("up", "unknown flag or missing value");
		}
	}
	if (optind != argc)
		return bad_flag("up", "unexpected argument");
	if (cluster_init(c, name) < 0)
		return bad_flag("up", "--name wants 1-11 of [a-z0-9-], starting with a letter");
	c->nodes = nodes;
	c->join_nodes = join;
	c->bin_dir = bin_dir ? realpath(bin_dir, NULL) : default_bin_dir();
	c->proxy_mode = proxy ? strdup(proxy) : NULL;
	if (!c->bin_dir || (proxy && !c->proxy_mode))
		return bad_flag("up", "--bin-dir: no such directory");
	if (log_dir && log_dir[0] != '/')
		return bad_flag("up", "--log-dir wants an absolute path");
	c->log_dir = log_dir ? strdup(log_dir) : NULL;
	/* A cluster of that name that was there before is never torn down by a failed up. */
	existed = access(c->state_dir, F_OK) == 0;
	r = cluster_up(c, images, n_images, (int)timeout);
	if (r >= 0)
		return print_up(c);
	if (existed)
		return 1;
	show_logs(c);
	if (keep) {
		fprintf(stderr, "cluster %s: up failed; kept for inspection (skiffctl cluster down --name %s)\n", c->name,
			c->name);
		return 1;
	}
	fprintf(stderr, "cluster %s: up failed; tearing down what it made\n", c->name);
	cluster_done(c);
	if (cluster_init(c, name) >= 0)
		cluster_down(c);
	return 1;
}

/* down and restart-agent: --name, and --node and --proxy-mode for restart-agent (node and proxy
 * NULL for down). */
static int parse_name_node(const char *cmd, int argc, char **argv, const char **name, unsigned *node,
			   const char **proxy)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "node", required_argument, NULL, 'i' },
		{ "proxy-mode", required_argument, NULL, 'p' },
		{ 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'N')
			*name = optarg;
		else if (ch == 'p' && proxy)
			*proxy = optarg;
		else if (ch == 'i' && node && parse_uint(optarg, 1, CLUSTER_MAX_NODES, node) == 0)
			continue;
		else
			return bad_flag(cmd, ch == 'i' && node ? "--node wants a node number" : "unknown flag or missing value");
	}
	if (optind != argc)
		return bad_flag(cmd, "unexpected argument");
	if (cluster_name_check(*name) < 0)
		return bad_flag(cmd, "--name wants 1-11 of [a-z0-9-], starting with a letter");
	if (node && *node == 0)
		return bad_flag(cmd, "--node I is required");
	return 0;
}

static int cmd_down(struct cluster *c, int argc, char **argv)
{
	const char *name = DEFAULT_NAME;
	int r = parse_name_node("down", argc, argv, &name, NULL, NULL);

	if (r)
		return r;
	if (cluster_init(c, name) < 0)
		return 1;
	return cluster_down(c) < 0 ? 1 : 0;
}

static int cmd_restart_agent(struct cluster *c, int argc, char **argv)
{
	const char *name = DEFAULT_NAME, *proxy = NULL;
	unsigned node = 0;
	int r = parse_name_node("restart-agent", argc, argv, &name, &node, &proxy);

	if (r)
		return r;
	if (cluster_init(c, name) < 0)
		return 1;
	r = cluster_state_load(c);
	if (r < 0) {
		log_error_errno(r, "cluster %s: no state in %s (%m); is it up?", name, c->state_dir);
		return 1;
	}
	if (node > c->nodes) {
		log_error("cluster %s has %u node(s), no node %u", name, c->nodes, node);
		return 1;
	}
	/* The new mode is the cluster's from now on: it goes to the state with the new pid. */
	if (proxy) {
		free(c->proxy_mode);
		c->proxy_mode = strdup(proxy);
		if (!c->proxy_mode)
			return 1;
	}
	if (cluster_restart_agent(c, node) < 0)
		return 1;
	printf("%d\n", (int)c->agents[node - 1].pid);
	return 0;
}

int skiffctl_cluster(int argc, char **argv)
{
	struct cluster c = { 0 };
	int status;

	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "up") == 0)
		status = cmd_up(&c, argc - 1, argv + 1);
	else if (strcmp(argv[1], "down") == 0)
		status = cmd_down(&c, argc - 1, argv + 1);
	else if (strcmp(argv[1], "restart-agent") == 0)
		status = cmd_restart_agent(&c, argc - 1, argv + 1);
	else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(stdout);
	else
		return bad_flag(argv[1], "unknown subcommand (up, down, restart-agent)");
	cluster_done(&c);
	return status;
}
