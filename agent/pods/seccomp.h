/* The default seccomp filter of every unprivileged container: what Docker's default profile
 * blocks (kernel modules, kexec, bpf, mount, new user namespaces, ptrace, keyrings, clock and
 * swap changes, ...) fails with EPERM. Compiled once with libseccomp into a classic BPF program,
 * so a freshly forked child installs it with one prctl and no allocation. */
#ifndef SKIFF_AGENT_PODS_SECCOMP_H
#define SKIFF_AGENT_PODS_SECCOMP_H

#include <linux/filter.h>

/* The program (built on first use, kept for the process's life). 0 or -errno (logged). */
int seccomp_default_program(const struct sock_fprog **ret);
/* Installs prog on the calling thread: needs no_new_privs or CAP_SYS_ADMIN. Async-signal-safe. */
int seccomp_install(const struct sock_fprog *prog);

#endif
