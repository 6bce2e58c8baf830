/* Node IPAM's arithmetic: a cluster CIDR split into equal node blocks. */
#include "controllers/nodeipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_cidr(const char *cidr, uint32_t *ret_addr, int *ret_len)
{
	char buf[IPAM_CIDR_LEN];
	const char *slash = cidr ? strchr(cidr, '/') : NULL;
	struct in_addr a;
	char *end;
	long len;

	if (!slash || (size_t)(slash - cidr) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, cidr, (size_t)(slash - cidr));
	buf[slash - cidr] = '\0';
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, buf, &a) != 1 || errno || *end || end == slash + 1 || len < 0 || len > 32)
		return -EINVAL;
	*ret_addr = ntohl(a.s_addr);
	*ret_len = (int)len;
	return 0;
}

static uint32_t mask_of(int len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
}

int ipam_range_parse(const char *cidr, int node_mask, struct ipam_range *ret)
{
	uint32_t addr;
	int len, rc;

	rc = parse_cidr(cidr, &addr, &len);
	if (rc < 0)
		return rc;
	/* At most 2^24 blocks: a bitmap of them stays small. */
	if (node_mask < len || node_mask < 1 || node_mask > 32 || node_mask - len > 24)
		return -EINVAL;
	*ret = (struct ipam_range){ .base = addr & mask_of(len),
				    .prefix = len,
				    .node_mask = node_mask,
				    .count = (size_t)1 << (node_mask - len) };
	return 0;
}

void ipam_cidr_at(const struct ipam_range *r, size_t i, char cidr[IPAM_CIDR_LEN], char net[IPAM_CIDR_LEN])
{
	uint32_t a = r->base + (uint32_t)((uint64_t)i << (32 - r->node_mask));
	struct in_addr in = { .s_addr = htonl(a) };
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	snprintf(cidr, IPAM_CIDR_LEN, "%s/%d", ip, r->node_mask);
	if (net)
		snprintf(net, IPAM_CIDR_LEN, "%s", ip);
}

int ipam_index_of(const struct ipam_range *r, const char *cidr, size_t *ret)
{
	uint32_t addr;
	int len;

	if (parse_cidr(cidr, &addr, &len) < 0 || len != r->node_mask || (addr & mask_of(r->prefix)) != r->base ||
	    (addr & ~mask_of(len)) != 0)
		return -ENOENT;
	*ret = (size_t)((uint64_t)(addr - r->base) >> (32 - r->node_mask));
	return 0;
}

int ipam_first_free(const struct ipam_range *r, const bool *used, size_t *ret)
{
	for (size_t i = 0; i < r->count; i++)
		if (!used[i]) {
			*ret = i;
			return 0;
		}
	return -ENOSPC;
}
