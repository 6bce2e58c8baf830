/* Host facts for the Node object: /proc/meminfo, /etc/os-release, /dev, /proc/net/route, uname. */
#include "node/facts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "gpu/discover.h"

int node_meminfo_total(const char *path, uint64_t *ret_bytes)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[256];
	unsigned long long kib;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1) {
			*ret_bytes = (uint64_t)kib * 1024;
			return 0;
		}
	return -ENODATA;
}

int node_os_image(const char *path, char **ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[512];

	if (f)
		while (fgets(line, sizeof(line), f)) {
			char *v, *end;

			if (strncmp(line, "PRETTY_NAME=", 12) != 0)
				continue;
			v = line + 12;
			v[strcspn(v, "\r\n")] = '\0';
			end = v + strlen(v);
			if (end > v + 1 && (*v == '"' || *v == '\'') && end[-1] == *v) {
				end[-1] = '\0';
				v++;
			}
			return (*ret = strdup(v)) ? 0 : -ENOMEM;
		}
	return (*ret = strdup("Linux")) ? 0 : -ENOMEM;
}

/* The GPU room's discovery (agent/gpu/discover.h) decides what counts as a GPU. */
int node_gpu_count(const char *spec, const char *dev_dir)
{
	struct gpu_set set;
	int r = gpu_discover(spec, dev_dir, &set);

	if (r < 0)
		return r;
	r = (int)gpu_count(&set);
	gpu_set_clear(&set);
	return r;
}

static char *iface_ipv4(const char *iface)
{
	struct ifaddrs *ifa, *i;
	char buf[INET_ADDRSTRLEN];
	char *out = NULL;

	if (getifaddrs(&ifa) < 0)
		return NULL;
	for (i = ifa; i && !out; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (iface ? strcmp(i->ifa_name, iface) != 0 : (i->ifa_flags & IFF_LOOPBACK) != 0)
			continue;
		if (inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof(buf)))
			out = strdup(buf);
	}
	freeifaddrs(ifa);
	return out;
}

/* The interface of the first 0.0.0.0/0 route, into iface (IFNAMSIZ). */
static int default_route_iface(const char *route_path, char *iface)
{
	_cleanup_fclose_ FILE *f = fopen(route_path, "re");
	char line[256], name[IFNAMSIZ];
	unsigned long dst, mask;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %lx %*x %*x %*d %*d %*d %lx", name, &dst, &mask) == 3 && dst == 0 &&
		    mask == 0) {
			memcpy(iface, name, IFNAMSIZ);
			return 0;
		}
	return -ENOENT;
}

int node_default_ip(const char *route_path, char **ret)
{
	char iface[IFNAMSIZ] = "";
	char *ip = NULL;

	if (default_route_iface(route_path, iface) == 0)
		ip = iface_ipv4(iface);
	if (!ip)
		ip = iface_ipv4(NULL);
	if (!ip)
		ip = strdup("127.0.0.1");
	if (!ip)
		return -ENOMEM;
	*ret = ip;
	return 0;
}

const char *node_arch_name(const char *machine)
{
	static const struct {
		const char *uname, *k8s;
	} map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" },
		{ "i686", "386" },     { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" },
	};

	for (size_t i = 0; i < ELEMENTSOF(map); i++)
		if (strcmp(machine, map[i].uname) == 0)
			return map[i].k8s;
	return machine;
}

int node_facts_collect(const struct agent_config *c, struct node_facts *ret)
{
	struct node_facts f = { .max_pods = c->max_pods };
	struct utsname u;
	int r;

	f.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (f.cpus < 1)
		f.cpus = 1;
	r = node_meminfo_total("/proc/meminfo", &f.mem_bytes);
	if (r < 0)
		return log_error_errno(r, "reading MemTotal from /proc/meminfo: %m");
	r = node_gpu_count(c->gpu_devices, "/dev");
	if (r < 0)
		return log_error_errno(r, "--gpu-devices %s: every path must be a GPU character device: %m",
				       c->gpu_devices);
	f.gpus = r;
	if (uname(&u) < 0)
		return -errno;
	f.name = strdup(c->node_name);
	f.hostname = strdup(u.nodename);
	f.kernel_version = strdup(u.release);
	f.architecture = strdup(node_arch_name(u.machine));
	r = node_os_image("/etc/os-release", &f.os_image);
	if (r >= 0)
		r = c->node_ip && *c->node_ip ? ((f.internal_ip = strdup(c->node_ip)) ? 0 : -ENOMEM)
					      : node_default_ip("/proc/net/route", &f.internal_ip);
	if (r < 0 || !f.name || !f.hostname || !f.kernel_version || !f.architecture) {
		node_facts_done(&f);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = f;
	return 0;
}

void node_facts_done(struct node_facts *f)
{
	free(f->name);
	free(f->internal_ip);
	free(f->hostname);
	free(f->kernel_version);
	free(f->os_image);
	free(f->architecture);
	*f = (struct node_facts){ 0 };
}
