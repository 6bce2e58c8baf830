/* What the node reports about itself, read from the host: CPUs, memory, GPUs, addresses, OS. */
#ifndef SKIFF_AGENT_NODE_FACTS_H
#define SKIFF_AGENT_NODE_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "node/config.h"

struct node_facts {
	char *name;
	long cpus;           /* online CPUs */
	uint64_t mem_bytes;  /* MemTotal */
	long max_pods;
	int gpus;            /* nvidia.com/gpu */
	char *internal_ip;
	char *hostname;
	char *kernel_version;
	char *os_image;
	char *architecture;  /* GOARCH names: amd64, arm64 */
};

/* Reads everything from the host as the config says. 0 or -errno (logged by the caller). */
int node_facts_collect(const struct agent_config *c, struct node_facts *ret);
void node_facts_done(struct node_facts *f);

/* MemTotal of a /proc/meminfo-format file, in bytes. */
int node_meminfo_total(const char *path, uint64_t *ret_bytes);
/* PRETTY_NAME of an os-release file (quotes removed); "Linux" when it has none. */
int node_os_image(const char *path, char **ret);
/* nvidia.com/gpu from --gpu-devices through gpu_discover (agent/gpu/discover.h): "auto" counts
 * nvidia<N> character devices in dev_dir (NULL: /dev), a comma list must name character devices
 * (-ENODEV), "" means none. Returns the count or -errno. */
int node_gpu_count(const char *spec, const char *dev_dir);
/* The IPv4 address of the interface the default route leaves through (route_path is a
 * /proc/net/route file); falls back to the first non-loopback IPv4, then 127.0.0.1. */
int node_default_ip(const char *route_path, char **ret);
/* uname's machine as Kubernetes' architecture names it. */
const char *node_arch_name(const char *machine);

#endif
