/* skiff-agent's Service proxy as one piece: the data path of the configured mode, the sync's
 * watches, and the Node annotation skiff.io/proxy-mode naming the mode in use. */
#ifndef SKIFF_AGENT_PROXY_SYNC_RUN_H
#define SKIFF_AGENT_PROXY_SYNC_RUN_H

#include <stdatomic.h>

#include "api/client.h"

#define PROXY_MODE_ANNOTATION "skiff.io/proxy-mode"

struct proxy_run_options {
	const char *mode;        /* "auto", "bpf" or "nftables" */
	const char *pin_dir;     /* NULL: /sys/fs/bpf/skiff/<node> */
	const char *cgroup_path; /* where the BPF hooks attach: the pods' cgroup parent (absolute) */
	const char *node;
	const char *service_cidr; /* unknown VIPs in it are refused at once; NULL: none */
};

struct proxy_run;

/* Opens the data path (in the calling thread's network namespace) and starts the watches and
 * the annotation's write (retried until the Node exists) on threads that run until *stop.
 * NULL with errno (logged). */
struct proxy_run *proxy_run_start(const struct proxy_run_options *o, struct api_client *api, atomic_bool *stop);
/* "bpf" or "nftables". */
const char *proxy_run_mode(const struct proxy_run *p);
/* Joins the threads (after *stop) and frees; kernel state stays for the next agent. */
void proxy_run_free(struct proxy_run *p);

#endif
