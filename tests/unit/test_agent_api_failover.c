/* The API client's failover between the servers of one cluster, over real loopback HTTPS: two
 * in-process skiff-control servers on one registry (one cluster: one store, shared
 * resourceVersions), fake TLS servers answering a chosen status, ports that refuse and a port
 * whose full accept queue drops SYNs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/auth.h"
#include "api/certs.h"
#include "api/client.h"
#include "api/kubeconfig.h"
#include "api/server.h"
#include "api/tokens.h"
#include "api/watch.h"
#include "lib/registry_kit.h"
/* By path: control/ has an api/join.h of its own (the server side), first on the include path. */
#include "../../agent/api/join.h"
#include "lib/watch_kit.h"

static char certdir[64];
static struct control_credentials creds;
static struct auth *auth;
static struct server *srv_a, *srv_b;
static char url_a[64], url_b[64];

static struct server *start_server(char *url, size_t len)
{
	struct server *s = server_start(&(struct server_config){
		.host = "127.0.0.1", .port = 0, .cert_pem = creds.server_cert_pem, .key_pem = creds.server_key_pem,
		.auth = auth, .reg = kit_reg, .connection_limit = 64, .idle_timeout_s = 30, .max_body_bytes = 1 << 20,
		.thread_stack_bytes = 512 * 1024, .data_dir = certdir, .ca_pem = creds.ca_pem });

	cr_assert_not_null(s, "server_start: %s", strerror(errno));
	server_set_ready(s, true);
	snprintf(url, len, "https://127.0.0.1:%u", server_port(s));
	return s;
}

static void setup(void)
{
	const char *hosts[] = { "127.0.0.1", "localhost" };

	kit_setup("failover", NULL);
	snprintf(certdir, sizeof(certdir), "/tmp/skiff-test-failcerts-XXXXXX");
	cr_assert_not_null(mkdtemp(certdir));
	cr_assert_eq(certs_ensure(certdir, hosts, 2, "https://127.0.0.1:1", &creds), 0);
	auth = auth_new(creds.admin_token);
	cr_assert_not_null(auth);
	srv_a = start_server(url_a, sizeof(url_a));
	srv_b = start_server(url_b, sizeof(url_b));
}

static void teardown(void)
{
	server_stop(srv_a);
	server_stop(srv_b);
	auth_free(auth);
	control_credentials_clear(&creds);
	kit_teardown();
	kit_rm_tree(certdir);
}

TestSuite(agent_api_failover, .init = setup, .fini = teardown, .timeout = 90);

static struct api_client *client_for(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct api_client *client_for(const char *fmt, ...)
{
	char list[512];
	struct api_client *c;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(list, sizeof(list), fmt, ap);
	va_end(ap);
	c = api_client_new(list, creds.ca_pem, creds.admin_token);
	cr_assert_not_null(c, "api_client_new(%s): %s", list, strerror(errno));
	return c;
}

/* A loopback port that refuses: bound (so nothing else takes it) but not listening. */
static int refusing_port(unsigned *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* ---- a fake API server answering every request with one status ---- */

struct fake {
	struct MHD_Daemon *d;
	atomic_int status;
	atomic_int requests;
	char url[64];
};

static enum MHD_Result fake_answer(void *ud, struct MHD_Connection *conn, const char *u, const char *method,
				   const char *version, const char *data, size_t *size, void **state)
{
	static const char body[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"message\":\"from the fake\"}";
	struct fake *f = ud;
	struct MHD_Response *resp;
	enum MHD_Result r;

	(void)u, (void)method, (void)version, (void)data;
	if (!*state) { /* the headers; the body (if any) follows in later calls */
		*state = f;
		return MHD_YES;
	}
	if (*size) {
		*size = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&f->requests, 1);
	resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	r = MHD_queue_response(conn, (unsigned)atomic_load(&f->status), resp);
	MHD_destroy_response(resp);
	return r;
}

static void fake_start(struct fake *f, int status)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	atomic_init(&f->status, status);
	atomic_init(&f->requests, 0);
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, NULL, NULL, fake_answer, f,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_CERT,
				creds.server_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, creds.server_key_pem, MHD_OPTION_END);
	cr_assert_not_null(f->d, "the fake server did not start");
	snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%u",
		 MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT)->port);
}

/* ---- cases ---- */

Test(agent_api_failover, server_lists)
{
	char **l = NULL;
	size_t n = 0;

	cr_assert_eq(api_server_list_parse(" https://a:6443/ ,https://b:6443", &l, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(l[0], "https://a:6443");
	cr_assert_str_eq(l[1], "https://b:6443");
	cr_assert_null(l[2]);
	api_server_list_free(l);
	cr_assert_eq(api_server_list_parse("https://a", &l, &n), 0);
	cr_assert_eq(n, 1);
	api_server_list_free(l);
	cr_assert_eq(api_server_list_parse("https://a,,https://b", &l, &n), -EINVAL);
	cr_assert_eq(api_server_list_parse("https://a,", &l, &n), -EINVAL);
	cr_assert_eq(api_server_list_parse("", &l, &n), -EINVAL);
	cr_assert_null(api_client_new("https://a, ", NULL, NULL));
	cr_assert_eq(errno, EINVAL);
}

Test(agent_api_failover, first_server_refuses_the_second_answers_and_stays_current)
{
	unsigned dead;
	int fd = refusing_port(&dead);
	struct api_client *c = client_for("https://127.0.0.1:%u,%s", dead, url_b);
	struct api_client *twin = api_client_dup(c);
	unsigned gen = api_client_generation(c);

	cr_assert_not_null(twin);
	cr_assert_eq(api_get(c, "/api/v1/namespaces/default", NULL), 200);
	cr_assert_eq(api_client_generation(c), gen + 1, "the switch to the second server");
	cr_assert_eq(api_get(c, "/api/v1/namespaces/default", NULL), 200);
	cr_assert_eq(api_get(twin, "/api/v1/namespaces/default", NULL), 200);
	cr_assert_eq(api_client_generation(c), gen + 1, "the second server stays current, for the twin too");
	api_client_free(twin);
	api_client_free(c);
	close(fd);
}

Test(agent_api_failover, all_down_is_an_errno_and_all_unavailable_the_last_status)
{
	unsigned p1, p2;
	int fd1 = refusing_port(&p1), fd2 = refusing_port(&p2);
	struct api_client *c = client_for("https://127.0.0.1:%u,https://127.0.0.1:%u", p1, p2);
	struct fake f1, f2;
	json_object *body = NULL;

	cr_assert_eq(api_get(c, "/api/v1/nodes", NULL), -ECONNREFUSED);
	cr_assert_eq(api_get(c, "/api/v1/nodes", &body), -ECONNREFUSED);
	cr_assert_null(body);
	api_client_free(c);
	close(fd1);
	close(fd2);

	fake_start(&f1, 503);
	fake_start(&f2, 503);
	c = client_for("%s,%s", f1.url, f2.url);
	cr_assert_eq(api_get(c, "/api/v1/nodes", &body), 503);
	cr_assert_str_eq(api_error_message(body), "from the fake");
	cr_assert_eq(atomic_load(&f1.requests), 1);
	cr_assert_eq(atomic_load(&f2.requests), 1, "each server is tried once");
	json_object_put(body);
	api_client_free(c);
	MHD_stop_daemon(f1.d);
	MHD_stop_daemon(f2.d);
}

Test(agent_api_failover, unavailable_moves_on_but_a_servers_own_answer_is_returned)
{
	static const int own[] = { 404, 409, 500, 401 };
	struct fake f, g;
	struct api_client *c;
	json_object *body = NULL;

	fake_start(&f, 503);
	fake_start(&g, 200);
	c = client_for("%s,%s", f.url, g.url);
	cr_assert_eq(api_get(c, "/api/v1/nodes", NULL), 200, "503 from the first, the second answers");
	cr_assert_eq(atomic_load(&f.requests), 1);
	cr_assert_eq(atomic_load(&g.requests), 1);
	api_client_free(c);

	/* The first server is current and well: its 4xx and 500 are the cluster's answer. */
	atomic_store(&g.requests, 0);
	c = client_for("%s,%s", f.url, g.url);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		atomic_store(&f.status, own[i]);
		cr_assert_eq(api_get(c, "/api/v1/namespaces/default/pods/x", &body), own[i]);
		cr_assert_str_eq(api_error_message(body), "from the fake");
		json_object_put(body);
		body = NULL;
	}
	cr_assert_eq(atomic_load(&g.requests), 0, "a 4xx/500 was retried on another server");
	atomic_store(&f.status, 502);
	cr_assert_eq(api_patch(c, "/api/v1/nodes/n1", API_PATCH_MERGE, NULL, NULL), 200);
	cr_assert_eq(atomic_load(&g.requests), 1, "502 moves on");
	api_client_free(c);
	MHD_stop_daemon(f.d);
	MHD_stop_daemon(g.d);
}

/* A listener whose accept queue is full: the kernel drops further SYNs, as for a host that is
 * gone. Without a short connect timeout the request would wait minutes (the suite's timeout). */
static int syn_dropping_port(unsigned *ret_port, int *clients, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 0), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	for (size_t i = 0; i < n; i++) {
		clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		cr_assert_geq(clients[i], 0);
		connect(clients[i], (struct sockaddr *)&sa, sizeof(sa)); /* EINPROGRESS, or queued */
	}
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

Test(agent_api_failover, unanswered_syn_moves_on_after_the_connect_timeout)
{
	int clients[4], lfd;
	unsigned port;
	struct api_client *c;

	lfd = syn_dropping_port(&port, clients, 4);
	c = client_for("https://127.0.0.1:%u,%s", port, url_a);
	cr_assert_eq(api_get(c, "/api/v1/namespaces/default", NULL), 200);
	api_client_free(c);
	for (size_t i = 0; i < 4; i++)
		close(clients[i]);
	close(lfd);
}

/* --join with a list: the first server refuses, the second joins the node, and the stored
 * credential keeps the whole list. */
Test(agent_api_failover, join_tries_the_servers_in_order_and_keeps_them_all)
{
	char root[128], list[160], hash[CA_HASH_LEN], *tok = NULL, *path, *err = NULL;
	struct kubeconfig k = { 0 };
	struct api_client *c;
	unsigned dead;
	int fd = refusing_port(&dead);

	snprintf(root, sizeof(root), "%s/agent-root", certdir);
	snprintf(list, sizeof(list), "https://127.0.0.1:%u,%s", dead, url_b);
	cr_assert_eq(bootstrap_token_create(certdir, 600, &tok), 0);
	cr_assert_eq(ca_cert_hash(creds.ca_pem, hash), 0);
	cr_assert_eq(join_cluster(list, tok, hash, "n1", root), 0);
	path = join_credential_path(root);
	cr_assert_eq(kubeconfig_load(path, &k, &err), 0, "%s", err);
	cr_assert_str_eq(k.server, list);
	c = api_client_new(k.server, k.ca_pem, k.token);
	cr_assert_not_null(c);
	cr_assert_eq(api_get(c, "/api/v1/nodes", NULL), 200, "the node's credential, through the second server");
	api_client_free(c);
	kubeconfig_done(&k);
	free(path);
	free(tok);
	close(fd);
}

/* ---- a watch whose server is killed ---- */

static atomic_bool stop;
static struct api_watch_stats stats;
static struct api_client *watch_client;

static void *watcher(void *arg)
{
	(void)arg;
	api_watch_run(watch_client, "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn1", &watch_kit_recording, NULL, &stop, &stats);
	return NULL;
}

#define POD_ON(name, node)                                                                                  \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"nodeName\":\"" node \
	"\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"

static int create_pod(struct api_client *c, const char *body)
{
	json_object *o = json_tokener_parse(body), *resp = NULL;
	int st;

	cr_assert_not_null(o);
	st = api_create(c, "/api/v1/namespaces/default/pods", o, &resp);
	json_object_put(o);
	json_object_put(resp);
	return st;
}

Test(agent_api_failover, watch_moves_to_the_other_server_when_its_server_dies)
{
	struct api_client *only_b = client_for("%s", url_b);
	unsigned gen;
	pthread_t t;

	watch_client = client_for("%s,%s", url_a, url_b);
	gen = api_client_generation(watch_client);
	cr_assert_eq(create_pod(only_b, POD_ON("before", "n1")), 201);
	atomic_store(&stop, false);
	cr_assert_eq(pthread_create(&t, NULL, watcher, NULL), 0);
	KIT_WAIT_UNTIL(watch_kit_logged("relist:1 "), "the first list, from the first server");
	KIT_WAIT_UNTIL(atomic_load(&stats.streams) >= 1 || stats.streams >= 1, "a watch stream on the first server");
	cr_assert_eq(create_pod(only_b, POD_ON("mine", "n1")), 201);
	KIT_WAIT_UNTIL(watch_kit_logged("ADDED:mine "), "an event through the first server");

	server_stop(srv_a); /* its listener and the open stream go away */
	srv_a = NULL;
	cr_assert_eq(create_pod(only_b, POD_ON("after", "n1")), 201);
	KIT_WAIT_UNTIL(watch_kit_logged("ADDED:after ") || watch_kit_logged("relist:3 "), "the pod created after the kill, through the second");
	cr_assert_eq(api_client_generation(watch_client), gen + 1, "the client moved to the second server");
	cr_assert_eq(create_pod(only_b, POD_ON("later", "n1")), 201);
	KIT_WAIT_UNTIL(watch_kit_logged("ADDED:later "), "events keep flowing from the second server");
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	api_client_free(watch_client);
	api_client_free(only_b);
}

/* ---- a TCP relay in front of a server, which can fall silent as a cut-off host does ---- */

#define RELAY_MAX 16

struct relay {
	int lfd, target_port;
	unsigned port;
	atomic_bool frozen, quit;
	pthread_t acceptor, pipes[RELAY_MAX];
	int fds[RELAY_MAX][2];
	atomic_size_t n;
};

static struct relay relay;

static bool pipe_once(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static void *relay_pipe(void *arg)
{
	int *fds = arg;

	while (!atomic_load(&relay.quit)) {
		struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };

		if (atomic_load(&relay.frozen)) { /* silent: no data, no FIN */
			kit_sleep_ms(50);
			continue;
		}
		/* Checked again after poll: bytes that arrive once frozen is set are never passed on. */
		if (poll(p, 2, 100) <= 0 || atomic_load(&relay.frozen))
			continue;
		if (((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pipe_once(fds[0], fds[1])) ||
		    ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pipe_once(fds[1], fds[0])))
			break;
	}
	shutdown(fds[0], SHUT_RDWR);
	shutdown(fds[1], SHUT_RDWR);
	return NULL;
}

static void *relay_accept(void *arg)
{
	(void)arg;
	while (!atomic_load(&relay.quit)) {
		struct pollfd p = { relay.lfd, POLLIN, 0 };
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					  .sin_port = htons((uint16_t)relay.target_port) };
		size_t i = atomic_load(&relay.n);
		int c, s;

		/* Frozen: connections wait in the accept queue, their TLS handshakes unanswered. */
		if (atomic_load(&relay.frozen) || i == RELAY_MAX || poll(&p, 1, 100) <= 0) {
			kit_sleep_ms(50);
			continue;
		}
		c = accept4(relay.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(c);
			if (s >= 0)
				close(s);
			continue;
		}
		relay.fds[i][0] = c;
		relay.fds[i][1] = s;
		cr_assert_eq(pthread_create(&relay.pipes[i], NULL, relay_pipe, relay.fds[i]), 0);
		atomic_store(&relay.n, i + 1);
	}
	return NULL;
}

static void relay_start(unsigned target_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	relay.target_port = (int)target_port;
	relay.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(relay.lfd, 0);
	cr_assert_eq(bind(relay.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(relay.lfd, 16), 0);
	cr_assert_eq(getsockname(relay.lfd, (struct sockaddr *)&sa, &len), 0);
	relay.port = ntohs(sa.sin_port);
	cr_assert_eq(pthread_create(&relay.acceptor, NULL, relay_accept, NULL), 0);
}

static void relay_stop(void)
{
	atomic_store(&relay.quit, true);
	pthread_join(relay.acceptor, NULL);
	for (size_t i = 0; i < atomic_load(&relay.n); i++) {
		pthread_join(relay.pipes[i], NULL);
		close(relay.fds[i][0]);
		close(relay.fds[i][1]);
	}
	close(relay.lfd);
}

/* A server cut off without a FIN: its open watch stream just falls silent. Another request of
 * the client's finds it gone (connect timeout), and the stream follows that switch, resuming
 * from its resourceVersion on the new server without a re-list. */
Test(agent_api_failover, silent_server_watch_follows_a_switch_made_by_another_request)
{
	struct api_client *twin;
	pthread_t t;
	int st;

	relay_start(server_port(srv_a));
	watch_client = client_for("https://127.0.0.1:%u,%s", relay.port, url_b);
	twin = api_client_dup(watch_client);
	cr_assert_not_null(twin);
	atomic_store(&stop, false);
	cr_assert_eq(pthread_create(&t, NULL, watcher, NULL), 0);
	KIT_WAIT_UNTIL(watch_kit_logged("relist:0 "), "the first list, through the relay");
	KIT_WAIT_UNTIL(atomic_load(&relay.n) >= 2, "the watch stream's own connection through the relay");
	cr_assert_eq(create_pod(twin, POD_ON("first", "n1")), 201);
	KIT_WAIT_UNTIL(watch_kit_logged("ADDED:first "), "an event through the relay");

	/* The twin's kept-alive connection through the relay now waits for its answer until the
	 * request's time limit, as a heartbeat's would (main.c caps those at 10 s). */
	api_client_set_timeout(twin, 3);
	atomic_store(&relay.frozen, true);
	st = create_pod(twin, POD_ON("moved", "n1"));
	cr_assert_eq(st, 201, "the twin's request moves to the second server: %d", st);
	KIT_WAIT_UNTIL(watch_kit_logged("ADDED:moved "), "the watch moved to the second server");
	cr_assert_eq(stats.lists, 1, "resumed from the resourceVersion, no re-list: %s", watch_kit_log());
	cr_assert_geq(stats.streams, 2);
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	api_client_free(twin);
	api_client_free(watch_client);
	relay_stop();
}
