/* skiff-agent: registers this node, heartbeats through its Lease, watches the pods bound here
 * and reconciles them against the runtime until SIGTERM/SIGINT. */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "api/client.h"
#include "api/join.h"
#include "api/kubeconfig.h"
#include "api/watch.h"
#include "node/config.h"
#include "node/events.h"
#include "node/facts.h"
#include "node/health.h"
#include "node/heartbeat.h"
#include "node/object.h"
#include "node/reconcile.h"
#include "node/runtime_pods.h"
#include "net/pod_network.h"
#include "pods/cgroup.h"
#include "proxy/sync_run.h"
#include "server/server.h"

struct agent {
	struct agent_config cfg;
	struct api_client *api;    /* pods: watch, status posts, deletes */
	struct api_client *hb_api; /* heartbeats: never queued behind pod traffic */
	struct api_client *ev_api; /* pod events: pod traffic never queues behind them */
	struct heartbeat hb;
	struct reconciler *rec;
	char *pause_path;
	char *pods_query;
	json_object *taints;
	struct agent_runtime *runtime;
	struct event_recorder *events; /* the runtime's pod events, posted on their own thread */
	char *runtime_error;
	struct proxy_run *proxy; /* --network bridge: Service routing */
	char *ca_pem;                   /* the cluster CA: the logs/exec endpoint's clients chain to it */
	struct agent_server *endpoint;  /* kubectl logs/exec through the API server; NULL: none */
	atomic_bool stop;
	sigset_t signals;
};

#define HEARTBEAT_REQUEST_TIMEOUT_S 5

/* The server(s), CA and token: the kubeconfig's, each overridden by its flag. */
static int connect_api(struct agent *a)
{
	struct kubeconfig k = { 0 };
	_cleanup_free_ char *err = NULL, *ca = NULL;
	_cleanup_free_ char *joined = NULL;
	const char *server, *token, *kubeconfig = a->cfg.kubeconfig;
	int r;

	if (a->cfg.join) {
		/* The bootstrap token is spent on the join; afterwards the node's own credential counts. */
		r = join_cluster(a->cfg.join, a->cfg.token, a->cfg.ca_cert_hash, a->cfg.node_name, a->cfg.root_dir);
		if (r < 0)
			return r;
		kubeconfig = joined = join_credential_path(a->cfg.root_dir);
		if (!joined)
			return -ENOMEM;
		free(a->cfg.token);
		a->cfg.token = NULL;
	}
	if (kubeconfig) {
		r = kubeconfig_load(kubeconfig, &k, &err);
		if (r < 0)
			return log_error_errno(r, "kubeconfig %s: %s", kubeconfig, err ? err : strerror(-r));
	}
	if (a->cfg.ca_file && (r = kubeconfig_read_file(a->cfg.ca_file, &ca, NULL)) < 0) {
		kubeconfig_done(&k);
		return log_error_errno(r, "--ca-file %s: %m", a->cfg.ca_file);
	}
	server = a->cfg.server ? a->cfg.server : k.server;
	token = a->cfg.token ? a->cfg.token : k.token;
	a->api = api_client_new(server, ca ? ca : k.ca_pem, token);
	/* The logs/exec endpoint checks its clients against the same CA (NULL: it does not start). */
	if (ca || k.ca_pem)
		a->ca_pem = strdup(ca ? ca : k.ca_pem);
	/* One set of servers for all three: a server one of them found dead is left by all. */
	if (a->api)
		a->hb_api = api_client_dup(a->api);
	if (a->hb_api)
		a->ev_api = api_client_dup(a->api);
	/* A server that hangs must not hold a heartbeat past the node-monitor grace period. */
	if (a->hb_api)
		api_client_set_timeout(a->hb_api, HEARTBEAT_REQUEST_TIMEOUT_S);
	r = a->api && a->hb_api && a->ev_api ? 0 : -errno;
	if (r < 0)
		log_error_errno(r, "API client for %s: %m", server ? server : "(no server)");
	kubeconfig_done(&k);
	return r;
}

/* Sleeps up to seconds, or returns 1 at once when SIGTERM/SIGINT arrives. */
static int wait_signal(struct agent *a, long seconds)
{
	struct timespec ts = { seconds, 0 };
	int sig = sigtimedwait(&a->signals, NULL, &ts);

	if (sig > 0) {
		log_info("signal %d: stopping", sig);
		atomic_store(&a->stop, true);
		return 1;
	}
	return 0;
}

static void *watch_thread(void *ud)
{
	struct agent *a = ud;

	api_watch_run(a->api, "/api/v1/pods", a->pods_query, &reconciler_watch_ops, a->rec, &a->stop, NULL);
	return NULL;
}

/* --network bridge: this node's podCIDR starts the bridge, the other nodes' become routes. */
static void *node_watch_thread(void *ud)
{
	struct agent *a = ud;

	api_watch_run(a->api, "/api/v1/nodes", NULL, &pod_network_node_watch_ops, agent_runtime_network(a->runtime),
		      &a->stop, NULL);
	return NULL;
}

/* Pods step and their statuses refresh on their own thread, so a slow runtime never delays a
 * heartbeat. Every second: each sync advances a pod by one step (init containers, restarts). */
#define SYNC_PERIOD_MS 1000

static void *sync_thread(void *ud)
{
	struct agent *a = ud;
	long period_ms = SYNC_PERIOD_MS;

	while (!atomic_load(&a->stop)) {
		reconciler_sync(a->rec);
		for (long t = 0; t < period_ms && !atomic_load(&a->stop); t += 100)
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	return NULL;
}

static int setup(struct agent *a)
{
	struct reconcile_runtime ops;
	int r;

	r = connect_api(a);
	if (r < 0)
		return r;
	if (a->cfg.pause_binary)
		a->pause_path = strdup(a->cfg.pause_binary);
	else if (node_default_pause_path(&a->pause_path) < 0)
		a->pause_path = NULL;
	r = node_facts_collect(&a->cfg, &a->hb.facts);
	if (r < 0)
		return r;
	a->hb.api = a->hb_api;
	a->hb.cgroup_parent = a->cfg.cgroup_parent;
	a->hb.pause_path = a->pause_path;
	r = node_taints_parse(a->cfg.register_with_taints, &a->taints);
	if (r < 0)
		return log_error_errno(r, "--register-with-taints \"%s\": expected key[=value]:Effect,... with Effect "
				       "NoSchedule, PreferNoSchedule or NoExecute", a->cfg.register_with_taints);
	a->hb.taints = a->taints;
	if (asprintf(&a->pods_query, "fieldSelector=spec.nodeName%%3D%s", a->cfg.node_name) < 0)
		return -ENOMEM;
	a->runtime = agent_runtime_new(&a->cfg, a->pause_path, a->hb.facts.internal_ip);
	if (a->runtime) {
		agent_runtime_ops(a->runtime, &ops);
		a->events = event_recorder_new(a->ev_api, a->cfg.node_name);
		if (!a->events)
			return log_error_errno(-errno, "starting the event recorder: %m");
		agent_runtime_set_events(a->runtime, a->events);
	} else {
		/* Still register and heartbeat, NotReady, so the cluster sees why no pod runs here. */
		if (asprintf(&a->runtime_error, "the pod runtime did not start: %s", strerror(errno)) < 0)
			return -ENOMEM;
		a->hb.runtime_error = a->runtime_error;
	}
	a->rec = reconciler_new(a->api, a->cfg.node_name, a->hb.facts.internal_ip, a->runtime ? &ops : NULL,
				a->runtime ? "ContainerCreating" : "RuntimeUnavailable", a->runtime_error);
	if (!a->rec)
		return -ENOMEM;
	log_info("node %s: %ld CPUs, %llu MiB, %d GPUs, InternalIP %s", a->cfg.node_name, a->hb.facts.cpus,
		 (unsigned long long)(a->hb.facts.mem_bytes >> 20), a->hb.facts.gpus, a->hb.facts.internal_ip);
	return 0;
}

/* Service routing in this agent's network namespace; its BPF hooks sit on the pods' cgroup
 * parent. A proxy that cannot start leaves the node up without Service routing (logged). */
static void start_proxy(struct agent *a)
{
	_cleanup_free_ char *mnt = NULL, *cg = NULL;
	struct proxy_run_options o = { .mode = a->cfg.proxy_mode, .pin_dir = a->cfg.bpf_pin_dir,
				       .node = a->cfg.node_name, .service_cidr = a->cfg.service_cidr };

	if (cgroup_find_mount(&mnt) < 0 || asprintf(&cg, "%s/%s", mnt, a->cfg.cgroup_parent) < 0) {
		log_error("proxy: no cgroup2 mount for the Service hooks; Services are not routed on this node");
		return;
	}
	o.cgroup_path = cg;
	a->proxy = proxy_run_start(&o, a->api, &a->stop);
}

/* The logs/exec endpoint (--port 0: none). One that cannot start leaves the node up without
 * kubectl logs and exec (logged), as a kubelet whose port is taken. */
static void start_endpoint(struct agent *a)
{
	_cleanup_free_ char *dir = NULL;

	if (a->cfg.port <= 0 || !a->runtime || asprintf(&dir, "%s/pki", a->cfg.root_dir) < 0)
		return;
	a->endpoint = agent_server_start(&(struct agent_server_config){
		.address = a->cfg.address, .port = (unsigned)a->cfg.port, .cert_dir = dir,
		.node_name = a->cfg.node_name, .client_ca_pem = a->ca_pem, .rt = agent_runtime_pods(a->runtime) });
	if (a->endpoint)
		a->hb.endpoint_port = a->cfg.port;
}

/* Registration retries until the server answers: an agent may start before its server. */
static int register_node(struct agent *a)
{
	for (long backoff = 1;; backoff = backoff < 8 ? backoff * 2 : 8) {
		if (heartbeat_register(&a->hb) >= 0)
			return 0;
		if (wait_signal(a, backoff))
			return -EINTR;
	}
}

/* --pod-fastpath auto: the tc fast path hands packets past this node's conntrack, so it runs
 * where Services are routed at the socket (proxy bpf), never under nftables' DNAT, whose
 * replies must be un-NATed here. Off also removes an earlier agent's filters. */
static void pod_fastpath_apply(struct agent *a, bool proxy_known)
{
	struct pod_network *net = agent_runtime_network(a->runtime);
	const char *mode = proxy_known && a->proxy ? proxy_run_mode(a->proxy) : a->cfg.proxy_mode;
	bool on = strcmp(a->cfg.pod_fastpath, "off") != 0 && strcmp(mode, "nftables") != 0;
	int r;

	if (!net || (on && !proxy_known))
		return;
	r = pod_network_set_fastpath(net, on);
	if (r < 0)
		log_warn_errno(r, "pod fast path %s: %m", on ? "on" : "off");
	else if (!on && proxy_known)
		log_info("pod fast path off (%s): pods' traffic takes the bridge and forwarding",
			 strcmp(a->cfg.pod_fastpath, "off") == 0 ? "--pod-fastpath off" : "Services by nftables");
}

static int run(struct agent *a)
{
	pthread_t watcher, syncer;
	pthread_t nodes_watcher;
	bool nodes_watched = false;
	int r;

	start_endpoint(a);
	pod_fastpath_apply(a, false);
	r = register_node(a);
	if (r < 0)
		return r == -EINTR ? 0 : r;
	r = -pthread_create(&watcher, NULL, watch_thread, a);
	if (r < 0)
		return log_error_errno(r, "starting the pod watch: %m");
	r = -pthread_create(&syncer, NULL, sync_thread, a);
	if (r < 0) {
		atomic_store(&a->stop, true);
		pthread_join(watcher, NULL);
		return log_error_errno(r, "starting the pod status sync: %m");
	}
	if (agent_runtime_network(a->runtime)) {
		r = -pthread_create(&nodes_watcher, NULL, node_watch_thread, a);
		if (r < 0)
			log_error_errno(r, "starting the Node watch (podCIDR, routes to other nodes): %m");
		nodes_watched = r >= 0;
		start_proxy(a);
		pod_fastpath_apply(a, true);
	}
	while (!atomic_load(&a->stop)) {
		heartbeat_tick(&a->hb);
		wait_signal(a, a->cfg.heartbeat_seconds > 0 ? a->cfg.heartbeat_seconds : 5);
	}
	pthread_join(watcher, NULL);
	pthread_join(syncer, NULL);
	if (nodes_watched)
		pthread_join(nodes_watcher, NULL);
	proxy_run_free(a->proxy);
	return 0;
}

static void agent_done(struct agent *a)
{
	agent_server_stop(a->endpoint);
	free(a->ca_pem);
	reconciler_free(a->rec);
	agent_runtime_free(a->runtime);
	event_recorder_free(a->events);
	free(a->runtime_error);
	heartbeat_done(&a->hb);
	api_client_free(a->api);
	api_client_free(a->hb_api);
	api_client_free(a->ev_api);
	free(a->pause_path);
	free(a->pods_query);
	json_object_put(a->taints);
	agent_config_done(&a->cfg);
}

/* libcurl-gnutls calls libssh2_init(0) in curl_global_init, and libssh2 then starts OpenSSL's
 * engines and config: 1.5 MB of resident libcrypto pages for SCP/SFTP the agent never speaks.
 * libssh2 counts its initialisations, so one first without crypto makes curl's a no-op (issue 4:
 * agent RSS); OpenSSL 3 would still initialise itself on first use. */
static void skip_ssh_crypto_init(void)
{
	int (*ssh2_init)(int flags) = (int (*)(int))dlsym(RTLD_DEFAULT, "libssh2_init");

	if (ssh2_init)
		ssh2_init(0x0001 /* LIBSSH2_INIT_NO_CRYPTO */);
}

int main(int argc, char **argv)
{
	struct agent a = { 0 };
	_cleanup_free_ char *err = NULL;
	enum log_level lvl;
	int r;

	/* glibc gives each busy thread a malloc arena of its own; the agent's threads are mostly
	 * waiting, so two arenas keep its memory small without contention. */
	mallopt(M_ARENA_MAX, 2);
	skip_ssh_crypto_init();
	/* Every thread inherits the block, so only sigtimedwait in the main loop sees them. */
	sigemptyset(&a.signals);
	sigaddset(&a.signals, SIGTERM);
	sigaddset(&a.signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &a.signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = agent_config_init(&a.cfg);
	if (r < 0)
		return EXIT_FAILURE;
	r = agent_config_load(&a.cfg, argc, argv, stdout, &err);
	if (r == 1) {
		agent_done(&a);
		return EXIT_SUCCESS;
	}
	if (r < 0) {
		fprintf(stderr, "skiff-agent: %s (see --help)\n", err ? err : "invalid configuration");
		agent_done(&a);
		return 2;
	}
	if (log_level_parse(a.cfg.log_level, &lvl) == 0)
		log_set_level(lvl);
	r = setup(&a);
	if (r >= 0)
		r = run(&a);
	agent_done(&a);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
