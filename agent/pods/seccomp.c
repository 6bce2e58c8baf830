/* Docker's default seccomp policy as a deny list (see seccomp.h): the syscalls its allow list
 * leaves out for a container without extra capabilities. The program is exported from
 * libseccomp through a pipe once and kept, because libseccomp allocates and a child forked
 * from the multi-threaded agent must not. */
#include "pods/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

static const char *const denied[] = {
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
	"finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
	"kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages",
	"name_to_handle_at", "nfsservctl", "open_by_handle_at", "perf_event_open", "pivot_root",
	"process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot",
	"request_key", "set_mempolicy", "setns", "settimeofday", "stime", "swapon", "swapoff", "sysfs",
	"_sysctl", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	"io_uring_setup", "io_uring_enter", "io_uring_register", "syslog", "vhangup",
};

static struct sock_fprog program;
static int program_err;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int add_rules(scmp_filter_ctx ctx)
{
	int r;

	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0)
			return r;
	}
	/* New user namespaces through clone; clone3 passes its flags in memory a filter cannot
	 * read, so it answers ENOSYS and libc falls back to clone, as under Docker. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return r;
}

/* The exported program: the pipe carries sock_filter instructions. */
static int read_program(int fd)
{
	struct sock_filter *ins = NULL;
	size_t n = 0, cap = 0;
	ssize_t got;

	for (;;) {
		if (n == cap) {
			struct sock_filter *p = realloc(ins, (cap = cap ? cap * 2 : 256) * sizeof(*ins));

			if (!p) {
				free(ins);
				return -ENOMEM;
			}
			ins = p;
		}
		got = read(fd, (char *)ins + n * sizeof(*ins), (cap - n) * sizeof(*ins));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got / sizeof(*ins);
	}
	if (got < 0 || n == 0 || n > 0xffff) {
		free(ins);
		return got < 0 ? -errno : -EIO;
	}
	program.len = (unsigned short)n;
	program.filter = ins;
	return 0;
}

static void build(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int p[2] = { -1, -1 }, r;

	if (!ctx) {
		program_err = -ENOMEM;
		return;
	}
	/* The agent sets no_new_privs itself, in the child, before installing the program. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r >= 0)
		r = add_rules(ctx);
	if (r >= 0 && pipe2(p, O_CLOEXEC) < 0)
		r = -errno;
	/* A few KiB: the pipe's buffer holds all of it, so export cannot block before the read. */
	if (r >= 0)
		r = seccomp_export_bpf(ctx, p[1]);
	if (p[1] >= 0)
		close(p[1]);
	if (r >= 0)
		r = read_program(p[0]);
	if (p[0] >= 0)
		close(p[0]);
	seccomp_release(ctx);
	program_err = r < 0 ? r : 0;
	if (r < 0)
		log_error_errno(r, "seccomp: building the default container filter: %m");
}

int seccomp_default_program(const struct sock_fprog **ret)
{
	pthread_once(&once, build);
	if (program_err < 0)
		return program_err;
	*ret = &program;
	return 0;
}

int seccomp_install(const struct sock_fprog *prog)
{
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0 ? -errno : 0;
}
