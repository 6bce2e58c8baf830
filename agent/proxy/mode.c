/* Proxy mode selection and the BPF mode's pair of data paths (socket hooks + nftables NodePort
 * DNAT) behind one lb_ops: every call goes to both, the first error is returned. */
#include "proxy/mode.h"

#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include <skiff/log.h>

#include "proxy/bpf_lb.h"
#include "proxy/nft_lb.h"

static const char *const names[] = {
	[PROXY_MODE_AUTO] = "auto",
	[PROXY_MODE_BPF] = "bpf",
	[PROXY_MODE_NFTABLES] = "nftables",
};

int proxy_mode_parse(const char *s, enum proxy_mode *ret)
{
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum proxy_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *proxy_mode_name(enum proxy_mode m)
{
	return (size_t)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

struct pair {
	void *bpf;
	struct nft_lb *nft;
};

static int pair_begin(void *dp)
{
	struct pair *p = dp;
	int r = bpf_lb_ops.begin(p->bpf), r2 = nft_lb_ops.begin(p->nft);

	return r < 0 ? r : r2;
}

static int pair_upsert(void *dp, const struct lb_service *svc)
{
	struct pair *p = dp;
	int r = bpf_lb_ops.upsert(p->bpf, svc), r2 = nft_lb_ops.upsert(p->nft, svc);

	return r < 0 ? r : r2;
}

static int pair_remove(void *dp, uint32_t vip, uint16_t port, uint8_t proto, bool node_port)
{
	struct pair *p = dp;
	int r = bpf_lb_ops.remove(p->bpf, vip, port, proto, node_port);
	int r2 = nft_lb_ops.remove(p->nft, vip, port, proto, node_port);

	return r < 0 ? r : r2;
}

static int pair_commit(void *dp, bool prune)
{
	struct pair *p = dp;
	int r = bpf_lb_ops.commit(p->bpf, prune), r2 = nft_lb_ops.commit(p->nft, prune);

	return r < 0 ? r : r2;
}

static void pair_close(void *dp)
{
	struct pair *p = dp;

	if (!p)
		return;
	bpf_lb_ops.close(p->bpf);
	nft_lb_ops.close(p->nft);
	free(p);
}

static const struct lb_ops pair_ops = {
	.name = "bpf",
	.begin = pair_begin,
	.upsert = pair_upsert,
	.remove = pair_remove,
	.commit = pair_commit,
	.close = pair_close,
};

/* nftables' side of either mode: the whole data path or (external_only) NodePorts. */
static struct nft_lb *nft_open(bool external_only, const char *service_cidr)
{
	struct nft_lb *lb = nft_lb_new(external_only);
	int r;

	if (!lb)
		return NULL;
	r = nft_lb_set_service_cidr(lb, service_cidr);
	if (r < 0) {
		log_error("proxy: service range \"%s\" is not an IPv4 CIDR", service_cidr);
		nft_lb_ops.close(lb);
		errno = -r;
		return NULL;
	}
	return lb;
}

static int open_bpf(const char *pin_dir, const char *cgroup_path, const char *service_cidr, struct proxy_dp *ret)
{
	struct pair *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->nft = nft_open(true, service_cidr);
	if (!p->nft) {
		r = -errno;
		free(p);
		return r;
	}
	r = bpf_lb_open(pin_dir, cgroup_path, &p->bpf);
	if (r < 0) {
		nft_lb_ops.close(p->nft);
		free(p);
		return log_error_errno(r, "proxy mode bpf: loading the socket hooks (pins %s, cgroup %s): %m", pin_dir,
				       cgroup_path);
	}
	*ret = (struct proxy_dp){ PROXY_MODE_BPF, &pair_ops, p };
	return 0;
}

static int open_nft(const char *pin_dir, const char *cgroup_path, const char *service_cidr, struct proxy_dp *ret)
{
	struct nft_lb *lb;
	int r;

	/* A BPF run's hooks would rewrite connect() before nftables ever saw the VIP. */
	r = bpf_lb_detach(pin_dir, cgroup_path);
	if (r < 0)
		log_warn_errno(r, "proxy mode nftables: clearing the BPF hooks pinned in %s: %m", pin_dir);
	lb = nft_open(false, service_cidr);
	if (!lb)
		return -errno;
	*ret = (struct proxy_dp){ PROXY_MODE_NFTABLES, &nft_lb_ops, lb };
	return 0;
}

/* Whether pins can live at path: its nearest existing ancestor is on a bpffs. */
static bool pinnable(const char *path)
{
	char buf[PATH_MAX], *slash;
	struct statfs sfs;

	snprintf(buf, sizeof(buf), "%s", path);
	while (statfs(buf, &sfs) < 0) {
		slash = strrchr(buf, '/');
		if (errno != ENOENT || !slash || slash == buf)
			return false;
		*slash = '\0';
	}
	return sfs.f_type == BPF_FS_MAGIC;
}

static enum proxy_mode pick(const char *pin_dir, const char *cgroup_path)
{
	if (!pinnable(pin_dir)) {
		log_info("proxy mode auto: nftables (%s is not on a bpffs: mount -t bpf bpf /sys/fs/bpf for the eBPF "
			 "socket hooks)", pin_dir);
		return PROXY_MODE_NFTABLES;
	}
	if (!bpf_lb_supported(cgroup_path)) {
		log_info("proxy mode auto: nftables (the eBPF socket hooks cannot be attached to %s)", cgroup_path);
		return PROXY_MODE_NFTABLES;
	}
	log_info("proxy mode auto: bpf (socket hooks on %s, pins in %s)", cgroup_path, pin_dir);
	return PROXY_MODE_BPF;
}

int proxy_dp_open(enum proxy_mode want, const char *pin_dir, const char *cgroup_path, const char *service_cidr,
		  struct proxy_dp *ret)
{
	if (want == PROXY_MODE_AUTO)
		want = pick(pin_dir, cgroup_path);
	if (want == PROXY_MODE_BPF)
		return open_bpf(pin_dir, cgroup_path, service_cidr, ret);
	return open_nft(pin_dir, cgroup_path, service_cidr, ret);
}

void proxy_dp_close(struct proxy_dp *p)
{
	if (p && p->ops) {
		p->ops->close(p->dp);
		*p = (struct proxy_dp){ 0 };
	}
}
