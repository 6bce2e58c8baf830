/* Probes: core/v1 Probe parsing (defaults, named ports, handlers that cannot run), the result
 * state machine, tcpSocket/httpGet probes run for real inside a network namespace the test
 * makes (a forked child with its own netns serving on 127.0.0.1 there only), and the prober
 * driving them: readiness per run, a kill after liveness failures, Unhealthy events. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "pods/probe.h"
#include "pods/probe_manager.h"
#include "pods/sandbox.h"

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert(o, "bad JSON: %s", s);
	return o;
}

Test(agent_probe, defaults_and_named_port)
{
	_cleanup_json_ json_object *c = parse(
		"{\"name\":\"web\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}],"
		"\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\","
		"\"httpHeaders\":[{\"name\":\"X-A\",\"value\":\"b\"}]}},"
		"\"livenessProbe\":{\"tcpSocket\":{\"port\":9000},\"initialDelaySeconds\":3,\"periodSeconds\":2,"
		"\"timeoutSeconds\":5,\"failureThreshold\":1}}");
	struct probe_spec r, l, none;
	char *err = NULL;

	cr_assert_eq(probe_spec_parse(c, "readinessProbe", &r, &err), 0);
	cr_expect_eq(r.kind, PROBE_HTTP);
	cr_expect_eq(r.port, 8080, "the named port is the container's");
	cr_expect_str_eq(r.path, "/healthz");
	cr_expect_str_eq(r.headers[0], "X-A: b");
	cr_expect_null(r.host);
	cr_expect(r.initial_delay_s == 0 && r.period_s == 10 && r.timeout_s == 1 && r.success_threshold == 1 &&
		  r.failure_threshold == 3, "Kubernetes' defaults");
	cr_assert_eq(probe_spec_parse(c, "livenessProbe", &l, &err), 0);
	cr_expect_eq(l.kind, PROBE_TCP);
	cr_expect(l.port == 9000 && l.initial_delay_s == 3 && l.period_s == 2 && l.timeout_s == 5 && l.failure_threshold == 1);
	cr_assert_eq(probe_spec_parse(c, "startupProbe", &none, &err), 0);
	cr_expect_eq(none.kind, PROBE_NONE);
	probe_spec_done(&r);
	probe_spec_done(&l);
	probe_spec_done(&none);
}

Test(agent_probe, exec_and_bad_specs)
{
	_cleanup_json_ json_object *c = parse(
		"{\"name\":\"c\",\"livenessProbe\":{\"exec\":{\"command\":[\"cat\",\"/tmp/ok\"]}},"
		"\"readinessProbe\":{\"tcpSocket\":{\"port\":\"nosuch\"}},"
		"\"startupProbe\":{\"httpGet\":{\"port\":80,\"scheme\":\"HTTPS\"}},\"x\":{\"periodSeconds\":1}}");
	struct probe_spec s;
	char *err = NULL;

	cr_assert_eq(probe_spec_parse(c, "livenessProbe", &s, &err), 0);
	cr_expect_eq(s.kind, PROBE_EXEC);
	cr_expect(s.argv && strcmp(s.argv[0], "cat") == 0 && strcmp(s.argv[1], "/tmp/ok") == 0 && !s.argv[2]);
	probe_spec_done(&s);
	cr_expect_eq(probe_spec_parse(c, "readinessProbe", &s, &err), -EINVAL);
	cr_expect(err && strstr(err, "nosuch"), "names the missing port: %s", err);
	free(err);
	cr_expect_eq(probe_spec_parse(c, "startupProbe", &s, &err), -EINVAL);
	cr_expect(err && strstr(err, "HTTPS"), "%s", err);
	free(err);
	cr_expect_eq(probe_spec_parse(c, "x", &s, &err), -EINVAL, "a probe without a handler");
	cr_expect(err && strstr(err, "handler"), "%s", err);
	free(err);
}

Test(agent_probe, state_machine_thresholds_and_schedule)
{
	struct probe_spec s = { .kind = PROBE_TCP, .initial_delay_s = 5, .period_s = 2, .success_threshold = 2,
				.failure_threshold = 3 };
	struct probe_state st;

	probe_state_init(&st, &s, false, 1000);
	cr_expect(!st.ok, "readiness starts not ready");
	cr_expect(!probe_due(&st, 5999), "not before the initial delay");
	cr_expect(probe_due(&st, 6000));
	cr_expect(!probe_state_record(&st, &s, true, 6000), "one success of two needed");
	cr_expect(!st.ok);
	cr_expect(!probe_due(&st, 7999) && probe_due(&st, 8000), "next one a period later");
	cr_expect(probe_state_record(&st, &s, true, 8000), "the second success flips it");
	cr_expect(st.ok);
	cr_expect(!probe_state_record(&st, &s, false, 10000) && !probe_state_record(&st, &s, false, 12000));
	cr_expect(st.ok, "two failures of three: still ok");
	cr_expect(!probe_state_record(&st, &s, true, 14000), "a success resets the failures");
	cr_expect(!probe_state_record(&st, &s, false, 16000) && !probe_state_record(&st, &s, false, 18000));
	cr_expect(probe_state_record(&st, &s, false, 20000), "three in a row flip it");
	cr_expect(!st.ok);
	probe_state_init(&st, &s, true, 0);
	cr_expect(st.ok, "liveness starts alive");
}

/* --- real probes in a namespace of the test's own -------------------------------------------- */

#define SRV_PORT 8080

static pid_t server_pid = -1;
static int server_ns = -1;

/* A tiny HTTP responder for the probes: GET /ok 200, /moved 302, /slow never answers,
 * anything else 500. One connection at a time. */
static void serve(int ls)
{
	for (;;) {
		char req[1024] = "";
		const char *reply = "HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
		int c = accept(ls, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		n = read(c, req, sizeof(req) - 1);
		if (n > 0 && strncmp(req, "GET /slow ", 10) == 0) {
			sleep(5);
		} else {
			if (n > 0 && strncmp(req, "GET /ok ", 8) == 0 && strstr(req, "User-Agent: kube-probe/"))
				reply = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
			else if (n > 0 && strncmp(req, "GET /moved ", 11) == 0)
				reply = "HTTP/1.0 302 Found\r\nLocation: http://10.255.255.1/\r\nContent-Length: 0\r\n\r\n";
			if (write(c, reply, strlen(reply)) < 0)
				_exit(1);
		}
		close(c);
	}
}

static void server_child(int ready_fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SRV_PORT) };
	int ns, ls, one = 1;

	if (unshare(CLONE_NEWNET) < 0 || (ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
	    sandbox_loopback_up(ns) < 0)
		_exit(2);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 16) < 0)
		_exit(3);
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	close(ready_fd);
	serve(ls);
}

static void netns_setup(void)
{
	int p[2];
	char c;
	char path[64];

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	server_pid = fork();
	cr_assert_geq(server_pid, 0);
	if (server_pid == 0) {
		close(p[0]);
		server_child(p[1]);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "the server child failed to make its netns (needs root)");
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", server_pid);
	server_ns = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(server_ns, 0, "%s: %s", path, strerror(errno));
}

static void netns_teardown(void)
{
	if (server_ns >= 0)
		close(server_ns);
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	server_ns = server_pid = -1;
}

static int run(enum probe_kind kind, int port, const char *path, char *msg)
{
	struct probe_spec s = { .kind = kind, .port = port, .path = (char *)path, .timeout_s = 1, .period_s = 1,
				.success_threshold = 1, .failure_threshold = 1 };

	return probe_run(&s, &(struct probe_target){ .netns_fd = server_ns, .pod_ip = "" }, msg, 512);
}

Test(agent_probe, tcp_in_the_pod_netns, .init = netns_setup, .fini = netns_teardown)
{
	char msg[512];

	cr_expect_eq(run(PROBE_TCP, SRV_PORT, NULL, msg), 1, "%s", msg);
	cr_expect_eq(run(PROBE_TCP, SRV_PORT + 1, NULL, msg), 0);
	cr_expect(strstr(msg, "dial tcp 127.0.0.1:8081: connect: Connection refused"), "%s", msg);
}

Test(agent_probe, http_status_codes, .init = netns_setup, .fini = netns_teardown)
{
	char msg[512];

	cr_expect_eq(run(PROBE_HTTP, SRV_PORT, "/ok", msg), 1, "200: %s", msg);
	cr_expect_eq(run(PROBE_HTTP, SRV_PORT, "/moved", msg), 1, "3xx is a success, not followed: %s", msg);
	cr_expect_eq(run(PROBE_HTTP, SRV_PORT, "/broken", msg), 0);
	cr_expect_str_eq(msg, "HTTP probe failed with statuscode: 500");
	cr_expect_eq(run(PROBE_HTTP, SRV_PORT, "/slow", msg), 0, "past timeoutSeconds");
	cr_expect(strstr(msg, "Get \"http://127.0.0.1:8080/slow\"") && strstr(msg, "imeout"), "%s", msg);
	cr_expect_eq(run(PROBE_HTTP, SRV_PORT + 1, "/ok", msg), 0, "nobody listening");
}

Test(agent_probe, no_netns_is_an_error)
{
	struct probe_spec s = { .kind = PROBE_TCP, .port = 1, .timeout_s = 1 };
	char msg[128];

	cr_expect_lt(probe_run(&s, &(struct probe_target){ .netns_fd = -1 }, msg, sizeof(msg)), 0);
	cr_expect(strstr(msg, "network namespace"), "%s", msg);
}

/* --- the prober: runs, results, kills ------------------------------------------------------ */

static int unhealthy_count;
static char last_unhealthy[512];

static void count_event(void *ud, const struct runtime_event *ev)
{
	cr_assert_eq(ud, &unhealthy_count);
	if (strcmp(ev->reason, "Unhealthy") == 0) {
		__atomic_add_fetch(&unhealthy_count, 1, __ATOMIC_SEQ_CST);
		snprintf(last_unhealthy, sizeof(last_unhealthy), "%s %s", ev->field_path, ev->message);
	}
}

static const struct runtime_event_hooks count_hooks = { .userdata = &unhealthy_count, .emit = count_event };

/* Steps the container every 50 ms (the agent does it every second) until want() holds; bounded. */
static bool step_until(struct probe_manager *pm, const struct probe_container *c,
		       bool (*want)(struct probe_manager *, const struct probe_container *, const char *),
		       const char **ret_kill)
{
	const char *kill = NULL;

	for (int i = 0; i < 200; i++) {
		kill = probe_manager_step(pm, c);
		if (want(pm, c, kill)) {
			if (ret_kill)
				*ret_kill = kill;
			return true;
		}
		usleep(50 * 1000);
	}
	return false;
}

static bool ready_now(struct probe_manager *pm, const struct probe_container *c, const char *kill)
{
	(void)kill;
	return probe_manager_ready(pm, c->uid, c->spec, c->run);
}

static bool kill_now(struct probe_manager *pm, const struct probe_container *c, const char *kill)
{
	(void)pm;
	(void)c;
	return kill != NULL;
}

Test(agent_probe, manager_readiness_runs_and_resets, .init = netns_setup, .fini = netns_teardown)
{
	_cleanup_json_ json_object *spec = parse("{\"name\":\"web\",\"readinessProbe\":{\"tcpSocket\":{\"port\":8080},"
						 "\"periodSeconds\":1}}");
	_cleanup_json_ json_object *plain = parse("{\"name\":\"web\"}");
	struct probe_manager *pm = probe_manager_new(NULL, &count_hooks);
	struct proc_id sb;
	struct probe_container c = { .ns = "ns1", .pod_name = "p", .uid = "u1", .name = "web", .pod_ip = "",
				     .spec = spec, .run = "1:100", .sandbox = &sb };

	cr_assert_not_null(pm);
	cr_assert_eq(proc_id_get(server_pid, &sb), 0);
	cr_expect(!probe_manager_ready(pm, "u1", spec, "1:100"), "unready before the manager has seen the run");
	cr_expect(!probe_manager_step(pm, &c), "readiness never kills");
	cr_expect(step_until(pm, &c, ready_now, NULL), "ready once the tcp probe passed");
	cr_expect(!probe_manager_ready(pm, "u1", spec, "2:200"), "another run is not the ready one");
	c.run = "2:200";
	probe_manager_step(pm, &c);
	cr_expect(!probe_manager_ready(pm, "u1", spec, "2:200"), "a new run starts unready");
	cr_expect(step_until(pm, &c, ready_now, NULL), "and gets ready by its own probe");
	cr_expect(probe_manager_ready(pm, "u1", plain, "9:9"), "a container without readiness probe is ready");
	probe_manager_forget(pm, "u1");
	cr_expect(!probe_manager_ready(pm, "u1", spec, "2:200"), "forgotten");
	cr_expect_eq(unhealthy_count, 0, "%s", last_unhealthy);
	probe_manager_free(pm);
}

Test(agent_probe, manager_liveness_asks_for_a_kill, .init = netns_setup, .fini = netns_teardown)
{
	_cleanup_json_ json_object *spec = parse("{\"name\":\"c\",\"livenessProbe\":{\"tcpSocket\":{\"port\":8081},"
						 "\"periodSeconds\":1,\"failureThreshold\":2}}");
	struct probe_manager *pm = probe_manager_new(NULL, &count_hooks);
	struct proc_id sb;
	struct probe_container c = { .ns = "ns1", .pod_name = "p", .uid = "u2", .name = "c", .pod_ip = "",
				     .spec = spec, .run = "1:100", .sandbox = &sb };
	const char *kill = NULL;

	cr_assert_not_null(pm);
	cr_assert_eq(proc_id_get(server_pid, &sb), 0);
	unhealthy_count = 0;
	cr_expect(step_until(pm, &c, kill_now, &kill) && kill && strcmp(kill, "liveness") == 0,
		  "a kill after two failures in a row");
	cr_expect_geq(unhealthy_count, 2, "one Unhealthy event per failure");
	cr_expect_str_eq(last_unhealthy, "spec.containers{c} Liveness probe failed: dial tcp 127.0.0.1:8081: connect: "
					 "Connection refused");
	cr_expect(!probe_manager_step(pm, &c), "the kill is asked for once per run");
	c.run = NULL;
	cr_expect(!probe_manager_step(pm, &c), "nothing while it is not running");
	/* Forgotten with a probe possibly in flight: the worker drops its result; free waits for it. */
	c.run = "2:200";
	probe_manager_step(pm, &c);
	probe_manager_forget(pm, "u2");
	probe_manager_free(pm);
}

Test(agent_probe, manager_startup_holds_the_others_back, .init = netns_setup, .fini = netns_teardown)
{
	_cleanup_json_ json_object *failing = parse(
		"{\"name\":\"c\",\"startupProbe\":{\"tcpSocket\":{\"port\":8081},\"periodSeconds\":1,\"failureThreshold\":2},"
		"\"readinessProbe\":{\"tcpSocket\":{\"port\":8080},\"periodSeconds\":1}}");
	_cleanup_json_ json_object *passing = parse(
		"{\"name\":\"d\",\"startupProbe\":{\"tcpSocket\":{\"port\":8080},\"periodSeconds\":1},"
		"\"readinessProbe\":{\"tcpSocket\":{\"port\":8080},\"periodSeconds\":1}}");
	struct probe_manager *pm = probe_manager_new(NULL, &count_hooks);
	struct proc_id sb;
	struct probe_container c = { .ns = "ns1", .pod_name = "p", .uid = "u3", .name = "c", .pod_ip = "",
				     .spec = failing, .run = "1:100", .sandbox = &sb };
	struct probe_container d = c;
	const char *kill = NULL;

	cr_assert_not_null(pm);
	cr_assert_eq(proc_id_get(server_pid, &sb), 0);
	d.name = "d";
	d.spec = passing;
	cr_expect(step_until(pm, &c, kill_now, &kill) && kill && strcmp(kill, "startup") == 0,
		  "a failing startup probe asks for a kill");
	cr_expect_str_eq(last_unhealthy, "spec.containers{c} Startup probe failed: dial tcp 127.0.0.1:8081: connect: "
					 "Connection refused");
	cr_expect(!probe_manager_started(pm, "u3", failing, "1:100"));
	cr_expect(!probe_manager_ready(pm, "u3", failing, "1:100"),
		  "not ready: its (passing) readiness probe never ran before startup passed");
	cr_expect(!probe_manager_started(pm, "u3", passing, "1:100"), "not started before its first startup probe");
	cr_expect(step_until(pm, &d, ready_now, NULL), "startup passes, then readiness runs and passes");
	cr_expect(probe_manager_started(pm, "u3", passing, "1:100"));
	probe_manager_free(pm);
}
