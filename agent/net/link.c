/* Links: the bridge that is every pod's gateway, and the veth pair that plugs a pod into it. */
#include "net/link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>


void net_veth_name(const char *uid, char ret[NET_VETH_NAME_LEN])
{
	size_t n = 0;

	strcpy(ret, "veth");
	for (const char *p = uid; *p && n < 8; p++)
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
			ret[4 + n++] = *p;
	while (n < 8)
		ret[4 + n++] = '0';
	ret[12] = '\0';
}

/* A locally administered unicast MAC from the seed's FNV-1a hash. */
static void seed_mac(const char *seed, uint8_t mac[6])
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = seed; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

int net_bridge_ensure(struct nl *nl, const char *name, struct in_addr gw, int len, const char *seed)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint8_t mac[6];
	int ifindex, r;

	seed_mac(seed, mac);
	r = nl_talk(nl, nl_msg_bridge_add(buf, name, mac));
	if (r < 0 && r != -EEXIST)
		return r;
	ifindex = nl_link_index(nl, name);
	if (ifindex < 0)
		return ifindex;
	r = nl_talk(nl, nl_msg_addr(buf, RTM_NEWADDR, ifindex, gw, len));
	if (r >= 0)
		r = nl_talk(nl, nl_msg_link_set(buf, ifindex, 0));
	return r < 0 ? r : ifindex;
}

/* Inside the pod: eth0 gets its address, comes up, and routes everything via the bridge. */
static int pod_side(int netns_fd, struct in_addr ip, int len, struct in_addr gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl pod = { 0 };
	struct nl_route def = { .gw = gw, .type = RTN_UNICAST, .protocol = RTPROT_BOOT };
	int ifindex, r;

	r = nl_open(&pod, netns_fd);
	if (r < 0)
		return r;
	ifindex = r = nl_link_index(&pod, NET_POD_IFNAME);
	if (r >= 0)
		r = nl_talk(&pod, nl_msg_addr(buf, RTM_NEWADDR, ifindex, ip, len));
	if (r >= 0)
		r = nl_talk(&pod, nl_msg_link_set(buf, ifindex, 0));
	if (r >= 0) {
		def.oif = ifindex;
		r = nl_route_add(&pod, &def);
	}
	nl_close(&pod);
	return r;
}

int net_veth_attach(struct nl *nl, int bridge, const char *host_name, int netns_fd, struct in_addr ip, int len,
		    struct in_addr gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ifindex, r;

	r = nl_talk(nl, nl_msg_veth_add(buf, host_name, NET_POD_IFNAME, netns_fd));
	if (r == -EEXIST) {
		/* Left by an attempt that failed half way (its pod is gone or being redone). */
		r = nl_link_del_name(nl, host_name);
		if (r >= 0)
			r = nl_talk(nl, nl_msg_veth_add(buf, host_name, NET_POD_IFNAME, netns_fd));
	}
	if (r < 0)
		return r;
	ifindex = r = nl_link_index(nl, host_name);
	if (r >= 0)
		r = nl_talk(nl, nl_msg_link_set(buf, ifindex, bridge));
	if (r >= 0)
		r = nl_talk(nl, nl_msg_brport_hairpin(buf, ifindex));
	if (r >= 0)
		r = pod_side(netns_fd, ip, len, gw);
	if (r < 0)
		nl_link_del_name(nl, host_name);
	return r;
}
