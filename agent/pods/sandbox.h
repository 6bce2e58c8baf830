/* The pod sandbox: a skiff-pause process in new net, ipc, uts and pid namespaces whose
 * /proc/<pid>/ns/ entries are the pod's namespaces; process identity that survives pid reuse. */
#ifndef SKIFF_AGENT_PODS_SANDBOX_H
#define SKIFF_AGENT_PODS_SANDBOX_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A process named so that a recycled pid is not mistaken for it. */
struct proc_id {
	pid_t pid;
	uint64_t start_time; /* /proc/<pid>/stat field 22, clock ticks since boot */
};

int proc_id_get(pid_t pid, struct proc_id *ret);
/* Is this very process still running (not a zombie, not a newer process on the same pid)? */
bool proc_id_alive(const struct proc_id *id);
/* Sends sig; 0 as well when the process is already gone. */
int proc_id_kill(const struct proc_id *id, int sig);
/* Waits up to timeout_ms for the process to exit (-ETIMEDOUT), and reaps it when it is our
 * child, giving its wait status in *ret_status (-1 when it was not ours to reap). */
int proc_id_wait(const struct proc_id *id, int timeout_ms, int *ret_status);

/* In a forked child before execve: an empty signal mask and every disposition back to default
 * (an ignored SIGPIPE or a blocked SIGTERM of the agent's would otherwise reach the workload
 * across exec). Async-signal-safe. */
void proc_reset_signals(void);

/* fork() into a pid namespace: pidns_fd's, or a new one (PID 1 in it) when pidns_fd < 0.
 * Only the calling thread's pid_for_children is switched, and restored before returning. */
pid_t sandbox_fork_pidns(int pidns_fd);
/* The same, the child starting in the cgroup of cgroup_fd (an O_DIRECTORY fd; < 0: the caller's)
 * by clone3(CLONE_INTO_CGROUP), or moved there by cgroup.procs right after fork() where the kernel
 * lacks it. The child must stay async-signal-safe until execve (no atfork handlers ran). */
pid_t sandbox_clone_pidns(int pidns_fd, int cgroup_fd);

/* The namespaces a pod gets of its own unless it asks for the host's (hostNetwork keeps the
 * host's net and uts, hostIPC its ipc). The pid namespace is always new: pause is its PID 1. */
#define SANDBOX_NS_ALL (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* Starts pause_path as PID 1 of a new pid namespace and of the ns_flags (a subset of
 * SANDBOX_NS_ALL) namespaces: hostname set in a new uts, loopback up in a new net. */
int sandbox_start(const char *pause_path, const char *hostname, int ns_flags, struct proc_id *ret);
/* sandbox_start with pause started in the cgroup of cgroup_fd (< 0: none). */
int sandbox_start_in(const char *pause_path, const char *hostname, int ns_flags, int cgroup_fd, struct proc_id *ret);
/* Opens /proc/<pid>/ns/<ns> of a live sandbox (O_CLOEXEC). */
int sandbox_ns_open(const struct proc_id *id, const char *ns);
/* Sets lo up in the namespace of netns_fd over rtnetlink. */
int sandbox_loopback_up(int netns_fd);

#endif
