/* Starting the cluster's daemons: skiff-control in <name>-control, one skiff-agent per node
 * namespace with its own dirs, cgroup parent and pin dir, given only the flags its --help offers
 * (networking, proxy and pin-dir flags land in the agent over time). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "api/kubeconfig.h"
#include "api/tokens.h"
#include "cluster.h"
#include "pods/cgroup.h"

#define ARGV_MAX 48
#define SERVICE_CIDR "10.96.0.0/12"
#define JOIN_TOKEN_TTL_S 3600L

struct args {
	char *v[ARGV_MAX + 1];
	size_t n;
	char *owned[ARGV_MAX];
	size_t n_owned;
};

static void args_done(struct args *a)
{
	for (size_t i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
}

/* Arguments are borrowed; those made with args_addf are owned (args_done frees them). A NULL
 * argument (a failed allocation upstream) is an error, so callers may OR the results. */
static int args_add(struct args *a, const char *s)
{
	if (!s || a->n >= ARGV_MAX)
		return -ENOMEM;
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
	return 0;
}

static int args_addf(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int args_addf(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (a->n_owned >= ARGV_MAX) {
		free(s);
		return -E2BIG;
	}
	a->owned[a->n_owned++] = s;
	return args_add(a, s);
}

int cluster_start_control(struct cluster *c)
{
	struct args a = { 0 };
	_cleanup_free_ char *ns = cluster_netns_name(c, "control"), *log = cluster_log_path(c, "control");
	_cleanup_close_ int ns_fd = -1;
	char advertise[16], fabric[16];
	int r = 0;

	if (!ns || !log)
		return -ENOMEM;
	ns_fd = netns_open(ns);
	if (ns_fd < 0)
		return log_error_errno(ns_fd, "netns %s: %m", ns);
	cluster_ip(CLUSTER_HOSTLINK_NET(c->subnet), CLUSTER_CONTROL_HOST, advertise);
	cluster_ip(CLUSTER_FABRIC_NET(c->subnet), CLUSTER_CONTROL_HOST, fabric);
	r |= args_addf(&a, "%s/skiff-control", c->bin_dir);
	r |= args_addf(&a, "--listen=0.0.0.0:%d", CLUSTER_API_PORT);
	r |= args_addf(&a, "--data-dir=%s/control", c->state_dir);
	r |= args_addf(&a, "--advertise-address=%s", advertise);
	r |= args_addf(&a, "--tls-san=%s", fabric);
	r |= args_addf(&a, "--service-cidr=%s", SERVICE_CIDR);
	if (r < 0) {
		args_done(&a);
		return -ENOMEM;
	}
	r = proc_spawn(ns_fd, a.v, log, &c->control);
	if (r < 0)
		log_error_errno(r, "start %s in netns %s: %m", a.v[0], ns);
	args_done(&a);
	return r;
}

/* The agent's --help, read once: a flag is passed only when this agent build has it. */
static bool agent_has_flag(const struct cluster *c, const char *flag)
{
	static char *help;
	static bool tried;
	const char *p;
	size_t n = strlen(flag);

	if (!tried) {
		_cleanup_free_ char *bin = NULL;
		char *argv[3];

		tried = true;
		if (asprintf(&bin, "%s/skiff-agent", c->bin_dir) < 0)
			return false;
		argv[0] = bin;
		argv[1] = (char *)"--help";
		argv[2] = NULL;
		if (proc_capture(argv, &help) < 0)
			help = NULL;
	}
	for (p = help; p && (p = strstr(p, flag)); p += n)
		if (p[n] == ' ' || p[n] == '=' || p[n] == '\t' || p[n] == '\n')
			return true;
	return false;
}

/* As a real node joins: a bootstrap token of its own and the CA's hash, traded by the agent for
 * its node credential (kept in its root dir; a restart finds it and does not join again). */
static int agent_join_args(const struct cluster *c, const char *server, struct args *a)
{
	_cleanup_free_ char *data = NULL, *ca_path = NULL, *ca = NULL, *token = NULL;
	char hash[CA_HASH_LEN];
	int r;

	if (asprintf(&data, "%s/control", c->state_dir) < 0 || asprintf(&ca_path, "%s/ca.crt", data) < 0)
		return -ENOMEM;
	r = kubeconfig_read_file(ca_path, &ca, NULL);
	if (r >= 0)
		r = ca_cert_hash(ca, hash);
	if (r >= 0)
		r = bootstrap_token_create(data, JOIN_TOKEN_TTL_S, &token);
	if (r < 0)
		return log_error_errno(r, "cluster %s: a join token from %s: %m", c->name, data);
	r = args_addf(a, "--join=https://%s:%d", server, CLUSTER_API_PORT);
	r |= args_addf(a, "--token=%s", token);
	r |= args_addf(a, "--ca-cert-hash=%s", hash);
	return r < 0 ? -ENOMEM : 0;
}

static int agent_args(struct cluster *c, unsigned i, struct args *a)
{
	char server[16], node_ip[16];
	int r = 0;

	cluster_ip(CLUSTER_FABRIC_NET(c->subnet), CLUSTER_CONTROL_HOST, server);
	cluster_ip(CLUSTER_FABRIC_NET(c->subnet), CLUSTER_NODE_HOST(i), node_ip);
	r |= args_addf(a, "%s/skiff-agent", c->bin_dir);
	if (c->join_nodes && agent_has_flag(c, "--join")) {
		int k = agent_join_args(c, server, a);

		if (k < 0)
			return k;
	} else {
		r |= args_addf(a, "--kubeconfig=%s/control/admin.kubeconfig", c->state_dir);
		r |= args_addf(a, "--server=https://%s:%d", server, CLUSTER_API_PORT);
	}
	r |= args_addf(a, "--node-name=%s-node-%u", c->name, i);
	r |= args_addf(a, "--node-ip=%s", node_ip);
	r |= args_addf(a, "--root-dir=%s/node-%u/root", c->state_dir, i);
	r |= args_addf(a, "--run-dir=%s/node-%u/run", c->state_dir, i);
	r |= args_addf(a, "--cgroup-parent=" CGROUP_DEFAULT_PARENT "/%s/node-%u", c->name, i);
	r |= args_add(a, "--gpu-devices=");
	if (agent_has_flag(c, "--network"))
		r |= args_add(a, "--network=bridge");
	if (agent_has_flag(c, "--service-cidr"))
		r |= args_add(a, "--service-cidr=" SERVICE_CIDR);
	if (c->proxy_mode && agent_has_flag(c, "--proxy-mode"))
		r |= args_addf(a, "--proxy-mode=%s", c->proxy_mode);
	if (c->pin_root && agent_has_flag(c, "--bpf-pin-dir"))
		r |= args_addf(a, "--bpf-pin-dir=%s/node-%u", c->pin_root, i);
	return r < 0 ? -ENOMEM : 0;
}

int cluster_start_agent(struct cluster *c, unsigned i)
{
	struct args a = { 0 };
	_cleanup_free_ char *ns = cluster_node_netns(c, i), *what = NULL, *log = NULL;
	_cleanup_close_ int ns_fd = -1;
	int r;

	if (!ns || asprintf(&what, "node-%u", i) < 0 || !(log = cluster_log_path(c, what)))
		return -ENOMEM;
	ns_fd = netns_open(ns);
	if (ns_fd < 0)
		return log_error_errno(ns_fd, "netns %s: %m", ns);
	r = agent_args(c, i, &a);
	if (r >= 0) {
		r = proc_spawn(ns_fd, a.v, log, &c->agents[i - 1]);
		if (r < 0)
			log_error_errno(r, "start %s in netns %s: %m", a.v[0], ns);
	}
	args_done(&a);
	return r;
}

int cluster_restart_agent(struct cluster *c, unsigned i)
{
	struct cluster_proc *p = &c->agents[i - 1];
	int r;

	/* Like a crash: the pods keep running and the new agent re-adopts them. */
	if (proc_alive(p)) {
		if (kill(p->pid, SIGKILL) < 0 && errno != ESRCH)
			return log_error_errno(-errno, "kill agent %d: %m", (int)p->pid);
		for (int n = 0; n < 200 && proc_alive(p); n++)
			usleep(25000);
	}
	r = cluster_start_agent(c, i);
	if (r < 0)
		return r;
	return cluster_state_save(c);
}
