/* Pod IPAM: an in-memory table of owners mirrored by one file per address; a file is made
 * complete under a temporary name and linked into place, so it exists whole or not at all and
 * link()'s EEXIST is the final word on who owns an address. */
#include "net/ipam.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "controllers/nodeipam.h"
#include "pods/mounts.h"

struct net_ipam {
	char *dir;
	uint32_t net; /* host order */
	int len;
	size_t size;   /* addresses in the block */
	char **owner;  /* uid per offset from net; NULL: free */
	size_t next;   /* where the next search starts */
	size_t count;
};

static void ip_text(uint32_t host, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = { .s_addr = htonl(host) };

	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static bool usable(const struct net_ipam *ipam, size_t off)
{
	return off >= 2 && off + 1 < ipam->size;
}

static int load_one(struct net_ipam *ipam, const char *name)
{
	_cleanup_free_ char *path = NULL, *uid = NULL;
	struct in_addr a;
	size_t off;
	int r;

	if (asprintf(&path, "%s/%s", ipam->dir, name) < 0)
		return -ENOMEM;
	if (inet_pton(AF_INET, name, &a) != 1)
		return name[0] == '.' ? (unlink(path), 0) : 0; /* a temp file from a crash, or not ours */
	off = ntohl(a.s_addr) - ipam->net;
	if (ntohl(a.s_addr) < ipam->net || !usable(ipam, off))
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	r = fs_read_file(path, &uid);
	if (r < 0)
		return r;
	uid[strcspn(uid, "\n")] = '\0';
	free(ipam->owner[off]);
	ipam->owner[off] = TAKE_PTR(uid);
	ipam->count++;
	return 0;
}

static int load(struct net_ipam *ipam)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	r = fs_mkdir_p(ipam->dir, 0700);
	if (r < 0)
		return r;
	d = opendir(ipam->dir);
	if (!d)
		return -errno;
	while (r >= 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = load_one(ipam, e->d_name);
	closedir(d);
	return r;
}

struct net_ipam *net_ipam_open(const char *dir, const char *cidr)
{
	struct net_ipam *ipam = calloc(1, sizeof(*ipam));
	struct ipam_range range;
	int r = -ENOMEM;

	if (!ipam)
		return NULL;
	/* A block of one "node" as wide as the CIDR itself gives its base and length. */
	r = ipam_range_parse(cidr, 32, &range);
	if (r < 0 || range.prefix < 16 || range.prefix > 30) {
		r = -EINVAL;
		goto fail;
	}
	ipam->net = range.base;
	ipam->len = range.prefix;
	ipam->size = range.count;
	ipam->next = 2;
	ipam->dir = strdup(dir);
	ipam->owner = calloc(ipam->size, sizeof(char *));
	r = ipam->dir && ipam->owner ? load(ipam) : -ENOMEM;
	if (r < 0)
		goto fail;
	return ipam;
fail:
	net_ipam_free(ipam);
	errno = -r;
	return NULL;
}

void net_ipam_free(struct net_ipam *ipam)
{
	if (!ipam)
		return;
	for (size_t i = 0; ipam->owner && i < ipam->size; i++)
		free(ipam->owner[i]);
	free(ipam->owner);
	free(ipam->dir);
	free(ipam);
}

void net_ipam_network(const struct net_ipam *ipam, struct in_addr *ret_net, int *ret_len, struct in_addr *ret_gw)
{
	ret_net->s_addr = htonl(ipam->net);
	*ret_len = ipam->len;
	ret_gw->s_addr = htonl(ipam->net + 1);
}

static bool find(const struct net_ipam *ipam, const char *uid, size_t *ret)
{
	for (size_t i = 2; i + 1 < ipam->size; i++)
		if (ipam->owner[i] && strcmp(ipam->owner[i], uid) == 0) {
			*ret = i;
			return true;
		}
	return false;
}

/* Claims offset off on disk: -EEXIST when a file is there already. */
static int claim(struct net_ipam *ipam, size_t off, const char *uid)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL;
	char ip[INET_ADDRSTRLEN];
	int r;

	ip_text(ipam->net + (uint32_t)off, ip);
	if (asprintf(&tmp, "%s/.%s.%d", ipam->dir, ip, getpid()) < 0 || asprintf(&path, "%s/%s", ipam->dir, ip) < 0)
		return -ENOMEM;
	r = fs_write_file(tmp, uid, 0600);
	if (r < 0)
		return r;
	r = link(tmp, path) < 0 ? -errno : 0;
	unlink(tmp);
	return r;
}

int net_ipam_allocate(struct net_ipam *ipam, const char *uid, struct in_addr *ret)
{
	size_t usable_n = ipam->size - 3, off;
	int r;

	if (find(ipam, uid, &off)) {
		ret->s_addr = htonl(ipam->net + (uint32_t)off);
		return 0;
	}
	for (size_t n = 0; n < usable_n; n++) {
		off = 2 + (ipam->next - 2 + n) % usable_n;
		if (ipam->owner[off])
			continue;
		r = claim(ipam, off, uid);
		if (r == -EEXIST)
			continue; /* someone else's file the table had not seen: never share it */
		if (r < 0)
			return r;
		ipam->owner[off] = strdup(uid);
		if (!ipam->owner[off])
			return -ENOMEM;
		ipam->count++;
		ipam->next = off + 1 < ipam->size - 1 ? off + 1 : 2;
		ret->s_addr = htonl(ipam->net + (uint32_t)off);
		return 0;
	}
	return -ENOSPC;
}

int net_ipam_lookup(struct net_ipam *ipam, const char *uid, struct in_addr *ret)
{
	size_t off;

	if (!find(ipam, uid, &off))
		return -ENOENT;
	ret->s_addr = htonl(ipam->net + (uint32_t)off);
	return 0;
}

static int release_at(struct net_ipam *ipam, size_t off)
{
	_cleanup_free_ char *path = NULL;
	char ip[INET_ADDRSTRLEN];

	ip_text(ipam->net + (uint32_t)off, ip);
	if (asprintf(&path, "%s/%s", ipam->dir, ip) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	free(ipam->owner[off]);
	ipam->owner[off] = NULL;
	ipam->count--;
	return 0;
}

int net_ipam_release(struct net_ipam *ipam, const char *uid)
{
	size_t off;

	return find(ipam, uid, &off) ? release_at(ipam, off) : 0;
}

int net_ipam_release_unless(struct net_ipam *ipam, bool (*keep)(void *ud, const char *uid), void *ud)
{
	int freed = 0, r;

	for (size_t i = 2; i + 1 < ipam->size; i++) {
		if (!ipam->owner[i] || keep(ud, ipam->owner[i]))
			continue;
		r = release_at(ipam, i);
		if (r < 0)
			return r;
		freed++;
	}
	return freed;
}

size_t net_ipam_count(const struct net_ipam *ipam)
{
	return ipam->count;
}
