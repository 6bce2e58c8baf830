/* Loading side of the eBPF Service data path: pinned maps created or re-adopted, the four
 * sock_addr programs attached to the cgroup through bpf links pinned beside the maps. */
#include "proxy/bpf_lb.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lb.skel.h"
#include "pods/mounts.h"
#include "proxy/bpf_lb_dp.h"
#include "skiff/cleanup.h"
#include "skiff/log.h"

static const char *const lb_map_names[] = {
	SKIFF_LB4_SVC_MAP,     SKIFF_LB4_BACKEND_MAP, SKIFF_LB4_REVNAT_MAP,
	SKIFF_LB4_REVSK_MAP,   SKIFF_LB4_AFFINITY_MAP, SKIFF_LB4_NODE_MAP,
};
/* The links are pinned under their program's name. */
static const char *const lb_link_names[] = {
	"skiff_lb4_connect", "skiff_lb4_sendmsg", "skiff_lb4_recvmsg", "skiff_lb4_getpeer",
};

static void skelp(struct skiff_lb **s)
{
	skiff_lb__destroy(*s);
}

static struct bpf_program *lb_prog(struct skiff_lb *skel, size_t i)
{
	struct bpf_program *progs[] = {
		skel->progs.skiff_lb4_connect,
		skel->progs.skiff_lb4_sendmsg,
		skel->progs.skiff_lb4_recvmsg,
		skel->progs.skiff_lb4_getpeer,
	};

	return progs[i];
}

static struct bpf_link **lb_link_slot(struct skiff_lb *skel, size_t i)
{
	struct bpf_link **links[] = {
		&skel->links.skiff_lb4_connect,
		&skel->links.skiff_lb4_sendmsg,
		&skel->links.skiff_lb4_recvmsg,
		&skel->links.skiff_lb4_getpeer,
	};

	return links[i];
}

static uint64_t link_cgroup_id(struct bpf_link *link)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) < 0)
		return 0;
	return info.type == BPF_LINK_TYPE_CGROUP ? info.cgroup.cgroup_id : 0;
}

/* Re-adopts the pinned link when it is on this cgroup (swapping in the new program), else
 * attaches a new link and pins it: a re-open never stacks a second copy. */
static int lb_attach_one(struct bpf_program *prog, int cg, uint64_t cg_id, const char *path,
			 struct bpf_link **ret)
{
	struct bpf_link *link = NULL;
	int r;

	/* Asked only when pinned: libbpf warns about every failed open. */
	if (access(path, F_OK) == 0)
		link = bpf_link__open(path);
	if (link) {
		if (link_cgroup_id(link) == cg_id && bpf_link__update_program(link, prog) == 0) {
			*ret = link;
			return 0;
		}
		bpf_link_detach(bpf_link__fd(link));
		bpf_link__destroy(link);
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	link = bpf_program__attach_cgroup(prog, cg);
	if (!link)
		return -errno;
	r = bpf_link__pin(link, path);
	if (r < 0) {
		bpf_link__destroy(link);
		return r;
	}
	*ret = link;
	return 0;
}

static int lb_attach(struct skiff_lb *skel, const char *pin_dir, const char *cgroup_path)
{
	_cleanup_close_ int cg = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char path[PATH_MAX];
	struct stat st;
	int r;

	if (cg < 0 || fstat(cg, &st) < 0)
		return -errno;
	for (size_t i = 0; i < ELEMENTSOF(lb_link_names); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, lb_link_names[i]);
		/* On cgroup2 a cgroup's id is its directory's inode number. */
		r = lb_attach_one(lb_prog(skel, i), cg, st.st_ino, path, lb_link_slot(skel, i));
		if (r < 0)
			return log_debug_errno(r, "bpf lb: attach %s to %s: %m", lb_link_names[i], cgroup_path);
	}
	return 0;
}

/* This node's IPv4 addresses (in the caller's network namespace) for NodePort; addresses no
 * longer present are dropped. Read once per open. */
static int lb_fill_node_addrs(int fd)
{
	struct ifaddrs *ifa = NULL;
	uint32_t key, next;
	void *prev = NULL;
	uint8_t one = 1;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		bool present = false;

		for (struct ifaddrs *i = ifa; i && !present; i = i->ifa_next)
			present = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
				  ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == next;
		if (!present && bpf_map_delete_elem(fd, &next) == 0)
			continue; /* the walk restarts from prev, which still exists */
		key = next;
		prev = &key;
	}
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		key = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		if (bpf_map_update_elem(fd, &key, &one, BPF_ANY) < 0) {
			int r = -errno;

			freeifaddrs(ifa);
			return r;
		}
	}
	freeifaddrs(ifa);
	return 0;
}

static void bpf_lb_free(struct bpf_lb *lb)
{
	if (!lb)
		return;
	if (lb->skel && lb->be_ids.used)
		bpf_lb_stale_purge(lb, true);
	free(lb->stale);
	/* Destroying a pinned link only closes our fd: the programs stay attached. */
	skiff_lb__destroy(lb->skel);
	bpf_lb_ids_free(&lb->be_ids);
	bpf_lb_ids_free(&lb->rnat_ids);
	free(lb->seen);
	free(lb);
}

static int lb_adopt(struct bpf_lb *lb)
{
	int r;

	lb->svc_fd = bpf_map__fd(lb->skel->maps.skiff_lb4_svc);
	lb->be_fd = bpf_map__fd(lb->skel->maps.skiff_lb4_be);
	lb->rnat_fd = bpf_map__fd(lb->skel->maps.skiff_lb4_rnat);
	lb->node_fd = bpf_map__fd(lb->skel->maps.skiff_lb4_node);
	r = bpf_lb_ids_init(&lb->be_ids, SKIFF_LB4_BACKEND_MAX);
	if (r == 0)
		r = bpf_lb_ids_init(&lb->rnat_ids, SKIFF_LB4_REVNAT_MAX);
	if (r < 0)
		return r;
	lb->seen = calloc(SKIFF_LB4_REVNAT_MAX / 64, sizeof(uint64_t));
	if (!lb->seen)
		return -ENOMEM;
	r = bpf_lb_ids_adopt(&lb->be_ids, lb->be_fd, sizeof(struct skiff_lb4_backend));
	if (r == 0)
		r = bpf_lb_ids_adopt(&lb->rnat_ids, lb->rnat_fd, sizeof(struct skiff_lb4_reverse_nat));
	return r;
}

/* The skeleton loaded with its maps pinned in (or re-adopted from) pin_dir. */
static int lb_load(const char *pin_dir, struct skiff_lb **ret)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct statfs sfs;
	struct skiff_lb *skel;
	int r;

	r = fs_mkdir_p(pin_dir, 0700);
	if (r < 0)
		return log_debug_errno(r, "bpf lb: mkdir %s: %m", pin_dir);
	if (statfs(pin_dir, &sfs) < 0)
		return -errno;
	if (sfs.f_type != BPF_FS_MAGIC)
		return log_debug_errno(-ENOTSUP, "bpf lb: %s is not on a bpf filesystem", pin_dir);
	skel = skiff_lb__open_opts(&opts);
	if (!skel)
		return -errno;
	/* Load re-adopts maps already pinned in pin_dir (libbpf checks their definition). */
	r = skiff_lb__load(skel);
	if (r < 0) {
		skiff_lb__destroy(skel);
		return r;
	}
	*ret = skel;
	return 0;
}

int bpf_lb_open(const char *pin_dir, const char *cgroup_path, void **ret_dp)
{
	char path[PATH_MAX];
	struct bpf_lb *lb;
	int r;

	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return -ENOMEM;
	r = lb_load(pin_dir, &lb->skel);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, SKIFF_LB4_SVC_MAP);
	if (r < 0 && r != -ENOTSUP && access(path, F_OK) == 0) {
		/* Pins of another map layout (an older build): nothing can use them. A warning, since
		 * the Services are gone until the caller's next full sync writes them again. */
		log_warn("bpf lb: the maps pinned in %s do not fit this build: replacing them", pin_dir);
		bpf_lb_detach(pin_dir, cgroup_path);
		r = lb_load(pin_dir, &lb->skel);
	}
	if (r == 0)
		r = lb_adopt(lb);
	if (r == 0)
		r = lb_attach(lb->skel, pin_dir, cgroup_path);
	if (r == 0)
		r = lb_fill_node_addrs(lb->node_fd);
	if (r < 0) {
		bpf_lb_free(lb);
		return r;
	}
	*ret_dp = lb;
	return 0;
}

void bpf_lb_close(void *dp)
{
	bpf_lb_free(dp);
}

int bpf_lb_detach(const char *pin_dir, const char *cgroup_path)
{
	char path[PATH_MAX];
	int r = 0;

	/* The links know their cgroup; cgroup_path only names it for the caller's messages. */
	(void)cgroup_path;
	for (size_t i = 0; i < ELEMENTSOF(lb_link_names); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, lb_link_names[i]);
		_cleanup_close_ int fd = bpf_obj_get(path);

		if (fd >= 0 && bpf_link_detach(fd) < 0 && r == 0)
			r = -errno;
		if (unlink(path) < 0 && errno != ENOENT && r == 0)
			r = -errno;
	}
	for (size_t i = 0; i < ELEMENTSOF(lb_map_names); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, lb_map_names[i]);
		if (unlink(path) < 0 && errno != ENOENT && r == 0)
			r = -errno;
	}
	/* Other rooms may pin their own objects here: an emptied dir only is removed. */
	if (rmdir(pin_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && r == 0)
		r = -errno;
	return r;
}

bool bpf_lb_supported(const char *cgroup_path)
{
	_cleanup_(skelp) struct skiff_lb *skel = skiff_lb__open();
	_cleanup_close_ int cg = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct bpf_map *map;
	struct statfs sfs;

	if (!skel || cg < 0 || fstatfs(cg, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return false;
	/* A probe pins nothing and needs no big maps. */
	bpf_object__for_each_map(map, skel->obj) {
		bpf_map__set_pin_path(map, NULL);
		bpf_map__set_max_entries(map, 1);
	}
	if (skiff_lb__load(skel) < 0)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(lb_link_names); i++) {
		*lb_link_slot(skel, i) = bpf_program__attach_cgroup(lb_prog(skel, i), cg);
		if (!*lb_link_slot(skel, i))
			return false;
	}
	return true; /* the links go with the skeleton: nothing stays attached */
}
