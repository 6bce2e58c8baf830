/* Exec probes: the command runs in the container through pod_exec_run (agent/pods/exec.h); its
 * output goes to a memfd, so a chatty command never blocks on a full pipe. */
#include "pods/probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "pods/exec.h"

/* The command's output, trailing newlines cut, as the failure's message. */
static void read_output(int fd, char *msg, size_t msg_size)
{
	ssize_t n = pread(fd, msg, msg_size - 1, 0);

	msg[n > 0 ? n : 0] = '\0';
	for (size_t l = strlen(msg); l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == '\r'); l--)
		msg[l - 1] = '\0';
}

int probe_exec_run(const struct probe_spec *spec, const struct probe_target *t, char *msg, size_t msg_size)
{
	_cleanup_close_ int out = -1;
	int code = -1, r;

	out = memfd_create("skiff-probe", MFD_CLOEXEC);
	if (out < 0)
		return -errno;
	r = pod_exec_run(t->rt, t->uid, t->container, spec->argv, -1, out, out, spec->timeout_s * 1000, &code);
	if (r == -ETIMEDOUT) {
		snprintf(msg, msg_size, "command \"%s\" timed out after %ds", spec->argv[0], spec->timeout_s);
		return 0;
	}
	if (r < 0) {
		snprintf(msg, msg_size, "running \"%s\": %s", spec->argv[0], strerror(-r));
		return r;
	}
	if (code == 0)
		return 1;
	read_output(out, msg, msg_size);
	if (!msg[0])
		snprintf(msg, msg_size, "command \"%s\" exited with %d", spec->argv[0], code);
	return 0;
}
