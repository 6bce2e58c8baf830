/* Probes, events and devices through the real pod runtime's hooks: busybox containers in real
 * sandboxes, an httpd readiness probe that passes and one that fails (Unhealthy, ready false),
 * a liveness probe that fails and gets its container killed and restarted, an exec readiness
 * probe, the events a pod's life emits (Pulled, Created, Started, BackOff, Killing), and a
 * device node plus env from the devices hook (how GPUs reach a container). */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "lib/pods_kit.h"
#include "pods/image.h"
#include "pods/mounts.h"
#include "pods/runtime.h"

static char *base, *root, *run, *logs;
static struct pod_runtime *rt;
static char uids[8][64];
static int n_uids;

/* Events from the hook, "type reason field: message" each. */
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static char *events[512];
static int n_events;

static void on_event(void *ud, const struct runtime_event *ev)
{
	char *line;

	cr_assert_eq(ud, &n_events);
	if (asprintf(&line, "%s %s %s: %s", ev->type, ev->reason, ev->field_path ? ev->field_path : "-", ev->message) < 0)
		return;
	pthread_mutex_lock(&ev_lock);
	if (n_events < 512)
		events[n_events++] = line;
	else
		free(line);
	pthread_mutex_unlock(&ev_lock);
}

static bool has_event(const char *needle)
{
	bool found = false;

	pthread_mutex_lock(&ev_lock);
	for (int i = 0; i < n_events && !found; i++)
		found = strstr(events[i], needle) != NULL;
	pthread_mutex_unlock(&ev_lock);
	return found;
}

static char *all_events(void)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	pthread_mutex_lock(&ev_lock);
	for (int i = 0; i < n_events; i++)
		fprintf(f, "%s\n", events[i]);
	pthread_mutex_unlock(&ev_lock);
	fclose(f);
	return out;
}

static void setup(void)
{
	char *src;

	base = pods_kit_tempdir("probert");
	cr_assert(asprintf(&root, "%s/root", base) > 0 && asprintf(&run, "%s/run", base) > 0 &&
		  asprintf(&logs, "%s/logs", base) > 0 && asprintf(&src, "%s/src", base) > 0);
	cr_assert_eq(mkdir(src, 0755), 0);
	pods_kit_busybox_rootfs(src);
	cr_assert_eq(image_import(root, "busybox", src, &(struct image_import_options){ 0 }), 0);
	pods_kit_remove(src);
	free(src);
	rt = pod_runtime_new(&(struct runtime_config){
		.root_dir = root, .run_dir = run, .log_dir = logs, .pause_path = pods_kit_pause(), .node_name = "node-a",
		.events = { .userdata = &n_events, .emit = on_event } });
	cr_assert(rt, "pod_runtime_new: %s", strerror(errno));
	n_uids = 0;
}

static void teardown(void)
{
	for (int i = 0; rt && i < n_uids; i++)
		cr_expect_eq(pod_runtime_stop(rt, uids[i], 0), 0, "stop %s", uids[i]);
	pod_runtime_free(rt);
	rt = NULL;
	cr_expect(!fs_has_mounts_below(base), "mounts left below %s", base);
	pods_kit_remove(base);
	free(base);
	free(root);
	free(run);
	free(logs);
	for (int i = 0; i < n_events; i++)
		free(events[i]);
	n_events = 0;
}

TestSuite(agent_probe_runtime, .init = setup, .fini = teardown, .timeout = 120);

static json_object *make_pod(const char *name, const char *spec)
{
	char *uid = uids[n_uids++], json[8192];
	json_object *pod;

	snprintf(uid, sizeof(uids[0]), "uid-%d-%d", getpid(), n_uids);
	snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns1\",\"uid\":\"%s\"},\"spec\":%s}",
		 name, uid, spec);
	pod = json_tokener_parse(json);
	cr_assert(pod, "bad pod JSON: %s", json);
	return pod;
}

static json_object *cstatus(json_object *st)
{
	return json_object_array_get_idx(json_get_path(st, "containerStatuses"), 0);
}

/* start + status every 100 ms, as the agent's sync does every second, until cond (bounded). */
static json_object *drive_until(json_object *pod, bool (*cond)(json_object *st), const char *what)
{
	json_object *st = NULL;

	for (int i = 0; i < 400; i++) {
		json_object_put(st);
		cr_assert_eq(pod_runtime_start(rt, pod), 0);
		cr_assert_eq(pod_runtime_status(rt, json_get_string(pod, "metadata.uid"), &st), 0);
		if (cond(st))
			return st;
		usleep(100 * 1000);
	}
	cr_assert_fail("never %s: %s\nevents:\n%s", what, json_object_to_json_string(st), all_events());
	return NULL;
}

static bool is_ready(json_object *st)
{
	return json_object_get_boolean(json_get_path(cstatus(st), "ready"));
}

static bool is_running(json_object *st)
{
	return json_get_path(cstatus(st), "state.running") != NULL;
}

static const char *unhealthy_needle;

static bool has_unhealthy(json_object *st)
{
	(void)st;
	return has_event(unhealthy_needle);
}

#define HTTPD "\"command\":[\"sh\",\"-c\",\"mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www\"]"

Test(agent_probe_runtime, http_readiness_passes)
{
	_cleanup_json_ json_object *pod = make_pod(
		"web", "{\"containers\":[{\"name\":\"web\",\"image\":\"busybox\"," HTTPD ","
		       "\"ports\":[{\"name\":\"http\",\"containerPort\":8080}],"
		       "\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\"},\"periodSeconds\":1,"
		       "\"initialDelaySeconds\":2}}]}");
	_cleanup_json_ json_object *first = NULL, *st = NULL;

	first = drive_until(pod, is_running, "running");
	cr_expect(!is_ready(first), "running but not ready before its first probe (2 s initial delay)");
	st = drive_until(pod, is_ready, "ready");
	cr_expect(has_event("Normal Pulled spec.containers{web}: Container image \"busybox\" already present on machine"));
	cr_expect(has_event("Normal Created spec.containers{web}: Created container web"));
	cr_expect(has_event("Normal Started spec.containers{web}: Started container web"));
	cr_assert_eq(pod_runtime_stop(rt, json_get_string(pod, "metadata.uid"), 1), 0);
	cr_expect(has_event("Normal Killing spec.containers{web}: Stopping container web"));
}

Test(agent_probe_runtime, http_readiness_fails)
{
	_cleanup_json_ json_object *pod = make_pod(
		"web404", "{\"containers\":[{\"name\":\"web\",\"image\":\"busybox\"," HTTPD ","
			  "\"readinessProbe\":{\"httpGet\":{\"path\":\"/nothing\",\"port\":8080},\"periodSeconds\":1}}]}");
	_cleanup_json_ json_object *st = NULL, *later = NULL;

	unhealthy_needle = "Warning Unhealthy spec.containers{web}: Readiness probe failed: HTTP probe failed with "
			   "statuscode: 404";
	st = drive_until(pod, has_unhealthy, "an Unhealthy event");
	cr_assert_eq(pod_runtime_status(rt, json_get_string(pod, "metadata.uid"), &later), 0);
	cr_expect(is_running(later));
	cr_expect(!is_ready(later), "a failing readiness probe keeps it unready");
	cr_expect_eq(json_object_get_int(json_get_path(cstatus(later), "restartCount")), 0, "readiness never restarts");
}

static bool restarted(json_object *st)
{
	return json_object_get_int(json_get_path(cstatus(st), "restartCount")) >= 1 && is_running(st);
}

Test(agent_probe_runtime, liveness_failure_restarts)
{
	_cleanup_json_ json_object *pod = make_pod(
		"dead", "{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
			"\"command\":[\"sleep\",\"3600\"],"
			"\"livenessProbe\":{\"tcpSocket\":{\"port\":8080},\"periodSeconds\":1,\"failureThreshold\":2}}]}");
	_cleanup_json_ json_object *st = NULL;

	st = drive_until(pod, restarted, "restarted after its liveness probe failed");
	cr_expect(has_event("Warning Unhealthy spec.containers{c}: Liveness probe failed: dial tcp 127.0.0.1:8080: "
			    "connect: Connection refused"), "%s", all_events());
	cr_expect(has_event("Normal Killing spec.containers{c}: Container c failed liveness probe, will be restarted"));
	/* sleep as PID 1 ignores SIGTERM: the grace period ran out and SIGKILL ended it. */
	cr_expect_eq(json_object_get_int(json_get_path(cstatus(st), "lastState.terminated.exitCode")), 137, "%s",
		     json_object_to_json_string(st));
}

Test(agent_probe_runtime, exec_readiness)
{
	_cleanup_json_ json_object *pod = make_pod(
		"execready", "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
			     "\"command\":[\"sh\",\"-c\",\"sleep 5; touch /tmp/ready; exec sleep 3600\"],"
			     "\"readinessProbe\":{\"exec\":{\"command\":[\"test\",\"-f\",\"/tmp/ready\"]},"
			     "\"periodSeconds\":1}}]}");
	_cleanup_json_ json_object *st = NULL;

	unhealthy_needle = "Warning Unhealthy spec.containers{c}: Readiness probe failed: command \"test\" exited with 1";
	st = drive_until(pod, has_unhealthy, "the exec probe failing before the file exists");
	json_object_put(st);
	st = drive_until(pod, is_ready, "ready once the file exists");
}

static bool in_backoff(json_object *st)
{
	const char *r = json_get_string(cstatus(st), "state.waiting.reason");

	return r && strcmp(r, "CrashLoopBackOff") == 0;
}

Test(agent_probe_runtime, backoff_event)
{
	_cleanup_json_ json_object *pod = make_pod(
		"crash", "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"false\"]}]}");
	_cleanup_json_ json_object *st = NULL;

	st = drive_until(pod, in_backoff, "CrashLoopBackOff");
	cr_expect(has_event("Warning BackOff spec.containers{c}: Back-off restarting failed container c in pod crash"),
		  "%s", all_events());
}

/* --- the devices hook ------------------------------------------------------------------------ */

static char *fake_dev;

static int fake_devices(void *ud, json_object *pod, json_object *container, char ***ret_paths, char ***ret_env)
{
	char **paths = calloc(2, sizeof(*paths)), **env = calloc(2, sizeof(*env));

	(void)pod;
	cr_assert_eq(ud, &fake_dev);
	cr_assert(paths && env);
	if (strcmp(json_get_string(container, "name"), "gpu") == 0) {
		paths[0] = strdup(fake_dev);
		env[0] = strdup("FAKE_VISIBLE=0");
	}
	*ret_paths = paths;
	*ret_env = env;
	return 0;
}

static bool finished(json_object *st)
{
	const char *phase = json_get_string(st, "phase");

	return strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
}

Test(agent_probe_runtime, devices_hook_binds_nodes_and_env)
{
	/* /dev/null's numbers under another name: a node the container can open. */
	_cleanup_json_ json_object *pod = make_pod(
		"gpus", "{\"restartPolicy\":\"Never\",\"containers\":["
			"{\"name\":\"gpu\",\"image\":\"busybox\",\"env\":[{\"name\":\"FAKE_VISIBLE\",\"value\":\"spec\"}],"
			"\"command\":[\"sh\",\"-c\",\"test -c /dev/fakegpu7 && test \\\"$FAKE_VISIBLE\\\" = 0 && "
			"test \\\"$(env | grep -c ^FAKE_VISIBLE=)\\\" = 1\"]},"
			"{\"name\":\"plain\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"! test -e /dev/fakegpu7\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	json_object *cs;

	cr_assert(asprintf(&fake_dev, "%s/fakegpu7", base) > 0);
	cr_assert_eq(mknod(fake_dev, S_IFCHR | 0666, makedev(1, 3)), 0, "mknod %s: %s", fake_dev, strerror(errno));
	pod_runtime_free(rt);
	rt = pod_runtime_new(&(struct runtime_config){
		.root_dir = root, .run_dir = run, .log_dir = logs, .pause_path = pods_kit_pause(), .node_name = "node-a",
		.devices = { .userdata = &fake_dev, .container_devices = fake_devices } });
	cr_assert(rt);
	st = drive_until(pod, finished, "both containers done");
	for (int i = 0; i < 2; i++) {
		cs = json_object_array_get_idx(json_get_path(st, "containerStatuses"), (size_t)i);
		cr_expect_eq(json_object_get_int(json_get_path(cs, "state.terminated.exitCode")), 0,
			     "%s: the device at /dev/fakegpu7 and FAKE_VISIBLE=0 (once) only where the hook says: %s",
			     json_get_string(cs, "name"), json_object_to_json_string(st));
	}
	unlink(fake_dev);
	free(fake_dev);
}

static bool is_started(json_object *st)
{
	return json_object_get_boolean(json_get_path(cstatus(st), "started"));
}

Test(agent_probe_runtime, startup_probe_gates_started_and_ready)
{
	_cleanup_json_ json_object *pod = make_pod(
		"slow", "{\"containers\":[{\"name\":\"web\",\"image\":\"busybox\","
			"\"command\":[\"sh\",\"-c\",\"sleep 3 && mkdir -p /www && exec httpd -f -p 8080 -h /www\"],"
			"\"startupProbe\":{\"tcpSocket\":{\"port\":8080},\"periodSeconds\":1,\"failureThreshold\":30}}]}");
	_cleanup_json_ json_object *first = NULL, *st = NULL;

	first = drive_until(pod, is_running, "running");
	cr_expect(!is_started(first) && !is_ready(first), "neither started nor ready before its startup probe passed: %s",
		  json_object_to_json_string(first));
	st = drive_until(pod, is_started, "started");
	cr_expect(is_ready(st), "no readiness probe: ready with startup");
	cr_expect(has_event("Warning Unhealthy spec.containers{web}: Startup probe failed: dial tcp 127.0.0.1:8080"),
		  "failures while httpd sleeps");
}
