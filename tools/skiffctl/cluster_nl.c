/* The links the cluster makes, on the agent's rtnetlink helpers (agent/net/netlink.h): veth
 * pairs across namespaces, the fabric bridge, links up, IPv4 addresses, and the check that no
 * host route overlaps a subnet we are about to use. */
#include <arpa/inet.h>
#include <errno.h>

#include "cluster.h"

int link_veth_add(struct nl *nl, const char *name, const char *peer, int peer_ns_fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_talk(nl, nl_msg_veth_add(buf, name, peer, peer_ns_fd));
}

int link_bridge_add(struct nl *nl, const char *name, unsigned seed)
{
	/* Locally administered, unicast, one per cluster subnet. */
	const uint8_t mac[6] = { 0x02, 's', 'k', 'f', (uint8_t)(seed >> 8), (uint8_t)seed };
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_talk(nl, nl_msg_bridge_add(buf, name, mac));
}

int link_up(struct nl *nl, const char *name, const char *master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int index = nl_link_index(nl, name), master_index = 0;

	if (index < 0)
		return index;
	if (master) {
		master_index = nl_link_index(nl, master);
		if (master_index < 0)
			return master_index;
	}
	return nl_talk(nl, nl_msg_link_set(buf, index, master_index));
}

int link_addr_add(struct nl *nl, const char *name, uint32_t addr, unsigned prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct in_addr a = { htonl(addr) };
	int index = nl_link_index(nl, name);

	if (index < 0)
		return index;
	return nl_talk(nl, nl_msg_addr(buf, RTM_NEWADDR, index, a, (int)prefix));
}

static uint32_t prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : ~0u << (32 - prefix);
}

struct overlap {
	uint32_t net;
	unsigned prefix;
	bool found;
};

static int route_overlap_cb(const struct nlmsghdr *nlh, void *data)
{
	struct overlap *o = data;
	struct nl_route rt;
	uint32_t mask;

	if (nl_route_parse(nlh, &rt) < 0 || rt.dst_len == 0)
		return MNL_CB_OK;
	/* Two prefixes overlap when they agree on the shorter one's bits. */
	mask = prefix_mask((unsigned)rt.dst_len < o->prefix ? (unsigned)rt.dst_len : o->prefix);
	if ((ntohl(rt.dst.s_addr) & mask) == (o->net & mask))
		o->found = true;
	return MNL_CB_OK;
}

int route_overlaps(struct nl *nl, uint32_t net, unsigned prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct overlap o = { net, prefix, false };
	int r = nl_dump(nl, nl_msg_route_dump(buf), route_overlap_cb, &o);

	if (r < 0)
		return r;
	return o.found ? 1 : 0;
}
