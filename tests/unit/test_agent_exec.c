/* pod_exec_run against real runtime pods: output and exit codes, the container's namespaces,
 * env, working dir, user and filesystem, stdin, timeouts, cancelling, and unknown pods or containers. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "lib/pods_kit.h"
#include "pods/exec.h"
#include "pods/image.h"
#include "pods/mounts.h"
#include "pods/runtime.h"

static char *base, *root, *run, *logs;
static struct pod_runtime *rt;
static char uid[64];
static json_object *pod;

static void setup(void)
{
	char *src;

	base = pods_kit_tempdir("exec");
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
	uid[0] = '\0';
	pod = NULL;
}

static void teardown(void)
{
	if (rt && uid[0])
		cr_expect_eq(pod_runtime_stop(rt, uid, 0), 0, "stop %s", uid);
	pod_runtime_free(rt);
	rt = NULL;
	json_object_put(pod);
	cr_expect(!fs_has_mounts_below(base), "mounts left below %s", base);
	pods_kit_remove(base);
	free(base);
	free(root);
	free(run);
	free(logs);
}

TestSuite(agent_exec, .init = setup, .fini = teardown, .timeout = 120);

/* A running pod with containers "main" (writes a marker into its own rootfs, then sleeps)
 * and "side" (sleeps), waited for (bounded) until both run. */
static void start_pod(void)
{
	char json[2048];
	json_object *st = NULL;

	snprintf(uid, sizeof(uid), "exec-%d", getpid());
	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"name\":\"ex\",\"namespace\":\"ns1\",\"uid\":\"%s\"},\"spec\":{\"containers\":["
		 "{\"name\":\"main\",\"image\":\"busybox\",\"workingDir\":\"/work\","
		 "\"env\":[{\"name\":\"GREETING\",\"value\":\"hello\"}],"
		 "\"command\":[\"sh\",\"-c\",\"echo marker > /marker; exec sleep 1000\"]},"
		 "{\"name\":\"side\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1000\"],"
		 "\"securityContext\":{\"runAsUser\":1234}}]}}",
		 uid);
	pod = json_tokener_parse(json);
	cr_assert(pod);
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	for (int i = 0; i < 600; i++) {
		json_object_put(st);
		cr_assert_eq(pod_runtime_status(rt, uid, &st), 0);
		if (strcmp(json_get_string(st, "phase") ?: "", "Running") == 0)
			break;
		usleep(50 * 1000);
	}
	cr_assert_str_eq(json_get_string(st, "phase"), "Running", "%s", json_object_to_json_string(st));
	json_object_put(st);
}

/* Runs sh -c script in container c; returns its stdout and stderr (callers free). */
static int exec_sh(const char *c, const char *script, const char *input, char **ret_out, char **ret_err)
{
	char *const argv[] = { "sh", "-c", (char *)script, NULL };
	FILE *out = tmpfile(), *err = tmpfile();
	int in[2] = { -1, -1 }, code = -1, r;
	char buf[4096];
	size_t n;

	cr_assert(out && err);
	if (input) {
		cr_assert_eq(pipe(in), 0);
		cr_assert_eq(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
		close(in[1]);
	}
	r = pod_exec_run(rt, uid, c, argv, in[0], fileno(out), fileno(err), 20000, &code);
	cr_assert_eq(r, 0, "pod_exec_run: %s", strerror(-r));
	if (in[0] >= 0)
		close(in[0]);
	rewind(out);
	n = fread(buf, 1, sizeof(buf) - 1, out);
	buf[n] = '\0';
	*ret_out = strdup(buf);
	rewind(err);
	n = fread(buf, 1, sizeof(buf) - 1, err);
	buf[n] = '\0';
	*ret_err = strdup(buf);
	fclose(out);
	fclose(err);
	return code;
}

Test(agent_exec, output_env_cwd_and_filesystem)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	start_pod();
	cr_expect_eq(exec_sh("main", "echo $GREETING $FROM_IMAGE; pwd; cat /marker; echo oops >&2", NULL, &out, &err), 0);
	cr_expect_str_eq(out, "hello yes\n/work\nmarker\n");
	cr_expect_str_eq(err, "oops\n");
}

Test(agent_exec, exit_codes_and_missing_binary)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
	char *const argv[] = { "no-such-binary", NULL };
	int code = -1;

	start_pod();
	cr_expect_eq(exec_sh("main", "exit 3", NULL, &o1, &e1), 3);
	cr_expect_eq(exec_sh("main", "kill -9 $$", NULL, &o2, &e2), 128 + 9);
	cr_assert_eq(pod_exec_run(rt, uid, "main", argv, -1, -1, -1, 10000, &code), 0);
	cr_expect_eq(code, 127);
}

Test(agent_exec, namespaces_and_user)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *o2 = NULL, *e2 = NULL;
	char want[256];

	start_pod();
	/* The container's own pid namespace (sleep is its PID 1), its hostname (the pod's name), its
	 * user from runAsUser. */
	cr_expect_eq(exec_sh("side", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; id -u", NULL, &out, &err), 0);
	snprintf(want, sizeof(want), "sleep 1000 \nex\n1234\n");
	cr_expect_str_eq(out, want, "stderr: %s", err);
	/* The sandbox's network namespace: only lo. */
	cr_expect_eq(exec_sh("main", "ls /sys/class/net", NULL, &o2, &e2), 0);
	cr_expect_str_eq(o2, "lo\n", "stderr: %s", e2);
}

Test(agent_exec, stdin_is_the_commands)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	start_pod();
	cr_expect_eq(exec_sh("main", "tr a-z A-Z", "shout\n", &out, &err), 0);
	cr_expect_str_eq(out, "SHOUT\n");
}

Test(agent_exec, timeout_kills)
{
	char *const argv[] = { "sleep", "30", NULL };
	int code = -1;

	start_pod();
	cr_expect_eq(pod_exec_run(rt, uid, "main", argv, -1, -1, -1, 300, &code), -ETIMEDOUT);
	cr_expect_eq(code, -1);
}

Test(agent_exec, unknown_pod_or_container)
{
	char *const argv[] = { "true", NULL };
	int code = -1;

	start_pod();
	cr_expect_eq(pod_exec_run(rt, uid, "nope", argv, -1, -1, -1, 1000, &code), -ENOENT);
	cr_expect_eq(pod_exec_run(rt, "no-such-uid", "main", argv, -1, -1, -1, 1000, &code), -ENOENT);
	cr_expect_eq(pod_exec_run(rt, "../x", "main", argv, -1, -1, -1, 1000, &code), -ENOENT);
	cr_expect_eq(code, -1);
}

Test(agent_exec, cancel_kills)
{
	char *const argv[] = { "sleep", "30", NULL };
	_cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;
	int code = -1;

	start_pod();
	cr_assert(efd >= 0);
	/* Already cancelled: the command is killed as soon as it runs, long before its 30 s. */
	cr_assert_eq(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	cr_expect_eq(pod_exec_run_cancel(rt, uid, "main", argv, -1, -1, -1, 20000, efd, &code), -ECANCELED);
	cr_expect_eq(code, -1);
}
