/* Container logs: the CRI line format, long lines split into partials, output written before
 * the process exits is all there, stdout/stderr tagged apart, rotation by size. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "lib/pods_kit.h"
#include "pods/logs.h"
#include "pods/mounts.h"

static char *dir, out[4096], err[4096], logp[4096];

static void setup(void)
{
	dir = pods_kit_tempdir("logs");
	snprintf(out, sizeof(out), "%s/c.stdout", dir);
	snprintf(err, sizeof(err), "%s/c.stderr", dir);
	snprintf(logp, sizeof(logp), "%s/pod/c/0.log", dir);
	cr_assert_eq(log_fifo_make(out), 0);
	cr_assert_eq(log_fifo_make(out), 0, "an existing FIFO is fine");
	cr_assert_eq(log_fifo_make(err), 0);
}

static void teardown(void)
{
	pods_kit_remove(dir);
	free(dir);
}

TestSuite(agent_logs, .init = setup, .fini = teardown, .timeout = 60);

Test(agent_logs, format)
{
	struct timespec ts = { .tv_sec = 1795860000, .tv_nsec = 123456789 };
	char buf[128];
	size_t n;

	n = log_format_cri(buf, sizeof(buf), &ts, "stdout", 'F', "hello", 5);
	buf[n] = '\0';
	cr_expect_str_eq(buf, "2026-11-28T10:00:00.123456789Z stdout F hello\n");
	/* Cut to fit, still one whole line. */
	n = log_format_cri(buf, 50, &ts, "stderr", 'P', "a long line that does not fit", 29);
	cr_expect_eq(n, 50);
	cr_expect_eq(strncmp(buf + 31, "stderr P a long li\n", 19), 0);
}

/* Forks a writer that opens the FIFOs as a container does, runs fn, and exits. */
static struct proc_id spawn_writer(void (*fn)(int o, int e), int gate)
{
	struct proc_id id;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int o = open(out, O_RDWR), e = open(err, O_RDWR);
		char c;

		if (read(gate, &c, 1) != 1)
			_exit(3);
		fn(o, e);
		_exit(0);
	}
	cr_assert_eq(proc_id_get(pid, &id), 0);
	return id;
}

static void write_some(int o, int e)
{
	static char big[40000];

	dprintf(o, "one\ntwo\n");
	dprintf(e, "warn\n");
	memset(big, 'x', sizeof(big));
	if (write(o, big, sizeof(big)) < 0)
		_exit(4);
	dprintf(o, "\nlast-no-newline");
}

static char *slurp(const char *path)
{
	char *s = NULL;

	cr_assert_eq(fs_read_file(path, &s), 0, "read %s", path);
	return s;
}

Test(agent_logs, lines_partials_and_streams)
{
	int gate[2];
	struct proc_id id;
	struct container_logger *l;
	_cleanup_free_ char *log = NULL;
	size_t p = 0, f = 0;
	int status;

	cr_assert_eq(pipe(gate), 0);
	id = spawn_writer(write_some, gate[0]);
	l = container_logger_start(out, err, logp, 0, &id);
	cr_assert(l, "start: %s", strerror(errno));
	cr_assert_eq(write(gate[1], "g", 1), 1);
	cr_assert_eq(waitpid(id.pid, &status, 0), id.pid);
	container_logger_finish(l);
	close(gate[0]);
	close(gate[1]);
	log = slurp(logp);
	cr_expect(strstr(log, "Z stdout F one\n"), "%s", log);
	cr_expect(strstr(log, "Z stdout F two\n"));
	cr_expect(strstr(log, "Z stderr F warn\n"));
	cr_expect(strstr(log, "Z stdout F last-no-newline\n"));
	/* 40,000 x: two 16 KiB partials, then the rest as the full line. */
	for (const char *s = log; (s = strstr(s, " stdout P ")); s++)
		p++;
	for (const char *s = log; (s = strstr(s, " stdout F x")); s++)
		f++;
	cr_expect_eq(p, 2, "partials %zu", p);
	cr_expect_eq(f, 1);
	cr_expect(strstr(log, "stdout F one\n") < strstr(log, "stdout F two\n"));
}

static void write_many(int o, int e)
{
	(void)e;
	for (int i = 0; i < 2000; i++)
		dprintf(o, "line %04d with some padding to make it longer\n", i);
}

Test(agent_logs, rotates_by_size)
{
	int gate[2];
	struct proc_id id;
	struct container_logger *l;
	_cleanup_free_ char *cur = NULL, *old = NULL;
	char oldp[4200];
	struct stat st;

	cr_assert_eq(pipe(gate), 0);
	id = spawn_writer(write_many, gate[0]);
	l = container_logger_start(out, err, logp, 16 * 1024, &id);
	cr_assert(l);
	cr_assert_eq(write(gate[1], "g", 1), 1);
	cr_assert_eq(waitpid(id.pid, NULL, 0), id.pid);
	container_logger_finish(l);
	close(gate[0]);
	close(gate[1]);
	snprintf(oldp, sizeof(oldp), "%s.1", logp);
	cr_assert_eq(stat(logp, &st), 0);
	cr_expect_lt(st.st_size, 16 * 1024 + 200);
	cr_assert_eq(stat(oldp, &st), 0, "no rotated file %s", oldp);
	cr_expect_lt(st.st_size, 16 * 1024 + 200);
	cur = slurp(logp);
	cr_expect(strstr(cur, "stdout F line 1999 with"), "last line not in the current file");
	old = slurp(oldp);
	cr_expect(!strstr(old, "line 1999 "));
}

Test(agent_logs, free_leaves_queued_output)
{
	int gate[2];
	struct proc_id id;
	struct container_logger *l;

	cr_assert_eq(pipe(gate), 0);
	id = spawn_writer(write_some, gate[0]);
	l = container_logger_start(out, err, logp, 0, &id);
	cr_assert(l);
	container_logger_free(l); /* the writer is still blocked on the gate */
	cr_assert_eq(write(gate[1], "g", 1), 1);
	close(gate[0]);
	close(gate[1]);
	/* The FIFOs are also open O_RDWR by the writer: it finishes without a reader (no SIGPIPE)
	 * until the pipe is full; 40 KiB is less than the 64 KiB pipe buffer. */
	{
		int status;

		cr_assert_eq(waitpid(id.pid, &status, 0), id.pid);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %#x", status);
	}
}

static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	cr_assert(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* One reader thread serves every logger; one stopped early leaves its output queued for the
 * next reader of the same FIFOs (an adopting agent), which gets all of it. */
Test(agent_logs, one_reader_for_all)
{
	struct container_logger *l[5];
	int gate[2], before;
	struct proc_id id;
	_cleanup_free_ char *log = NULL;

	cr_assert_eq(pipe(gate), 0);
	id = spawn_writer(write_some, gate[0]);
	/* The first logger of the process may start the thread: count after it. */
	l[0] = container_logger_start(out, err, logp, 0, &id);
	cr_assert(l[0], "start: %s", strerror(errno));
	before = task_count();
	for (int i = 1; i < 5; i++) {
		l[i] = container_logger_start(out, err, logp, 0, &id);
		cr_assert(l[i], "start: %s", strerror(errno));
	}
	cr_expect_eq(task_count(), before, "a thread per logger");
	for (int i = 0; i < 4; i++)
		container_logger_free(l[i]);
	cr_assert_eq(write(gate[1], "g", 1), 1);
	cr_assert_eq(waitpid(id.pid, NULL, 0), id.pid);
	container_logger_finish(l[4]);
	close(gate[0]);
	close(gate[1]);
	log = slurp(logp);
	cr_expect(strstr(log, "Z stdout F one\n"), "%s", log);
	cr_expect(strstr(log, "Z stderr F warn\n"));
	cr_expect(strstr(log, "Z stdout F last-no-newline\n"));
}
