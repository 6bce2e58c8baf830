/* The pod sandbox: skiff-pause as PID 1 of fresh net/ipc/uts/pid namespaces, hostname set,
 * loopback up, process identity, and the pause exiting on SIGTERM. Real namespaces. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/pods_kit.h"
#include "pods/sandbox.h"

#define PAUSE pods_kit_pause()

static struct proc_id sb;

static void teardown(void)
{
	if (sb.pid > 0) {
		kill(sb.pid, SIGKILL);
		waitpid(sb.pid, NULL, 0);
		sb.pid = 0;
	}
}

static ino_t ns_inode(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return st.st_ino;
}

static void run_in(pid_t pid, const char *what, char *out, size_t size)
{
	char cmd[256];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "nsenter --target %d %s", pid, what);
	p = popen(cmd, "r");
	cr_assert(p, "popen %s", cmd);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s failed: %s", cmd, out);
}

/* sandbox_start returns once pause has exec'd, maybe before it blocked SIGTERM to sigwait for
 * it, and a PID 1 drops a signal it neither blocks nor waits for: wait (bounded) until SigBlk
 * has it or pause sits in rt_sigtimedwait (which unblocks what it waits for meanwhile). */
static bool sigterm_taken(pid_t pid)
{
	char path[64], line[128];
	unsigned long long blocked = 0;
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	cr_assert(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &blocked) == 1)
			break;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	f = fopen(path, "re");
	cr_assert(f, "%s: %s", path, strerror(errno));
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return (blocked & (1ULL << (SIGTERM - 1))) || nr == SYS_rt_sigtimedwait;
}

static void wait_sigterm_taken(pid_t pid)
{
	for (int i = 0; i < 1000; i++) {
		if (sigterm_taken(pid))
			return;
		usleep(10000);
	}
	cr_assert_fail("pause %d never blocked SIGTERM", pid);
}

TestSuite(agent_sandbox, .fini = teardown);

Test(agent_sandbox, pause_in_own_namespaces)
{
	static const char *const nss[] = { "net", "ipc", "uts", "pid_for_children" };
	char host_name[64], out[256];
	char name[64];

	snprintf(name, sizeof(name), "sbx-%d", getpid());
	cr_assert_eq(sandbox_start(PAUSE, name, SANDBOX_NS_ALL, &sb), 0);
	cr_assert(proc_id_alive(&sb));
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++)
		cr_expect_neq(ns_inode(sb.pid, nss[i]), ns_inode(getpid(), nss[i]), "ns %s shared with host", nss[i]);
	gethostname(host_name, sizeof(host_name));
	run_in(sb.pid, "--uts hostname", out, sizeof(out));
	cr_expect_str_eq(out, strcat(name, "\n"));
	cr_expect_str_neq(out, host_name);
	run_in(sb.pid, "--net cat /sys/class/net/lo/operstate", out, sizeof(out));
	cr_expect(strncmp(out, "unknown", 7) == 0 || strncmp(out, "up", 2) == 0, "lo is %s", out);
	run_in(sb.pid, "--net cat /sys/class/net/lo/flags", out, sizeof(out));
	cr_expect(strtoul(out, NULL, 16) & 1, "lo not up: flags %s", out);
}

Test(agent_sandbox, pid_one_exits_on_sigterm)
{
	struct proc_id gone;
	int status;

	cr_assert_eq(sandbox_start(PAUSE, "sigterm", SANDBOX_NS_ALL, &sb), 0);
	{
		char path[64], buf[128] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/status", sb.pid);
		f = fopen(path, "r");
		cr_assert(f);
		while (fgets(buf, sizeof(buf), f) && strncmp(buf, "NSpid:", 6) != 0)
			;
		fclose(f);
		cr_expect(strstr(buf, "\t1\n"), "not PID 1 in its namespace: %s", buf);
	}
	wait_sigterm_taken(sb.pid);
	cr_assert_eq(proc_id_kill(&sb, SIGTERM), 0);
	cr_assert_eq(proc_id_wait(&sb, 10000, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	gone = sb;
	sb.pid = 0;
	cr_expect(!proc_id_alive(&gone));
	cr_expect_eq(proc_id_kill(&gone, SIGTERM), 0);
}

Test(agent_sandbox, missing_pause_fails)
{
	cr_expect_eq(sandbox_start("/nonexistent/skiff-pause", "x", SANDBOX_NS_ALL, &sb), -ENOENT);
}

Test(agent_sandbox, host_network_keeps_host_net_and_uts)
{
	char out[256], host_name[64];

	cr_assert_eq(sandbox_start(PAUSE, "ignored", CLONE_NEWIPC, &sb), 0);
	cr_expect_eq(ns_inode(sb.pid, "net"), ns_inode(getpid(), "net"));
	cr_expect_eq(ns_inode(sb.pid, "uts"), ns_inode(getpid(), "uts"));
	cr_expect_neq(ns_inode(sb.pid, "ipc"), ns_inode(getpid(), "ipc"));
	cr_expect_neq(ns_inode(sb.pid, "pid_for_children"), ns_inode(getpid(), "pid_for_children"));
	gethostname(host_name, sizeof(host_name));
	strcat(host_name, "\n");
	run_in(sb.pid, "--uts hostname", out, sizeof(out));
	cr_expect_str_eq(out, host_name);
}
