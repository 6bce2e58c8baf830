/* The pod runtime end to end on this host: real sandboxes, overlayfs containers from a busybox
 * image, CRI logs, env and fieldRefs, emptyDir, security settings, missing images, stop that
 * leaves nothing behind, and re-adoption after a runtime restart. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "lib/pods_kit.h"
#include "pods/cgroup.h"
#include "pods/image.h"
#include "pods/mounts.h"
#include "pods/runtime.h"
#include "pods/sandbox.h"

static char *base, *root, *run, *logs;
static struct pod_runtime *rt;
static char uids[8][64];
static struct cgroup_manager *cgm; /* a test's cgroup parent, removed by the teardown */
static int n_uids;

static void setup(void)
{
	char *src;

	base = pods_kit_tempdir("runtime");
	cr_assert(asprintf(&root, "%s/root", base) > 0 && asprintf(&run, "%s/run", base) > 0 &&
		  asprintf(&logs, "%s/logs", base) > 0 && asprintf(&src, "%s/src", base) > 0);
	cr_assert_eq(mkdir(src, 0755), 0);
	pods_kit_busybox_rootfs(src);
	cr_assert_eq(image_import(root, "busybox", src, &(struct image_import_options){
							  .env = (const char *const[]){ "FROM_IMAGE=yes", NULL } }),
		     0);
	pods_kit_remove(src);
	free(src);
	rt = pod_runtime_new(&(struct runtime_config){
		.root_dir = root, .run_dir = run, .log_dir = logs, .pause_path = pods_kit_pause(), .node_name = "node-a" });
	cr_assert(rt, "pod_runtime_new: %s", strerror(errno));
	n_uids = 0;
}

static void teardown(void)
{
	/* Stop every pod a test made, even when it failed half-way. */
	if (!rt)
		rt = pod_runtime_new(&(struct runtime_config){
			.root_dir = root, .run_dir = run, .log_dir = logs, .pause_path = PODS_KIT_PAUSE });
	for (int i = 0; rt && i < n_uids; i++)
		cr_expect_eq(pod_runtime_stop(rt, uids[i], 0), 0, "stop %s", uids[i]);
	pod_runtime_free(rt);
	rt = NULL;
	if (cgm) {
		cr_expect_eq(rmdir(cgroup_manager_root(cgm)), 0, "rmdir %s: %s", cgroup_manager_root(cgm), strerror(errno));
		cgroup_manager_free(cgm);
		cgm = NULL;
	}
	cr_expect(!fs_has_mounts_below(base), "mounts left below %s", base);
	pods_kit_remove(base);
	free(base);
	free(root);
	free(run);
	free(logs);
}

TestSuite(agent_container, .init = setup, .fini = teardown, .timeout = 120);

/* A pod from a JSON template: %1$s is the uid. */
static json_object *make_pod(const char *name, const char *spec_fmt)
{
	char *uid = uids[n_uids++], json[8192];
	json_object *pod;

	snprintf(uid, sizeof(uids[0]), "uid-%d-%d", getpid(), n_uids);
	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns1\",\"uid\":\"%s\"},\"spec\":%s}", name, uid,
		 spec_fmt);
	pod = json_tokener_parse(json);
	cr_assert(pod, "bad pod JSON: %s", json);
	return pod;
}

static const char *uid_of(json_object *pod)
{
	return json_get_string(pod, "metadata.uid");
}

/* Polls the runtime (a real condition, bounded) until the pod reaches phase. */
static json_object *wait_phase(json_object *pod, const char *phase)
{
	json_object *st = NULL;

	for (int i = 0; i < 600; i++) {
		json_object_put(st);
		cr_assert_eq(pod_runtime_status(rt, uid_of(pod), &st), 0);
		if (strcmp(json_get_string(st, "phase"), phase) == 0)
			return st;
		usleep(50 * 1000);
	}
	cr_assert_fail("pod %s never reached %s: %s", uid_of(pod), phase, json_object_to_json_string(st));
	return NULL;
}

static json_object *cstatus(json_object *st, int i)
{
	return json_object_array_get_idx(json_get_path(st, "containerStatuses"), (size_t)i);
}

/* The container's log messages, "stream msg" per line, checking the CRI shape of each. */
static char *read_log(json_object *pod, const char *container)
{
	char path[4096], line[4096];
	char *out = NULL;
	size_t size = 0;
	FILE *f, *mem = open_memstream(&out, &size);

	snprintf(path, sizeof(path), "%s/ns1_%s_%s/%s/0.log", logs, json_get_string(pod, "metadata.name"), uid_of(pod),
		 container);
	{
		_cleanup_free_ char *api = pod_runtime_log_path(rt, pod, container, 0);

		cr_expect_str_eq(api, path);
	}
	f = fopen(path, "r");
	cr_assert(f, "no log %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char ts[64], stream[16], tag;
		int off = 0;

		cr_assert_eq(sscanf(line, "%63s %15s %c %n", ts, stream, &tag, &off), 3, "not CRI: %s", line);
		cr_expect_eq(strlen(ts), 30, "timestamp %s", ts);
		cr_expect_eq(ts[29], 'Z');
		cr_expect_eq(tag, 'F');
		fprintf(mem, "%s %s", stream, line + off);
	}
	fclose(f);
	fclose(mem);
	return out;
}

Test(agent_container, busybox_hello_log)
{
	_cleanup_json_ json_object *pod = make_pod(
		"hello", "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
			 "\"command\":[\"sh\",\"-c\",\"echo hi; cat /etc/hostname; id -u; echo oops >&2\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	_cleanup_free_ char *log = NULL;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Succeeded");
	cr_expect_eq(json_object_get_int(json_get_path(cstatus(st, 0), "state.terminated.exitCode")), 0);
	cr_expect_str_eq(json_get_string(cstatus(st, 0), "state.terminated.reason"), "Completed");
	log = read_log(pod, "c");
	cr_expect_str_eq(log, "stdout hi\nstdout hello\nstdout 0\nstderr oops\n");
	/* Idempotent: a finished pod with restartPolicy Never is not run again. */
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	json_object_put(st);
	st = wait_phase(pod, "Succeeded");
	cr_expect_eq(json_object_get_int(json_get_path(cstatus(st, 0), "restartCount")), 0);
}

Test(agent_container, env_field_refs_and_image_env)
{
	_cleanup_json_ json_object *pod = make_pod(
		"envpod",
		"{\"restartPolicy\":\"Never\",\"nodeName\":\"node-b\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox:latest\","
		"\"workingDir\":\"/work/dir\",\"command\":[\"sh\",\"-c\"],"
		"\"args\":[\"echo $A $FROM_IMAGE $POD $NS $UID $NODE [$IP] $HOSTNAME; pwd\"],"
		"\"env\":[{\"name\":\"A\",\"value\":\"plain\"},"
		"{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
		"{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}},"
		"{\"name\":\"UID\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.uid\"}}},"
		"{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
		"{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}}]}]}");
	_cleanup_json_ json_object *st = NULL;
	_cleanup_free_ char *log = NULL;
	char want[256];

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Succeeded");
	log = read_log(pod, "c");
	snprintf(want, sizeof(want), "stdout plain yes envpod ns1 %s node-b [] envpod\nstdout /work/dir\n", uid_of(pod));
	cr_expect_str_eq(log, want);
}

Test(agent_container, empty_dir_shared_between_containers)
{
	_cleanup_json_ json_object *pod = make_pod(
		"shared",
		"{\"restartPolicy\":\"Never\",\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}],\"containers\":["
		"{\"name\":\"writer\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"echo from-writer > /data/f\"],"
		"\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]},"
		"{\"name\":\"reader\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
		"\"i=0; while [ ! -s /mnt/x/f ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; cat /mnt/x/f\"],"
		"\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/mnt/x\",\"readOnly\":true}]}]}");
	_cleanup_json_ json_object *st = NULL;
	_cleanup_free_ char *log = NULL;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Succeeded");
	log = read_log(pod, "reader");
	cr_expect_str_eq(log, "stdout from-writer\n");
}

Test(agent_container, security_defaults_and_run_as_user)
{
	_cleanup_json_ json_object *pod = make_pod(
		"sec",
		"{\"restartPolicy\":\"Never\",\"containers\":["
		"{\"name\":\"root\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
		"\"grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; touch /sys/x 2>/dev/null || echo sys-ro;"
		" ls /dev | tr '\\\\n' ' '; echo; hostname; cat /proc/1/cmdline | tr '\\\\0' ' '; echo;"
		" v=$(cat /proc/sys/kernel/printk_ratelimit); (echo $v > /proc/sys/kernel/printk_ratelimit) 2>/dev/null && echo sysctl-rw || echo sysctl-ro; for f in kcore keys timer_list sched_debug; do [ -e /proc/$f ] && echo $f $(wc -c < /proc/$f); done; true\"]},"
		"{\"name\":\"user\",\"image\":\"busybox\",\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":2000},"
		"\"command\":[\"sh\",\"-c\",\"id -u; id -g; id -G; grep CapEff /proc/self/status\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Succeeded");
	a = read_log(pod, "root");
	/* Docker's 14 capabilities: 0xa80425fb. */
	cr_expect(strstr(a, "CapEff:\t00000000a80425fb\n"), "%s", a);
	cr_expect(strstr(a, "CapBnd:\t00000000a80425fb\n"), "%s", a);
	cr_expect(strstr(a, "NoNewPrivs:\t1\n"), "%s", a);
	cr_expect(strstr(a, "stdout sys-ro\n"), "%s", a);
	cr_expect(strstr(a, "full null ptmx pts random shm stderr stdin stdout tty urandom zero"), "%s", a);
	cr_expect(strstr(a, "stdout sec\n"), "%s", a);
	/* Its own pid namespace: the shell is PID 1. */
	cr_expect(strstr(a, "stdout sh -c "), "%s", a);
	/* The host kernel's knobs are out of reach. */
	cr_expect(strstr(a, "stdout sysctl-ro\n"), "%s", a);
	for (const char *const *f = (const char *const[]){ "kcore", "keys", "timer_list", "sched_debug", NULL }; *f; f++) {
		char host[64], want[64];

		snprintf(host, sizeof(host), "/proc/%s", *f);
		snprintf(want, sizeof(want), "stdout %s 0\n", *f);
		if (access(host, F_OK) == 0)
			cr_expect(strstr(a, want), "%s not masked: %s", host, a);
	}
	b = read_log(pod, "user");
	cr_expect_str_eq(b, "stdout 1000\nstdout 2000\nstdout 2000\nstdout CapEff:\t0000000000000000\n");
}

Test(agent_container, missing_image_waits)
{
	_cleanup_json_ json_object *pod =
		make_pod("noimg", "{\"containers\":[{\"name\":\"c\",\"image\":\"nosuch:1.0\"}]}");
	_cleanup_json_ json_object *st = NULL;
	char want[4096];

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	cr_assert_eq(pod_runtime_status(rt, uid_of(pod), &st), 0);
	cr_expect_str_eq(json_get_string(st, "phase"), "Pending");
	cr_expect_str_eq(json_get_string(cstatus(st, 0), "state.waiting.reason"), "ErrImageNeverPull");
	snprintf(want, sizeof(want),
		 "image \"nosuch:1.0\" not found in %s/images (import it with skiffctl image import nosuch:1.0 PATH --root %s)",
		 root, root);
	cr_expect_str_eq(json_get_string(cstatus(st, 0), "state.waiting.message"), want);
	/* Imported later, it is picked up by the next start. */
	{
		char src[4096];

		snprintf(src, sizeof(src), "%s/later", base);
		cr_assert_eq(mkdir(src, 0755), 0);
		pods_kit_busybox_rootfs(src);
		cr_assert_eq(image_import(root, "nosuch:1.0", src,
					  &(struct image_import_options){
						  .cmd = (const char *const[]){ "sleep", "1000", NULL } }),
			     0);
		pods_kit_remove(src);
	}
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	json_object_put(st);
	st = wait_phase(pod, "Running");
}

Test(agent_container, exec_failure_is_reported)
{
	_cleanup_json_ json_object *pod = make_pod(
		"noexec", "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"/no/such/binary\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	const char *msg;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	cr_assert_eq(pod_runtime_status(rt, uid_of(pod), &st), 0);
	cr_expect_str_eq(json_get_string(st, "phase"), "Pending");
	cr_expect_str_eq(json_get_string(cstatus(st, 0), "state.waiting.reason"), "RunContainerError");
	msg = json_get_string(cstatus(st, 0), "state.waiting.message");
	cr_expect(msg && strstr(msg, "pod ns1/noexec: container c: exec: No such file or directory"), "%s", msg);
}

static void read_pids(json_object *pod, struct proc_id *ids, int n)
{
	char path[4096];
	_cleanup_json_ json_object *state = NULL;
	const char *names[] = { "a", "b" };

	snprintf(path, sizeof(path), "%s/pods/%s/state.json", run, uid_of(pod));
	state = json_object_from_file(path);
	cr_assert(state, "no %s", path);
	ids[0].pid = json_object_get_int(json_get_path(state, "sandbox.pid"));
	ids[0].start_time = (uint64_t)json_object_get_int64(json_get_path(state, "sandbox.procStart"));
	for (int i = 1; i < n; i++) {
		json_object *cs = json_get_path(json_get_path(state, "containers"), names[i - 1]);

		ids[i].pid = json_object_get_int(json_get_path(cs, "pid"));
		ids[i].start_time = (uint64_t)json_object_get_int64(json_get_path(cs, "procStart"));
		cr_assert_gt(ids[i].pid, 0);
	}
}

static const char *const sleepers =
	"{\"shareProcessNamespace\":true,\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],\"containers\":["
	"{\"name\":\"a\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1000\"],"
	"\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/v\"}]},"
	"{\"name\":\"b\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"trap 'echo bye; exit 0' TERM; echo up; while :; do sleep 1; done\"]}]}";

Test(agent_container, stop_leaves_nothing)
{
	_cleanup_json_ json_object *pod = make_pod("sleepy", sleepers);
	_cleanup_json_ json_object *st = NULL;
	struct proc_id ids[3];
	char path[4096];
	struct stat sb;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Running");
	read_pids(pod, ids, 3);
	for (int i = 0; i < 3; i++)
		cr_assert(proc_id_alive(&ids[i]), "process %d not running", ids[i].pid);
	cr_assert_eq(pod_runtime_stop(rt, uid_of(pod), 2), 0);
	for (int i = 0; i < 3; i++)
		cr_expect(!proc_id_alive(&ids[i]), "process %d survived stop", ids[i].pid);
	snprintf(path, sizeof(path), "%s/pods/%s", run, uid_of(pod));
	cr_expect_neq(stat(path, &sb), 0, "%s left", path);
	snprintf(path, sizeof(path), "%s/pods/%s", root, uid_of(pod));
	cr_expect_neq(stat(path, &sb), 0, "%s left", path);
	cr_expect(!fs_has_mounts_below(base));
	cr_expect_eq(pod_runtime_status(rt, uid_of(pod), &(json_object *){ NULL }), -ENOENT);
	/* Logs outlive the pod. */
	snprintf(path, sizeof(path), "%s/ns1_sleepy_%s/b/0.log", logs, uid_of(pod));
	cr_expect_eq(stat(path, &sb), 0, "log %s gone", path);
	cr_expect_eq(pod_runtime_stop(rt, uid_of(pod), 0), 0, "a second stop is a no-op");
}

Test(agent_container, adopt_after_restart)
{
	_cleanup_json_ json_object *pod = make_pod("adopted", sleepers);
	_cleanup_json_ json_object *st = NULL, *st2 = NULL;
	struct proc_id before[3], after[3];
	_cleanup_free_ char *log = NULL;
	char **list = NULL;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Running");
	read_pids(pod, before, 3);
	pod_runtime_free(rt);
	rt = pod_runtime_new(&(struct runtime_config){
		.root_dir = root, .run_dir = run, .log_dir = logs, .pause_path = PODS_KIT_PAUSE, .node_name = "node-a" });
	cr_assert(rt);
	cr_assert_eq(pod_runtime_adopt(rt), 1);
	cr_assert_eq(pod_runtime_list(rt, &list), 0);
	cr_expect_str_eq(list[0], uid_of(pod));
	cr_expect_null(list[1]);
	pod_runtime_uids_free(list);
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st2 = wait_phase(pod, "Running");
	read_pids(pod, after, 3);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(after[i].pid, before[i].pid, "process %d replaced by %d", before[i].pid, after[i].pid);
	/* Not our children any more to reap, but stop still ends them and cleans up; what b says
	 * on SIGTERM reaches its log through the re-opened reader. */
	cr_assert_eq(pod_runtime_stop(rt, uid_of(pod), 5), 0);
	for (int i = 0; i < 3; i++)
		cr_expect(!proc_id_alive(&before[i]), "process %d survived stop", before[i].pid);
	log = read_log(pod, "b");
	cr_expect_str_eq(log, "stdout up\nstdout bye\n");
}

/* Calls start then status, as the agent's sync loop does, until cond holds (bounded). */
static json_object *drive_until(json_object *pod, bool (*cond)(json_object *st), const char *what)
{
	json_object *st = NULL;

	for (int i = 0; i < 600; i++) {
		json_object_put(st);
		cr_assert_eq(pod_runtime_start(rt, pod), 0);
		cr_assert_eq(pod_runtime_status(rt, uid_of(pod), &st), 0);
		if (cond(st))
			return st;
		usleep(50 * 1000);
	}
	cr_assert_fail("pod %s never got %s: %s", uid_of(pod), what, json_object_to_json_string(st));
	return NULL;
}

static bool succeeded(json_object *st)
{
	return strcmp(json_get_string(st, "phase"), "Succeeded") == 0;
}

Test(agent_container, init_container_runs_first)
{
	_cleanup_json_ json_object *pod = make_pod(
		"withinit",
		"{\"restartPolicy\":\"Never\",\"volumes\":[{\"name\":\"w\",\"emptyDir\":{}}],"
		"\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"echo prepared > /w/f\"],"
		"\"volumeMounts\":[{\"name\":\"w\",\"mountPath\":\"/w\"}]}],"
		"\"containers\":[{\"name\":\"app\",\"image\":\"busybox\",\"command\":[\"cat\",\"/w/f\"],"
		"\"volumeMounts\":[{\"name\":\"w\",\"mountPath\":\"/w\"}]}]}");
	_cleanup_json_ json_object *st = NULL, *first = NULL;
	_cleanup_free_ char *log = NULL;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	cr_assert_eq(pod_runtime_status(rt, uid_of(pod), &first), 0);
	cr_expect_str_eq(json_get_string(first, "phase"), "Pending");
	cr_expect_null(json_get_path(cstatus(first, 0), "state.running"), "app started before init finished");
	st = drive_until(pod, succeeded, "Succeeded");
	log = read_log(pod, "app");
	cr_expect_str_eq(log, "stdout prepared\n");
}

static bool in_backoff(json_object *st)
{
	const char *r = json_get_string(cstatus(st, 0), "state.waiting.reason");

	return r && strcmp(r, "CrashLoopBackOff") == 0;
}

Test(agent_container, restart_on_failure_then_backoff)
{
	_cleanup_json_ json_object *pod = make_pod(
		"crashy", "{\"restartPolicy\":\"OnFailure\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
			  "\"command\":[\"sh\",\"-c\",\"echo run; exit 3\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	char path[4096];
	struct stat sb;

	st = drive_until(pod, in_backoff, "CrashLoopBackOff");
	cr_expect_eq(json_object_get_int(json_get_path(cstatus(st, 0), "restartCount")), 2);
	cr_expect_eq(json_object_get_int(json_get_path(cstatus(st, 0), "lastState.terminated.exitCode")), 3);
	cr_expect_str_eq(json_get_string(st, "phase"), "Running");
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/ns1_crashy_%s/c/%d.log", logs, uid_of(pod), i);
		cr_expect_eq(stat(path, &sb), 0, "no log of run %d: %s", i, path);
		cr_expect_gt(sb.st_size, 0);
	}
}

static ino_t ns_ino(pid_t pid, const char *ns)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	cr_assert_eq(stat(path, &sb), 0, "stat %s", path);
	return sb.st_ino;
}

Test(agent_container, host_network_and_pid)
{
	_cleanup_json_ json_object *pod = make_pod(
		"hostnet", "{\"hostNetwork\":true,\"hostPID\":true,\"containers\":["
			   "{\"name\":\"a\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1000\"]},"
			   "{\"name\":\"b\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1000\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	struct proc_id ids[3];

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Running");
	read_pids(pod, ids, 3);
	cr_expect_eq(ns_ino(ids[1].pid, "net"), ns_ino(getpid(), "net"), "hostNetwork container in its own netns");
	cr_expect_eq(ns_ino(ids[1].pid, "uts"), ns_ino(getpid(), "uts"));
	cr_expect_eq(ns_ino(ids[1].pid, "pid"), ns_ino(getpid(), "pid"), "hostPID container in its own pid ns");
	cr_expect_neq(ns_ino(ids[1].pid, "ipc"), ns_ino(getpid(), "ipc"));
	cr_expect_neq(ns_ino(ids[1].pid, "mnt"), ns_ino(getpid(), "mnt"));
	cr_expect_eq(ns_ino(ids[1].pid, "ipc"), ns_ino(ids[2].pid, "ipc"), "containers share the pod's ipc");
}

/* The runtime with the cgroup room's hooks (agent/pods/cgroup.h) on the real cgroup2 mount:
 * pause in pod-<uid>/_pause, each container in pod-<uid>/<name> before it runs, all removed
 * by stop. */
Test(agent_container, cgroup_hooks)
{
	_cleanup_json_ json_object *pod = make_pod("cg", sleepers);
	_cleanup_json_ json_object *st = NULL;
	struct cgroup_options co;
	struct cgroup_manager *m;
	struct runtime_config rc = { .root_dir = root, .run_dir = run, .log_dir = logs, .pause_path = PODS_KIT_PAUSE };
	char parent[64], path[4096], want[256], *line = NULL;
	struct proc_id ids[3];
	size_t cap = 0;
	struct stat sb;

	snprintf(parent, sizeof(parent), "skiff-test-%d", getpid());
	cgroup_options_init(&co);
	co.parent = parent;
	m = cgm = cgroup_manager_new(&co);
	cr_assert(m, "cgroup_manager_new: %s", strerror(errno));
	cgroup_runtime_hooks(m, &rc.cgroup);
	pod_runtime_free(rt);
	rt = pod_runtime_new(&rc);
	cr_assert(rt);
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Running");
	read_pids(pod, ids, 3);
	for (int i = 0; i < 3; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/cgroup", ids[i].pid);
		f = fopen(path, "r");
		cr_assert(f);
		while (getline(&line, &cap, f) > 0 && strncmp(line, "0::", 3) != 0)
			;
		fclose(f);
		snprintf(want, sizeof(want), "/%s/pod-%s/%s\n", parent, uid_of(pod), i == 0 ? "_pause" : i == 1 ? "a" : "b");
		cr_expect(strstr(line, want), "pid %d in %s, not %s", ids[i].pid, line, want);
	}
	free(line);
	cr_assert_eq(pod_runtime_stop(rt, uid_of(pod), 1), 0);
	snprintf(path, sizeof(path), "%s/pod-%s", cgroup_manager_root(m), uid_of(pod));
	cr_expect_neq(stat(path, &sb), 0, "%s left after stop", path);
}

Test(agent_container, capabilities_and_readonly_rootfs)
{
	_cleanup_json_ json_object *pod = make_pod(
		"caps", "{\"restartPolicy\":\"Never\",\"volumes\":[{\"name\":\"s\",\"emptyDir\":{}}],\"containers\":["
			"{\"name\":\"c\",\"image\":\"busybox\",\"securityContext\":{\"readOnlyRootFilesystem\":true,"
			"\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]}},"
			"\"volumeMounts\":[{\"name\":\"s\",\"mountPath\":\"/scratch\"}],"
			"\"command\":[\"sh\",\"-c\",\"grep CapEff /proc/self/status; touch /x 2>/dev/null || echo root-ro;"
			" touch /scratch/x && echo volume-rw\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	_cleanup_free_ char *log = NULL;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Succeeded");
	log = read_log(pod, "c");
	cr_expect_str_eq(log, "stdout CapEff:\t0000000000000400\nstdout root-ro\nstdout volume-rw\n");
}

Test(agent_container, agent_signal_state_not_inherited)
{
	_cleanup_json_ json_object *pod = make_pod(
		"sigs", "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
			"\"command\":[\"grep\",\"-E\",\"^Sig(Blk|Ign)\",\"/proc/self/status\"]}]}");
	_cleanup_json_ json_object *st = NULL;
	_cleanup_free_ char *log = NULL;
	sigset_t block;

	/* What a daemon commonly does: ignore SIGPIPE, block signals it takes with signalfd. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGPIPE, SIG_DFL);
	st = wait_phase(pod, "Succeeded");
	log = read_log(pod, "c");
	cr_expect_str_eq(log, "stdout SigBlk:\t0000000000000000\nstdout SigIgn:\t0000000000000000\n");
}

struct stop_call {
	const char *uid;
	int r;
};

static void *stop_thread(void *p)
{
	struct stop_call *c = p;

	c->r = pod_runtime_stop(rt, c->uid, 60);
	return NULL;
}

static bool running(json_object *st)
{
	return strcmp(json_get_string(st, "phase"), "Running") == 0;
}

/* While one pod spends its grace period, the runtime answers for the others: the slow pod's
 * container cannot exit before the test says so, so an answer now cannot be a late one. */
Test(agent_container, grace_period_does_not_block_other_pods)
{
	_cleanup_json_ json_object *slow = make_pod(
		"slow", "{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],\"containers\":[{\"name\":\"a\",\"image\":\"busybox\","
			"\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/v\"}],\"command\":[\"sh\",\"-c\","
			"\"trap 'while [ ! -e /v/go ]; do sleep 0.05; done; echo bye; exit 0' TERM; echo up;"
			" while :; do sleep 0.1; done\"]}]}");
	_cleanup_json_ json_object *other = make_pod(
		"other", "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1000\"]}]}");
	_cleanup_json_ json_object *st = NULL, *st2 = NULL, *st3 = NULL;
	struct stop_call call = { .uid = uid_of(slow), .r = 1 };
	struct proc_id ids[2];
	_cleanup_free_ char *log = NULL;
	char go[4096];
	pthread_t t;
	int r = 0;
	FILE *f;

	st = drive_until(slow, running, "Running");
	st2 = drive_until(other, running, "Running");
	read_pids(slow, ids, 2);
	cr_assert_eq(pthread_create(&t, NULL, stop_thread, &call), 0);
	/* The stop has begun once the pod refuses to start. */
	for (int i = 0; i < 600 && (r = pod_runtime_start(rt, slow)) != -EBUSY; i++)
		usleep(10 * 1000);
	cr_expect_eq(r, -EBUSY, "stop never marked the pod stopping");
	cr_expect_eq(pod_runtime_status(rt, uid_of(other), &st3), 0);
	cr_expect(proc_id_alive(&ids[1]), "status waited for the other pod's grace period");
	snprintf(go, sizeof(go), "%s/pods/%s/volumes/v/go", root, uid_of(slow));
	f = fopen(go, "w");
	cr_assert(f, "%s: %s", go, strerror(errno));
	fclose(f);
	pthread_join(t, NULL);
	cr_expect_eq(call.r, 0);
	cr_expect(!proc_id_alive(&ids[1]));
	log = read_log(slow, "a");
	cr_expect_str_eq(log, "stdout up\nstdout bye\n");
}

/* Docker's default seccomp policy: the container's status shows a filter, new user namespaces
 * and mount fail with EPERM even for root; seccompProfile Unconfined lifts only the filter; and
 * runAsNonRoot refuses to run an image as root with kubelet's reason. */
Test(agent_container, seccomp_default_and_run_as_non_root)
{
	_cleanup_json_ json_object *pod = make_pod(
		"seccomp", "{\"restartPolicy\":\"Never\",\"containers\":["
			   "{\"name\":\"dflt\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"grep '^Seccomp:' /proc/self/status;"
			   " unshare -U true 2>/dev/null && echo userns-ok || echo userns-denied;"
			   " mkdir -p /m; mount -t tmpfs t /m 2>/dev/null && echo mount-ok || echo mount-denied\"]},"
			   "{\"name\":\"unconf\",\"image\":\"busybox\",\"securityContext\":{\"seccompProfile\":{\"type\":\"Unconfined\"}},"
			   "\"command\":[\"sh\",\"-c\",\"grep '^Seccomp:' /proc/self/status\"]},"
			   "{\"name\":\"esc\",\"image\":\"busybox\",\"securityContext\":{\"allowPrivilegeEscalation\":true},"
			   "\"command\":[\"sh\",\"-c\",\"grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status\"]}]}");
	_cleanup_json_ json_object *bad = make_pod(
		"nonroot", "{\"restartPolicy\":\"Never\",\"securityContext\":{\"runAsNonRoot\":true},\"containers\":["
			   "{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"true\"]}]}");
	_cleanup_json_ json_object *st = NULL, *st2 = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL;
	const char *reason = NULL, *msg = NULL;

	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	st = wait_phase(pod, "Succeeded");
	a = read_log(pod, "dflt");
	cr_expect_str_eq(a, "stdout Seccomp:\t2\nstdout userns-denied\nstdout mount-denied\n");
	b = read_log(pod, "unconf");
	cr_expect_str_eq(b, "stdout Seccomp:\t0\n");
	free(b);
	/* allowPrivilegeEscalation: true keeps setuid binaries working (no no_new_privs), the filter stays. */
	b = read_log(pod, "esc");
	cr_expect_str_eq(b, "stdout NoNewPrivs:\t0\nstdout Seccomp:\t2\n");

	cr_assert_eq(pod_runtime_start(rt, bad), 0);
	for (int i = 0; i < 200 && !reason; i++) {
		json_object_put(st2);
		cr_assert_eq(pod_runtime_status(rt, uid_of(bad), &st2), 0);
		reason = json_get_string(cstatus(st2, 0), "state.waiting.reason");
		msg = json_get_string(cstatus(st2, 0), "state.waiting.message");
		if (!reason)
			usleep(50 * 1000);
	}
	cr_assert_str_eq(reason ?: "(none)", "CreateContainerConfigError", "%s", json_object_to_json_string(st2));
	cr_expect(msg && strstr(msg, "container has runAsNonRoot and image will run as root (pod: \"ns1/nonroot\", container: c)"),
		  "%s", msg ?: "(no message)");
}
