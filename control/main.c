/* skiff-control: flags, store, credentials, registry and the HTTPS server, stopped
 * cleanly on SIGTERM/SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "api/auth.h"
#include "api/certs.h"
#include "api/options.h"
#include "api/registry.h"
#include "api/server.h"
#include "api/tokens.h"
#include "controllers/controllers.h"
#include "leader/leader.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

/* Each watch and client is a socket: 1,000 watchers need more than the usual 1024 fds. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn_errno(-errno, "raise open-file limit: %m");
	}
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) != 0)
		return -EINTR;
	return sig;
}

/* Signals go to sigwait() only, and before any thread exists so every thread inherits the mask. */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int ensure_credentials(const struct control_options *o, const char *host, unsigned port,
			      struct control_credentials *creds)
{
	const char *hosts[CONTROL_MAX_TLS_SANS + 3];
	_cleanup_free_ char *url = NULL;
	size_t n = 0;
	/* A wildcard listen address is reached over loopback (or the advertised address). */
	bool wildcard = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
	const char *reach = wildcard ? (o->advertise_address ? o->advertise_address : "127.0.0.1") : host;
	bool v6 = strchr(reach, ':') != NULL;

	hosts[n++] = "127.0.0.1";
	hosts[n++] = "localhost";
	if (!wildcard)
		hosts[n++] = host;
	for (size_t i = 0; i < o->n_tls_sans; i++)
		hosts[n++] = o->tls_sans[i];
	if (asprintf(&url, v6 ? "https://[%s]:%u" : "https://%s:%u", reach, port) < 0)
		return -ENOMEM;
	return certs_ensure(o->data_dir, hosts, n, url, creds);
}

struct control {
	const struct control_options *opts;
	struct store *store;
	struct registry *reg;
	struct scheduler *sched;
	struct controllers *ctrls;
	struct leader *leader; /* etcd with --leader-elect: runs the scheduler and controllers */
	struct auth *auth;
	struct node_tokens_follow *tokens; /* etcd: node tokens issued by any instance */
	struct server *srv;
	struct control_credentials creds;
};

static void control_teardown(struct control *c)
{
	/* Requests first, then the in-process clients of the registry, then the registry. */
	server_stop(c->srv);
	leader_stop(c->leader);
	scheduler_stop(c->sched);
	controllers_stop(c->ctrls);
	registry_free(c->reg);
	node_tokens_follow_stop(c->tokens);
	store_close(c->store);
	auth_free(c->auth);
	control_credentials_clear(&c->creds);
}

static int control_open_store(struct control *c, const struct control_options *o)
{
	struct store_options so;
	_cleanup_free_ char *path = NULL;

	if (mkdir(o->data_dir, 0700) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "data dir %s: %m (create it or pass --data-dir)", o->data_dir);
	if (asprintf(&path, "%s/store.db", o->data_dir) < 0)
		return -ENOMEM;
	store_options_init(&so);
	so.group_commit = o->group_commit;
	so.compact_interval_seconds = o->compact_interval_s;
	so.compact_keep_revisions = o->compact_keep_revisions;
	so.compact_keep_seconds = o->compact_keep_s;
	if (o->store_etcd) {
		c->store = store_open_etcd(o->etcd_endpoints, o->etcd_prefix, &so);
		if (!c->store)
			return log_error_errno(-errno, "store etcd %s: %m", o->etcd_endpoints);
		return 0;
	}
	c->store = store_open_sqlite(path, &so);
	if (!c->store)
		return log_error_errno(-errno, "store %s: %m", path);
	return 0;
}

static int load_node_token(void *ud, const char *node, const char *hash)
{
	return auth_add_node(ud, node, hash);
}

/* The leader's work: the scheduler and controllers, started again from the store's state
 * by each new leader. */
static void control_work_stop(void *arg)
{
	struct control *c = arg;

	store_set_maintenance(c->store, false); /* compaction and defragmentation: the leader's */
	scheduler_stop(c->sched);
	controllers_stop(c->ctrls);
	c->sched = NULL;
	c->ctrls = NULL;
}

static int control_work_start(void *arg)
{
	struct control *c = arg;
	const struct control_options *o = c->opts;

	store_set_maintenance(c->store, true);
	if (o->run_controllers) {
		c->ctrls = controllers_start(c->reg, &o->controllers);
		if (!c->ctrls)
			return log_error_errno(-errno, "controllers: %m");
	} else {
		log_info("controllers disabled (--disable-controllers)");
	}
	if (o->run_scheduler) {
		c->sched = scheduler_start(c->reg, NULL);
		if (!c->sched) {
			int r = log_error_errno(-errno, "scheduler: %m");

			control_work_stop(c);
			return r;
		}
	} else {
		log_info("scheduler disabled (--disable-scheduler)");
	}
	return 0;
}

static int control_start_work(struct control *c, const struct control_options *o)
{
	struct leader_options lo;

	if (!o->store_etcd || !o->leader_elect) {
		if (o->store_etcd)
			log_info("leader election off (--leader-elect=false): scheduler and controllers run here");
		return control_work_start(c);
	}
	store_set_maintenance(c->store, false); /* until leading */
	leader_options_init(&lo);
	lo.identity = o->leader_identity;
	lo.lease_duration_s = o->leader_lease_duration_s;
	c->leader = leader_start(c->store, c->reg, &lo,
				 &(struct leader_work){ .start = control_work_start, .stop = control_work_stop, .arg = c });
	if (!c->leader)
		return log_error_errno(-errno, "leader election: %m");
	return 0;
}

static int control_start(struct control *c, const struct control_options *o)
{
	struct registry_options ro;
	char host[256];
	unsigned port;
	int r;

	r = control_parse_listen(o->listen, host, sizeof(host), &port);
	if (r < 0)
		return log_error_errno(r, "--listen %s: expected HOST:PORT", o->listen);
	r = control_open_store(c, o);
	if (r < 0)
		return r;
	r = ensure_credentials(o, host, port, &c->creds);
	if (r < 0)
		return log_error_errno(r, "credentials in %s: %m", o->data_dir);
	c->auth = auth_new(c->creds.admin_token);
	if (!c->auth)
		return log_error_errno(-errno, "admin token in %s/admin.token: %m", o->data_dir);
	r = node_tokens_load(o->data_dir, load_node_token, c->auth);
	if (r < 0)
		return log_error_errno(r, "node tokens in %s/node-tokens: %m", o->data_dir);
	if (o->store_etcd) {
		/* Every instance on this etcd accepts the joins and node tokens of every other. */
		auth_set_store(c->auth, c->store);
		c->tokens = node_tokens_follow_start(c->store, load_node_token, c->auth);
		if (!c->tokens)
			return log_error_errno(-errno, "node tokens in the store: %m");
	}
	registry_options_init(&ro);
	ro.service_cidr = o->service_cidr;
	ro.node_port_min = o->node_port_min;
	ro.node_port_max = o->node_port_max;
	c->reg = registry_new(c->store, &ro);
	if (!c->reg)
		return log_error_errno(-errno, "registry: %m");
	r = control_start_work(c, o);
	if (r < 0)
		return r;
	c->srv = server_start(&(struct server_config){ .host = host,
						       .port = port,
						       .cert_pem = c->creds.server_cert_pem,
						       .key_pem = c->creds.server_key_pem,
						       .auth = c->auth,
						       .reg = c->reg,
						       .connection_limit = o->connection_limit,
						       .idle_timeout_s = o->idle_timeout_s,
						       .max_body_bytes = o->max_body_bytes,
						       .thread_stack_bytes = o->thread_stack_bytes,
						       .data_dir = o->data_dir,
						       .ca_pem = c->creds.ca_pem,
						       .max_requests_inflight = o->max_requests_inflight,
						       .max_watches_inflight = o->max_watches_inflight });
	if (!c->srv)
		return log_error_errno(-errno, "serve on %s: %m (is the port in use?)", o->listen);
	server_set_ready(c->srv, true);
	log_info("skiff-control ready on https://%s (data dir %s, kubeconfig %s/admin.kubeconfig)", o->listen,
		 o->data_dir, o->data_dir);
	return 0;
}

int main(int argc, char **argv)
{
	struct control_options opts;
	struct control c = { .opts = &opts };
	int r, sig;

	control_options_init(&opts);
	r = control_options_parse(&opts, argc, argv, stdout, stderr);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : 2;
	log_set_level(opts.log_level);
	block_signals();
	raise_fd_limit();
	r = control_start(&c, &opts);
	if (r < 0) {
		control_teardown(&c);
		return EXIT_FAILURE;
	}
	sig = wait_for_signal();
	log_info("skiff-control: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	control_teardown(&c);
	log_info("skiff-control stopped");
	return EXIT_SUCCESS;
}
