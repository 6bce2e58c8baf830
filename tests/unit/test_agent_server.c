/* The agent's logs/exec endpoint over real HTTPS with libcurl: only the API server's client
 * certificate is served; logs of real runtime pods with tailLines, sinceSeconds, timestamps,
 * previous (after a real restart) and follow (a line printed after the request); exec frames
 * with stdout and the exit code; errors for unknown pods and containers. */
#include <criterion/criterion.h>

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skiff/agent_proto.h>
#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/certs.h"
#include "lib/pods_kit.h"
#include "pods/exec.h"
#include "pods/image.h"
#include "pods/mounts.h"
#include "pods/runtime.h"
#include "server/server.h"

static char *base, *root, *run, *logs, *crt, *key, *bad_crt, *bad_key;
static struct pod_runtime *rt;
static struct agent_server *srv;
static struct control_credentials creds;
static char uids[4][64];
static int n_uids;

static void write_pem(const char *path, const char *pem)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fputs(pem, f);
	fclose(f);
}

/* A client certificate named cn, signed by the test's CA, at *ret_crt / *ret_key. */
static void client_cert(const char *cn, char **ret_crt, char **ret_key)
{
	_cleanup_free_ char *c = NULL, *k = NULL;

	cr_assert_eq(certs_issue_client(base, cn, NULL, &c, &k), 0);
	cr_assert(asprintf(ret_crt, "%s/%s.crt", base, cn) > 0 && asprintf(ret_key, "%s/%s.key", base, cn) > 0);
	write_pem(*ret_crt, c);
	write_pem(*ret_key, k);
}

static void setup(void)
{
	const char *hosts[] = { "127.0.0.1" };
	char *src, *pki;

	base = pods_kit_tempdir("agentsrv");
	cr_assert(asprintf(&root, "%s/root", base) > 0 && asprintf(&run, "%s/run", base) > 0 &&
		  asprintf(&logs, "%s/logs", base) > 0 && asprintf(&src, "%s/src", base) > 0 &&
		  asprintf(&pki, "%s/pki", base) > 0);
	cr_assert_eq(certs_ensure(base, hosts, 1, "https://127.0.0.1:1", &creds), 0);
	client_cert(AGENT_PROTO_CLIENT_CN, &crt, &key);
	client_cert("someone-else", &bad_crt, &bad_key);
	cr_assert_eq(mkdir(src, 0755), 0);
	pods_kit_busybox_rootfs(src);
	cr_assert_eq(image_import(root, "busybox", src, NULL), 0);
	pods_kit_remove(src);
	free(src);
	rt = pod_runtime_new(&(struct runtime_config){
		.root_dir = root, .run_dir = run, .log_dir = logs, .pause_path = pods_kit_pause(), .node_name = "n1" });
	cr_assert(rt);
	srv = agent_server_start(&(struct agent_server_config){ .address = "127.0.0.1", .port = 0, .cert_dir = pki,
								.node_name = "n1", .client_ca_pem = creds.ca_pem, .rt = rt });
	cr_assert(srv, "agent_server_start: %s", strerror(errno));
	free(pki);
	n_uids = 0;
}

static void teardown(void)
{
	agent_server_stop(srv);
	srv = NULL;
	for (int i = 0; rt && i < n_uids; i++)
		cr_expect_eq(pod_runtime_stop(rt, uids[i], 0), 0);
	pod_runtime_free(rt);
	rt = NULL;
	control_credentials_clear(&creds);
	cr_expect(!fs_has_mounts_below(base), "mounts left below %s", base);
	pods_kit_remove(base);
	free(base);
	free(root);
	free(run);
	free(logs);
	free(crt);
	free(key);
	free(bad_crt);
	free(bad_key);
}

TestSuite(agent_server, .init = setup, .fini = teardown, .timeout = 120);

static json_object *start_pod(const char *name, const char *policy, const char *containers)
{
	char *uid = uids[n_uids++], json[4096];
	json_object *pod;

	snprintf(uid, sizeof(uids[0]), "srv-%d-%d", getpid(), n_uids);
	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns1\",\"uid\":\"%s\"},"
		 "\"spec\":{\"restartPolicy\":\"%s\",\"containers\":%s}}",
		 name, uid, policy, containers);
	pod = json_tokener_parse(json);
	cr_assert(pod, "%s", json);
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	return pod;
}

/* Steps the pod (restarts included) until its first container's status matches. */
static void wait_container(json_object *pod, const char *key_path, const char *want)
{
	json_object *st = NULL;
	const char *uid = json_get_string(pod, "metadata.uid");

	for (int i = 0; i < 600; i++) {
		json_object *cs;

		json_object_put(st);
		cr_assert_eq(pod_runtime_start(rt, pod), 0);
		cr_assert_eq(pod_runtime_status(rt, uid, &st), 0);
		cs = json_object_array_get_idx(json_get_path(st, "containerStatuses"), 0);
		if (json_get_path(cs, key_path) && strcmp(json_object_get_string(json_get_path(cs, key_path)), want) == 0) {
			json_object_put(st);
			return;
		}
		usleep(50 * 1000);
	}
	cr_assert_fail("%s never became %s: %s", key_path, want, json_object_to_json_string(st));
}

struct answer {
	long code;
	char *body;
	size_t len;
	pthread_mutex_t lock;
};

static size_t on_data(char *d, size_t s, size_t n, void *ud)
{
	struct answer *a = ud;

	pthread_mutex_lock(&a->lock);
	a->body = realloc(a->body, a->len + s * n + 1);
	memcpy(a->body + a->len, d, s * n);
	a->len += s * n;
	a->body[a->len] = '\0';
	pthread_mutex_unlock(&a->lock);
	return s * n;
}

/* GET (or POST with body) path on the endpoint with the given client certificate. No asserts:
 * it also runs on a thread of its own. */
static CURLcode request_raw(const char *path, const char *post, const char *cert, const char *ckey, struct answer *a)
{
	CURLcode r;
	char url[1024];
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", agent_server_port(srv), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	if (cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, ckey);
	}
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	r = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
	curl_easy_cleanup(c);
	return r;
}

static void request(const char *path, const char *post, const char *cert, const char *ckey, struct answer *a)
{
	CURLcode r = request_raw(path, post, cert, ckey, a);

	cr_assert_eq(r, CURLE_OK, "%s: %s", path, curl_easy_strerror(r));
}

static char *get(const char *path, long want_code)
{
	struct answer a = { .lock = PTHREAD_MUTEX_INITIALIZER };

	request(path, NULL, crt, key, &a);
	cr_assert_eq(a.code, want_code, "%s: %ld %s", path, a.code, a.body ? a.body : "");
	return a.body ? a.body : strdup("");
}

Test(agent_server, only_the_api_servers_certificate)
{
	struct answer none = { .lock = PTHREAD_MUTEX_INITIALIZER }, other = { .lock = PTHREAD_MUTEX_INITIALIZER };
	_cleanup_free_ char *ok = NULL;

	request("/containerLogs/ns1/p/c?uid=x", NULL, NULL, NULL, &none);
	cr_expect_eq(none.code, 401, "no client certificate: %ld", none.code);
	request("/containerLogs/ns1/p/c?uid=x", NULL, bad_crt, bad_key, &other);
	cr_expect_eq(other.code, 401, "another name: %ld", other.code);
	ok = get("/containerLogs/ns1/p/c?uid=x", 404);
	cr_expect(strstr(ok, "\"kind\":\"Status\""), "%s", ok);
	free(none.body);
	free(other.body);
}

/* A finished pod whose log the test rewrites: lines an hour old and recent ones. */
Test(agent_server, logs_tail_since_timestamps)
{
	_cleanup_json_ json_object *pod = start_pod("lp", "Never",
		"[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"true\"]},"
		"{\"name\":\"d\",\"image\":\"busybox\",\"command\":[\"true\"]}]");
	_cleanup_free_ char *path = NULL, *all = NULL, *tail = NULL, *since = NULL, *ts = NULL, *bad = NULL, *limited = NULL;
	char old[32], now[32], url[256];
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;

	wait_container(pod, "state.terminated.reason", "Completed");
	path = pod_runtime_log_path(rt, pod, "c", 0);
	t -= 3600;
	strftime(old, sizeof(old), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	t += 3600;
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	f = fopen(path, "w");
	cr_assert(f, "%s", path);
	fprintf(f, "%s.100000000Z stdout F old-1\n%s.200000000Z stderr F old-2\n", old, old);
	fprintf(f, "%s.300000000Z stdout P new-\n%s.400000000Z stdout F 1\n%s.500000000Z stdout F new-2\n", now, now,
		now);
	fclose(f);
	snprintf(url, sizeof(url), "/containerLogs/ns1/lp/c?uid=%s", uids[0]);
	all = get(url, 200);
	cr_expect_str_eq(all, "old-1\nold-2\nnew-1\nnew-2\n");
	snprintf(url, sizeof(url), "/containerLogs/ns1/lp/c?uid=%s&tailLines=2", uids[0]);
	tail = get(url, 200);
	cr_expect_str_eq(tail, "new-1\nnew-2\n");
	snprintf(url, sizeof(url), "/containerLogs/ns1/lp/c?uid=%s&sinceSeconds=600", uids[0]);
	since = get(url, 200);
	cr_expect_str_eq(since, "new-1\nnew-2\n");
	snprintf(url, sizeof(url), "/containerLogs/ns1/lp/c?uid=%s&timestamps=true&tailLines=1", uids[0]);
	ts = get(url, 200);
	snprintf(url, sizeof(url), "%s.500000000Z new-2\n", now);
	cr_expect_str_eq(ts, url);
	snprintf(url, sizeof(url), "/containerLogs/ns1/lp/c?uid=%s&limitBytes=8", uids[0]);
	limited = get(url, 200);
	cr_expect_str_eq(limited, "old-1\nol");
	snprintf(url, sizeof(url), "/containerLogs/ns1/lp/nope?uid=%s", uids[0]);
	bad = get(url, 400);
	cr_expect(strstr(bad, "container nope is not valid for pod lp"), "%s", bad);
}

Test(agent_server, logs_previous_after_restart)
{
	_cleanup_json_ json_object *pod = start_pod("rp", "Always",
		"[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"echo run; exit 1\"]}]");
	_cleanup_free_ char *prev = NULL, *none = NULL;
	char url[256];

	snprintf(url, sizeof(url), "/containerLogs/ns1/rp/c?uid=%s&previous=true", uids[0]);
	none = get(url, 400);
	cr_expect(strstr(none, "previous terminated container \\\"c\\\" in pod \\\"rp\\\" not found"), "%s", none);
	wait_container(pod, "restartCount", "1");
	prev = get(url, 200);
	cr_expect_str_eq(prev, "run\n");
}

struct follow {
	char url[256];
	struct answer a;
	CURLcode result;
	bool done;
};

static void *follow_thread(void *ud)
{
	struct follow *fl = ud;

	fl->result = request_raw(fl->url, NULL, crt, key, &fl->a);
	__atomic_store_n(&fl->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool has(struct answer *a, const char *s)
{
	bool r;

	pthread_mutex_lock(&a->lock);
	r = a->body && strstr(a->body, s);
	pthread_mutex_unlock(&a->lock);
	return r;
}

Test(agent_server, logs_follow_streams_until_exit)
{
	_cleanup_json_ json_object *pod = start_pod("fp", "Never",
		"[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
		"\"echo start; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo later\"]}]");
	char *const touch[] = { "touch", "/tmp/go", NULL };
	struct follow fl = { .a = { .lock = PTHREAD_MUTEX_INITIALIZER } };
	pthread_t th;
	int code = -1, i;

	wait_container(pod, "started", "true");
	snprintf(fl.url, sizeof(fl.url), "/containerLogs/ns1/fp/c?uid=%s&follow=true", uids[0]);
	cr_assert_eq(pthread_create(&th, NULL, follow_thread, &fl), 0);
	for (i = 0; i < 200 && !has(&fl.a, "start\n"); i++)
		usleep(50 * 1000);
	cr_assert(has(&fl.a, "start\n"), "no start line");
	cr_expect(!has(&fl.a, "later"));
	cr_assert_eq(pod_exec_run(rt, uids[0], "c", touch, -1, -1, -1, 10000, &code), 0);
	cr_expect_eq(code, 0);
	/* The container exits after "later": the stream ends by itself once the runtime has reaped
	 * it (the agent's sync does that every second; here this loop). */
	for (i = 0; i < 400 && !has(&fl.a, "later\n"); i++)
		usleep(50 * 1000);
	for (i = 0; i < 400 && !__atomic_load_n(&fl.done, __ATOMIC_ACQUIRE); i++) {
		json_object *st = NULL;

		if (pod_runtime_status(rt, uids[0], &st) == 0)
			json_object_put(st);
		usleep(50 * 1000);
	}
	pthread_join(th, NULL);
	cr_expect_eq(fl.result, CURLE_OK, "%s", curl_easy_strerror(fl.result));
	cr_expect_eq(fl.a.code, 200);
	cr_expect_str_eq(fl.a.body, "start\nlater\n");
	free(fl.a.body);
}

/* The frames of an exec answer as "channel:payload|" pieces. */
static char *frames(const struct answer *a)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	for (size_t off = 0; off + EXEC_FRAME_HEADER <= a->len;) {
		const uint8_t *p = (const uint8_t *)a->body + off;
		uint32_t len = exec_frame_len(p);

		cr_assert(off + EXEC_FRAME_HEADER + len <= a->len, "truncated frame");
		fprintf(f, "%d:%.*s|", p[0], (int)len, (const char *)p + EXEC_FRAME_HEADER);
		off += EXEC_FRAME_HEADER + len;
	}
	fclose(f);
	return out;
}

Test(agent_server, exec_frames_and_exit_code)
{
	_cleanup_json_ json_object *pod = start_pod("ep", "Never",
		"[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1000\"]}]");
	struct answer a = { .lock = PTHREAD_MUTEX_INITIALIZER }, in = { .lock = PTHREAD_MUTEX_INITIALIZER };
	_cleanup_free_ char *got = NULL, *got_in = NULL;
	char url[512];

	wait_container(pod, "started", "true");
	snprintf(url, sizeof(url), "/exec/ns1/ep/c?uid=%s&command=sh&command=-c&command=echo%%20hi%%3B%%20exit%%203",
		 uids[0]);
	request(url, "", crt, key, &a);
	cr_assert_eq(a.code, 200, "%s", a.body ? a.body : "");
	got = frames(&a);
	cr_expect_str_eq(got, "1:hi\n|3:{\"metadata\":{},\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\","
			      "\"message\":\"command terminated with non-zero exit code: exit status 3\","
			      "\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}|");
	snprintf(url, sizeof(url), "/exec/ns1/ep/c?uid=%s&command=cat", uids[0]);
	request(url, "from stdin", crt, key, &in);
	got_in = frames(&in);
	cr_expect_str_eq(got_in, "1:from stdin|3:{\"metadata\":{},\"status\":\"Success\"}|");
	free(a.body);
	free(in.body);
}
