/* skiffctl lb list: the eBPF Service maps pinned by an agent, in human form (one frontend with
 * its backends per block, as cilium bpf lb list), read straight from the pins. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "commands.h"
#include "lb_maps.h"

#define LB_PIN_BASE "/sys/fs/bpf/skiff"

struct lb_maps {
	int svc, be, rnat;
};

static void lb_maps_close(struct lb_maps *m)
{
	closep(&m->svc);
	closep(&m->be);
	closep(&m->rnat);
}

static int lb_open_map(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "skiffctl lb list: %s: %s (is an agent running in bpf proxy mode with this pin dir? "
				"pass --node or --pin-dir)\n", path, strerror(errno));
	return fd;
}

static int key_cmp(const void *a, const void *b)
{
	const struct skiff_lb4_key *x = a, *y = b;

	if (x->address != y->address)
		return ntohl(x->address) < ntohl(y->address) ? -1 : 1;
	if (x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	return (int)x->proto - (int)y->proto;
}

/* The slot-0 keys, sorted by address, port, protocol. */
static int lb_frontends(int svc_fd, struct skiff_lb4_key **ret, size_t *ret_n)
{
	struct skiff_lb4_key *keys = NULL, k, next, *grown;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(svc_fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (next.backend_slot != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(keys, cap * sizeof(*keys));
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		keys[n++] = next;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	*ret = keys;
	*ret_n = n;
	return 0;
}

static void lb_print_frontend(const struct lb_maps *m, struct skiff_lb4_key key)
{
	struct skiff_lb4_reverse_nat rn = { 0 };
	struct skiff_lb4_service v, slot;
	struct skiff_lb4_backend be;
	char fe[64], addr[INET_ADDRSTRLEN], flags[64] = "";

	if (bpf_map_lookup_elem(m->svc, &key, &v) < 0)
		return; /* removed while we read */
	bpf_map_lookup_elem(m->rnat, &v.rev_nat_id, &rn);
	inet_ntop(AF_INET, &key.address, addr, sizeof(addr));
	snprintf(fe, sizeof(fe), "%s:%u/%s", addr, key.dport, key.proto == IPPROTO_TCP ? "TCP" : "UDP");
	if (v.affinity_timeout)
		snprintf(flags, sizeof(flags), ", ClientIP affinity %us", v.affinity_timeout);
	printf("%-26s 0.0.0.0:0 (%u) (0) [%s%s%s] %s\n", fe, v.rev_nat_id,
	       v.flags & SKIFF_LB4_F_NODE_PORT ? "NodePort" : "ClusterIP", flags,
	       v.count ? "" : ", no backends: connect refused", rn.name);
	for (uint32_t i = 1; i <= v.count; i++) {
		key.backend_slot = (uint16_t)i;
		if (bpf_map_lookup_elem(m->svc, &key, &slot) < 0 ||
		    bpf_map_lookup_elem(m->be, &slot.backend_id, &be) < 0) {
			printf("%-26s (slot %u missing: mid-update) (%u) (%u)\n", "", i, v.rev_nat_id, i);
			continue;
		}
		inet_ntop(AF_INET, &be.address, addr, sizeof(addr));
		printf("%-26s %s:%u (%u) (%u)\n", "", addr, be.port, v.rev_nat_id, i);
	}
}

static int lb_list(const char *pin_dir)
{
	_cleanup_(lb_maps_close) struct lb_maps m = { -1, -1, -1 };
	_cleanup_free_ struct skiff_lb4_key *keys = NULL;
	size_t n = 0;

	m.svc = lb_open_map(pin_dir, SKIFF_LB4_SVC_MAP);
	m.be = m.svc < 0 ? -1 : lb_open_map(pin_dir, SKIFF_LB4_BACKEND_MAP);
	m.rnat = m.be < 0 ? -1 : lb_open_map(pin_dir, SKIFF_LB4_REVNAT_MAP);
	if (m.rnat < 0)
		return 1;
	if (lb_frontends(m.svc, &keys, &n) < 0) {
		fprintf(stderr, "skiffctl lb list: out of memory\n");
		return 1;
	}
	printf("%-26s %s\n", "SERVICE ADDRESS", "BACKEND ADDRESS (REVNAT_ID) (SLOT)");
	for (size_t i = 0; i < n; i++)
		lb_print_frontend(&m, keys[i]);
	return 0;
}

static int lb_usage(FILE *f)
{
	fprintf(f, "usage: skiffctl lb list [--node NAME] [--pin-dir DIR]\n"
		   "  Prints each Service frontend of the agent's eBPF maps with its backends.\n"
		   "  --node NAME   the agent's node (default: this host's name): pins in " LB_PIN_BASE "/NAME\n"
		   "  --pin-dir DIR the pin dir itself; a skiffctl cluster's node N pins in PINROOT/node-N, with\n"
		   "                PINROOT the pinRoot of the cluster's state.json (" LB_PIN_BASE "/CLUSTER when\n"
		   "                /sys/fs/bpf is a bpffs)\n");
	return f == stdout ? 0 : 2;
}

int skiffctl_lb(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char host[HOST_NAME_MAX + 1] = "", dir[PATH_MAX];
	const char *node = NULL, *pin_dir = NULL;
	int c;

	if (argc < 2 || strcmp(argv[1], "list") != 0)
		return lb_usage(argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr);
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': node = optarg; break;
		case 'p': pin_dir = optarg; break;
		case 'h': return lb_usage(stdout);
		default: return lb_usage(stderr);
		}
	}
	if (optind != argc - 1)
		return lb_usage(stderr);
	if (!pin_dir) {
		if (!node) {
			gethostname(host, sizeof(host) - 1);
			node = host;
		}
		snprintf(dir, sizeof(dir), LB_PIN_BASE "/%s", node);
		pin_dir = dir;
	}
	return lb_list(pin_dir);
}
