/* The agent's API side against a real in-process skiff-control HTTPS server (registry + SQLite
 * store over loopback): the client's verbs, TLS and token checks, the list+watch loop (field
 * selector, re-list after a server restart), registration and Lease heartbeats, and the pod
 * reconciler driving a fake runtime through start, status and graceful deletion. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/auth.h"
#include "api/certs.h"
#include "api/client.h"
#include "api/kubeconfig.h"
#include "api/server.h"
#include "api/watch.h"
#include "lib/registry_kit.h"
#include "lib/watch_kit.h"
#include "node/heartbeat.h"
#include "pods/cgroup.h"
#include "node/object.h"
#include "node/reconcile.h"

static char certdir[64];
static struct control_credentials creds;
static struct auth *auth;
static struct server *srv;
static unsigned port;
static char url[64];
static struct api_client *api;

static void start_server(void)
{
	srv = server_start(&(struct server_config){ .host = "127.0.0.1", .port = port, .cert_pem = creds.server_cert_pem,
						    .key_pem = creds.server_key_pem, .auth = auth, .reg = kit_reg,
						    .connection_limit = 64, .idle_timeout_s = 30,
						    .max_body_bytes = 1 << 20, .thread_stack_bytes = 512 * 1024 });
	cr_assert_not_null(srv, "server_start: %s", strerror(errno));
	server_set_ready(srv, true);
	port = server_port(srv);
}

static void setup(void)
{
	const char *hosts[] = { "127.0.0.1", "localhost" };
	struct kubeconfig k = { 0 };
	char *yaml = NULL, *err = NULL;

	kit_setup("agentapi", NULL);
	snprintf(certdir, sizeof(certdir), "/tmp/skiff-test-agentcerts-XXXXXX");
	cr_assert_not_null(mkdtemp(certdir));
	cr_assert_eq(certs_ensure(certdir, hosts, 2, "https://127.0.0.1:1", &creds), 0);
	auth = auth_new(creds.admin_token);
	cr_assert_not_null(auth);
	start_server();
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", port);
	/* Through a real kubeconfig, as the agent is configured. */
	cr_assert_eq(kubeconfig_render(url, creds.ca_pem, "admin", creds.admin_token, &yaml), 0);
	cr_assert_eq(kubeconfig_parse(yaml, strlen(yaml), NULL, &k, &err), 0, "%s", err);
	api = api_client_new(k.server, k.ca_pem, k.token);
	cr_assert_not_null(api);
	kubeconfig_done(&k);
	free(yaml);
}

static void teardown(void)
{
	api_client_free(api);
	server_stop(srv);
	auth_free(auth);
	control_credentials_clear(&creds);
	kit_teardown();
	kit_rm_tree(certdir);
}

TestSuite(agent_api, .init = setup, .fini = teardown, .timeout = 60);

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

#define POD_ON(name, node)                                                                                  \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"nodeName\":\"" node \
	"\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"

static int create_pod(const char *body)
{
	json_object *o = parse(body), *resp = NULL;
	int st = api_create(api, "/api/v1/namespaces/default/pods", o, &resp);

	json_object_put(o);
	json_object_put(resp);
	return st;
}

Test(agent_api, verbs_round_trip)
{
	json_object *resp = NULL, *p;
	int st;

	st = api_get(api, "/api/v1/namespaces/default", &resp);
	cr_assert_eq(st, 200);
	cr_assert_str_eq(json_get_string(resp, "kind"), "Namespace");
	json_object_put(resp);

	cr_assert_eq(create_pod(POD_ON("web", "n1")), 201);
	cr_assert_eq(create_pod(POD_ON("web", "n1")), 409, "AlreadyExists is a status, not an errno");

	p = parse("{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
	st = api_patch(api, "/api/v1/namespaces/default/pods/web", API_PATCH_MERGE, p, &resp);
	json_object_put(p);
	cr_assert_eq(st, 200, "%s", api_error_message(resp));
	cr_assert_str_eq(json_get_string(resp, "metadata.labels.app"), "web");
	json_object_put(resp);

	p = parse("{\"metadata\":{\"labels\":{\"tier\":\"front\"}}}");
	st = api_patch(api, "/api/v1/namespaces/default/pods/web", API_PATCH_STRATEGIC, p, &resp);
	json_object_put(p);
	cr_assert_eq(st, 200, "%s", api_error_message(resp));
	cr_assert_str_eq(json_get_string(resp, "metadata.labels.app"), "web", "strategic merge keeps other labels");

	/* PUT with the resourceVersion just read. */
	json_object_object_add(json_get_path(resp, "metadata.labels"), "v", json_object_new_string("2"));
	p = resp;
	resp = NULL;
	st = api_update(api, "/api/v1/namespaces/default/pods/web", p, &resp);
	json_object_put(p);
	cr_assert_eq(st, 200, "%s", api_error_message(resp));
	json_object_put(resp);

	p = parse("{\"status\":{\"phase\":\"Running\",\"hostIP\":\"10.0.0.9\"}}");
	st = api_patch(api, "/api/v1/namespaces/default/pods/web/status", API_PATCH_MERGE, p, &resp);
	json_object_put(p);
	cr_assert_eq(st, 200, "%s", api_error_message(resp));
	cr_assert_str_eq(json_get_string(resp, "status.phase"), "Running");
	json_object_put(resp);

	st = api_get(api, "/api/v1/namespaces/default/pods/nope", &resp);
	cr_assert_eq(st, 404);
	cr_assert_not_null(strstr(api_error_message(resp), "not found"), "%s", api_error_message(resp));
	json_object_put(resp);

	p = parse("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0}");
	st = api_delete(api, "/api/v1/namespaces/default/pods/web", p, &resp);
	json_object_put(p);
	json_object_put(resp);
	cr_assert_eq(st, 200);
	cr_assert_eq(api_get(api, "/api/v1/namespaces/default/pods/web", NULL), 404);
}

Test(agent_api, wrong_token_and_untrusted_server)
{
	struct api_client *bad = api_client_new(url, creds.ca_pem, "not-the-token");
	struct api_client *notrust = api_client_new(url, NULL, creds.admin_token);

	cr_assert_not_null(bad);
	cr_assert_not_null(notrust);
	cr_assert_eq(api_get(bad, "/api/v1/nodes", NULL), 401);
	cr_assert_eq(api_get(notrust, "/api/v1/nodes", NULL), -EPROTO, "our CA is in no system store");
	api_client_free(bad);
	api_client_free(notrust);
	cr_assert_null(api_client_new("", NULL, NULL));
	cr_assert_eq(errno, EINVAL);
}

/* ---- watch ---- */

static atomic_bool stop;
static struct api_watch_stats stats;

struct watch_args {
	const struct api_watch_ops *ops;
	void *ud;
};

static void *watcher(void *arg)
{
	struct watch_args *a = arg;

	api_watch_run(api, "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn1", a->ops, a->ud, &stop, &stats);
	return NULL;
}

Test(agent_api, watch_sees_only_this_nodes_pods_and_relists_after_a_restart)
{
	struct watch_args args = { &watch_kit_recording, NULL };
	pthread_t t;

	cr_assert_eq(create_pod(POD_ON("before", "n1")), 201);
	atomic_store(&stop, false);
	cr_assert_eq(pthread_create(&t, NULL, watcher, &args), 0);
	KIT_WAIT_UNTIL(watch_kit_logged("relist:1 "), "the first list with the one pod on n1");
	KIT_WAIT_UNTIL(atomic_load(&stats.streams) >= 1 || stats.streams >= 1, "a watch stream");
	cr_assert_eq(create_pod(POD_ON("elsewhere", "n2")), 201);
	cr_assert_eq(create_pod(POD_ON("mine", "n1")), 201);
	KIT_WAIT_UNTIL(watch_kit_logged("ADDED:mine "), "the ADDED event of a new pod on n1");
	cr_assert_not(watch_kit_logged("elsewhere"), "a pod of another node came through: %s", watch_kit_log());

	/* The server goes away and comes back: the stream breaks, the loop re-lists. */
	server_stop(srv);
	srv = NULL;
	cr_assert_eq(api_delete(api, "/api/v1/namespaces/default/pods/mine", NULL, NULL), -ECONNREFUSED);
	start_server();
	KIT_WAIT_UNTIL(watch_kit_relists() >= 2, "a re-list after the restart");
	KIT_WAIT_UNTIL(watch_kit_logged("relist:2 "), "the re-list holds both n1 pods");
	cr_assert_eq(create_pod(POD_ON("after", "n1")), 201);
	KIT_WAIT_UNTIL(watch_kit_logged("ADDED:after "), "events flow again after the re-list");
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	cr_assert_geq(stats.streams, 2);
}

Test(agent_api, watch_line_parsing)
{
	json_object *ev = NULL, *obj = NULL;
	const char *type = NULL;
	const char ok[] = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}";
	const char gone[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}";

	cr_assert_eq(api_watch_parse_line(ok, strlen(ok), &ev, &type, &obj), 0);
	cr_assert_str_eq(type, "ADDED");
	cr_assert_str_eq(json_get_string(obj, "metadata.name"), "x");
	json_object_put(ev);
	cr_assert_eq(api_watch_parse_line(gone, strlen(gone), &ev, &type, &obj), 0);
	cr_assert_str_eq(type, "ERROR");
	cr_assert_eq(json_object_get_int(json_get_path(obj, "code")), 410);
	json_object_put(ev);
	cr_assert_eq(api_watch_parse_line("{\"type\":\"ADDED\"}", 16, &ev, &type, &obj), -EINVAL);
	cr_assert_eq(api_watch_parse_line("not json", 8, &ev, &type, &obj), -EINVAL);
}

/* ---- registration and heartbeats ---- */

static void hb_init(struct heartbeat *hb, const char *parent, const char *pause)
{
	*hb = (struct heartbeat){ .api = api, .cgroup_parent = parent, .pause_path = pause };
	hb->facts = (struct node_facts){ .name = strdup("n1"), .cpus = 2, .mem_bytes = 4096ULL << 20, .max_pods = 20,
					 .gpus = 1, .internal_ip = strdup("10.0.0.5"), .hostname = strdup("h1"),
					 .kernel_version = strdup("6.18"), .os_image = strdup("Test OS"),
					 .architecture = strdup("amd64") };
}

/* The health check made <cgroup2 mount>/<parent>: this test's kernel object to remove. */
static void remove_cgroup(const char *parent)
{
	char *mnt = NULL, path[512];

	cr_assert_eq(cgroup_find_mount(&mnt), 0);
	snprintf(path, sizeof(path), "%s/%s", mnt, parent);
	free(mnt);
	cr_assert_eq(rmdir(path), 0, "rmdir %s: %s", path, strerror(errno));
}

static const char *node_cond(json_object *node, const char *type)
{
	return node_condition_status(json_get_path(node, "status"), type);
}

Test(agent_api, register_heartbeat_and_ready_again_after_unknown)
{
	char parent[64];
	struct heartbeat hb;
	json_object *node = NULL, *lease = NULL, *p;
	char *renew1;

	snprintf(parent, sizeof(parent), "skiff-test-hb-%d", (int)getpid());
	hb_init(&hb, parent, "/bin/sh");
	cr_assert_eq(node_taints_parse("e2e=agent:NoSchedule", &hb.taints), 0);
	cr_assert_eq(heartbeat_register(&hb), 0);
	cr_assert_eq(api_get(api, "/api/v1/nodes/n1", &node), 200);
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(json_get_path(node, "spec.taints"), 0), "key"), "e2e");
	cr_assert_str_eq(json_get_string(node, "status.capacity.pods"), "20");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(json_get_path(node, "status.capacity"),
								       "nvidia.com/gpu")),
			 "1");
	cr_assert_str_eq(json_get_string(node, "status.nodeInfo.kubeletVersion"), "v1.32.0-skiff");
	cr_assert_str_eq(node_cond(node, "Ready"), "True");
	cr_assert_not_null(node_cond(node, "CgroupControllersMissing"));
	json_object_put(node);

	cr_assert_eq(heartbeat_tick(&hb), 0);
	cr_assert_eq(hb.lease_renewals, 1);
	cr_assert_eq(api_get(api, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", &lease), 200);
	cr_assert_str_eq(json_get_string(lease, "spec.holderIdentity"), "n1");
	cr_assert_eq(json_object_get_int(json_get_path(lease, "spec.leaseDurationSeconds")), 40);
	cr_assert_not_null(json_get_path(lease, "metadata.ownerReferences"), "owned by its Node");
	renew1 = strdup(json_get_string(lease, "spec.renewTime"));
	cr_assert_eq(strlen(renew1), 27, "MicroTime: %s", renew1);
	json_object_put(lease);
	unsigned posts = hb.status_posts;

	cr_assert_eq(heartbeat_tick(&hb), 0);
	cr_assert_eq(hb.status_posts, posts, "an unchanged status is not posted again");
	cr_assert_eq(api_get(api, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", &lease), 200);
	cr_assert_str_neq(json_get_string(lease, "spec.renewTime"), renew1, "renewTime moved");
	json_object_put(lease);
	free(renew1);

	/* What the node lifecycle controller does on a missed heartbeat. */
	p = parse("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\",\"reason\":\"NodeStatusUnknown\"}]}}");
	cr_assert_eq(api_patch(api, "/api/v1/nodes/n1/status", API_PATCH_MERGE, p, NULL), 200);
	json_object_put(p);
	cr_assert_eq(heartbeat_tick(&hb), 0);
	cr_assert_eq(api_get(api, "/api/v1/nodes/n1", &node), 200);
	cr_assert_str_eq(node_cond(node, "Ready"), "True", "Ready posted again");
	json_object_put(node);

	/* A deleted Node is registered again on the next tick. */
	cr_assert_eq(api_delete(api, "/api/v1/nodes/n1", NULL, NULL), 200);
	cr_assert_eq(heartbeat_tick(&hb), 0);
	cr_assert_eq(api_get(api, "/api/v1/nodes/n1", NULL), 200);

	/* Registering over an existing Node updates it instead of failing. */
	hb.facts.max_pods = 30;
	cr_assert_eq(heartbeat_register(&hb), 0);
	cr_assert_eq(api_get(api, "/api/v1/nodes/n1", &node), 200);
	cr_assert_str_eq(json_get_string(node, "status.capacity.pods"), "30");
	json_object_put(node);
	heartbeat_done(&hb);
	json_object_put(hb.taints);
	remove_cgroup(parent);
}

/* ---- the reconciler over a fake runtime ---- */

struct fake_rt {
	pthread_mutex_t lock;
	char started[64], stopped[64], stop_log[256];
	int starts, stops, grace;
	atomic_bool hold; /* stop waits while set: a runtime in the middle of a grace period */
};

static int fake_start(void *rt, json_object *pod)
{
	struct fake_rt *f = rt;

	pthread_mutex_lock(&f->lock);
	snprintf(f->started, sizeof(f->started), "%s", json_get_string(pod, "metadata.uid"));
	f->starts++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_stop(void *rt, const char *uid, int grace)
{
	struct fake_rt *f = rt;

	pthread_mutex_lock(&f->lock);
	snprintf(f->stopped, sizeof(f->stopped), "%s", uid);
	snprintf(f->stop_log + strlen(f->stop_log), sizeof(f->stop_log) - strlen(f->stop_log), "%s ", uid);
	f->stops++;
	f->grace = grace;
	pthread_mutex_unlock(&f->lock);
	while (atomic_load(&f->hold))
		kit_sleep_ms(10);
	return 0;
}

static int fake_status(void *rt, const char *uid, json_object **ret)
{
	struct fake_rt *f = rt;
	bool known;

	pthread_mutex_lock(&f->lock);
	known = strcmp(f->started, uid) == 0;
	pthread_mutex_unlock(&f->lock);
	if (!known)
		return -ENOENT;
	*ret = parse("{\"phase\":\"Running\",\"podIP\":\"10.244.0.9\",\"startTime\":\"2026-11-28T10:00:00Z\","
		     "\"containerStatuses\":[{\"name\":\"c\",\"image\":\"busybox\",\"ready\":true,"
		     "\"restartCount\":0,\"started\":true,\"state\":{\"running\":{\"startedAt\":"
		     "\"2026-11-28T10:00:01Z\"}}}]}");
	return 0;
}

/* The runtime still runs "ghost" from before a restart; the server never heard of it. */
static int fake_list(void *rt, char ***ret)
{
	char **u = calloc(2, sizeof(*u));

	(void)rt;
	u[0] = strdup("ghost");
	*ret = u;
	return 0;
}

static void fake_uids_free(char **uids)
{
	for (char **p = uids; p && *p; p++)
		free(*p);
	free(uids);
}

static int fake_count(struct fake_rt *f, int *field)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = *field;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static bool started_is(struct fake_rt *f, const char *uid)
{
	bool r;

	pthread_mutex_lock(&f->lock);
	r = strcmp(f->started, uid) == 0;
	pthread_mutex_unlock(&f->lock);
	return r;
}

static char *pod_field(const char *name, const char *path)
{
	char p[128];
	json_object *o = NULL;
	char *v = NULL;

	snprintf(p, sizeof(p), "/api/v1/namespaces/default/pods/%s", name);
	if (api_get(api, p, &o) == 200 && json_get_string(o, path))
		v = strdup(json_get_string(o, path));
	json_object_put(o);
	return v;
}

static bool pod_field_is(const char *name, const char *path, const char *want)
{
	char *v = pod_field(name, path);
	bool r = v && strcmp(v, want) == 0;

	free(v);
	return r;
}

Test(agent_api, reconciler_starts_reports_and_finishes_deletion)
{
	struct fake_rt f = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct reconcile_runtime rt = { .rt = &f, .start = fake_start, .stop = fake_stop, .status = fake_status,
					.list = fake_list, .uids_free = fake_uids_free };
	struct reconciler *rec = reconciler_new(api, "n1", "10.0.0.5", &rt, NULL, NULL);
	struct watch_args args = { &reconciler_watch_ops, rec };
	json_object *del;
	char *uid, *uid2 = NULL;
	pthread_t t;

	cr_assert_not_null(rec);
	cr_assert_eq(create_pod(POD_ON("other", "n2")), 201);
	atomic_store(&stop, false);
	cr_assert_eq(pthread_create(&t, NULL, watcher, &args), 0);
	cr_assert_eq(create_pod(
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"app\"},\"spec\":{\"nodeName\":"
			     "\"n1\",\"terminationGracePeriodSeconds\":12,\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"),
		     201);
	KIT_WAIT_UNTIL(fake_count(&f, &f.stops) >= 1, "the first list stops the runtime's orphan");
	cr_assert_str_eq(f.stop_log, "ghost ");
	uid = pod_field("app", "metadata.uid");
	cr_assert_not_null(uid);
	KIT_WAIT_UNTIL(fake_count(&f, &f.starts) >= 1, "the runtime was asked to start the pod");
	cr_assert_str_eq(f.started, uid);
	KIT_WAIT_UNTIL(pod_field_is("app", "status.phase", "Running"), "status posted from the runtime's view");
	cr_assert(pod_field_is("app", "status.podIP", "10.244.0.9"));
	cr_assert(pod_field_is("app", "status.hostIP", "10.0.0.5"));
	cr_assert_eq(reconciler_count(rec), 1, "the n2 pod is not ours");
	int starts = fake_count(&f, &f.starts);

	cr_assert_eq(reconciler_sync(rec), 0);
	cr_assert_eq(fake_count(&f, &f.starts), starts + 1, "every sync is one more runtime step");

	/* kubectl delete: the server marks it (it runs on a node), the agent stops it and confirms. */
	atomic_store(&f.hold, true);
	del = parse("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\"}");
	cr_assert_eq(api_delete(api, "/api/v1/namespaces/default/pods/app", del, NULL), 200);
	json_object_put(del);
	KIT_WAIT_UNTIL(fake_count(&f, &f.stops) >= 2, "the runtime was asked to stop the pod");
	cr_assert_str_eq(f.stopped, uid);
	cr_assert_eq(f.grace, 12, "the pod's grace period");
	/* While the runtime stops it, the reconciler still answers (a deadlock would hit the
	 * suite's timeout) and the pod is not deleted before the runtime is done. */
	cr_assert_eq(reconciler_sync(rec), 0);
	cr_assert_eq(reconciler_count(rec), 1);
	cr_assert_eq(api_get(api, "/api/v1/namespaces/default/pods/app", NULL), 200);
	/* A terminating pod does not hold up the next one: its stop has a thread of its own. */
	cr_assert_eq(create_pod("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"app2\"},\"spec\":{"
				"\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"),
		     201);
	uid2 = pod_field("app2", "metadata.uid");
	cr_assert_not_null(uid2);
	KIT_WAIT_UNTIL(started_is(&f, uid2), "a new pod starts while another one is still stopping");
	atomic_store(&f.hold, false);
	KIT_WAIT_UNTIL(api_get(api, "/api/v1/namespaces/default/pods/app", NULL) == 404, "deletion confirmed");
	KIT_WAIT_UNTIL(reconciler_count(rec) == 1, "the pod forgotten");
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	reconciler_free(rec);
	free(uid);
	free(uid2);
}

Test(agent_api, reconciler_without_runtime_reports_pending)
{
	struct reconciler *rec = reconciler_new(api, "n1", "10.0.0.5", NULL, "RuntimeUnavailable", "none yet");
	struct watch_args args = { &reconciler_watch_ops, rec };
	pthread_t t;

	atomic_store(&stop, false);
	cr_assert_eq(pthread_create(&t, NULL, watcher, &args), 0);
	cr_assert_eq(create_pod(POD_ON("waits", "n1")), 201);
	KIT_WAIT_UNTIL(pod_field_is("waits", "status.hostIP", "10.0.0.5"), "a status posted");
	cr_assert(pod_field_is("waits", "status.phase", "Pending"));
	char *reason = NULL;
	json_object *o = NULL;

	cr_assert_eq(api_get(api, "/api/v1/namespaces/default/pods/waits", &o), 200);
	reason = strdup(json_get_string(json_object_array_get_idx(json_get_path(o, "status.containerStatuses"), 0),
					"state.waiting.reason") ?: "");
	json_object_put(o);
	cr_assert_str_eq(reason, "RuntimeUnavailable");
	free(reason);
	/* Deleting it needs no runtime: the agent confirms at once. */
	cr_assert_eq(api_delete(api, "/api/v1/namespaces/default/pods/waits", NULL, NULL), 200);
	KIT_WAIT_UNTIL(api_get(api, "/api/v1/namespaces/default/pods/waits", NULL) == 404, "deletion confirmed");
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	reconciler_free(rec);
}

static int failing_start(void *rt, json_object *pod)
{
	(void)rt, (void)pod;
	return -ENOEXEC;
}

Test(agent_api, reconciler_reports_a_failed_start)
{
	struct fake_rt f = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct reconcile_runtime rt = { .rt = &f, .start = failing_start, .stop = fake_stop, .status = fake_status };
	struct reconciler *rec = reconciler_new(api, "n1", "10.0.0.5", &rt, "ContainerCreating", NULL);
	struct watch_args args = { &reconciler_watch_ops, rec };
	const char *path = "status.containerStatuses";
	json_object *o = NULL;
	char *reason = NULL, *msg = NULL;
	pthread_t t;

	atomic_store(&stop, false);
	cr_assert_eq(pthread_create(&t, NULL, watcher, &args), 0);
	cr_assert_eq(create_pod(POD_ON("broken", "n1")), 201);
	KIT_WAIT_UNTIL(pod_field_is("broken", "status.hostIP", "10.0.0.5"), "a status posted");
	cr_assert_eq(api_get(api, "/api/v1/namespaces/default/pods/broken", &o), 200);
	reason = strdup(json_get_string(json_object_array_get_idx(json_get_path(o, path), 0), "state.waiting.reason") ?: "");
	msg = strdup(json_get_string(json_object_array_get_idx(json_get_path(o, path), 0), "state.waiting.message") ?: "");
	json_object_put(o);
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	reconciler_free(rec);
	cr_assert_str_eq(reason, "CreatePodSandboxError");
	cr_assert_not_null(strstr(msg, strerror(ENOEXEC)), "%s", msg);
	free(reason);
	free(msg);
}
