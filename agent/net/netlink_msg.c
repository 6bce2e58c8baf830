/* rtnetlink request builders (links, addresses, routes, tc dumps) and the route parser: pure functions
 * over a buffer, so tests check them by parsing back without a kernel. */
#include "net/netlink.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <string.h>

static struct nlmsghdr *put_header(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *nlh, int ifindex)
{
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return ifm;
}

struct nlmsghdr *nl_msg_link_get(void *buf, const char *name)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_GETLINK, 0);

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *nl_msg_bridge_add(void *buf, const char *name, const uint8_t mac[6])
{
	struct nlmsghdr *nlh = put_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info;

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

struct nlmsghdr *nl_msg_veth_add(void *buf, const char *name, const char *peer_name, int peer_netns_fd)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info, *data, *peer;

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow an ifinfomsg of their own, inside the nest. */
	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

struct nlmsghdr *nl_msg_link_set(void *buf, int ifindex, int master)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = put_ifinfo(nlh, ifindex);

	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return nlh;
}

struct nlmsghdr *nl_msg_brport_hairpin(void *buf, int ifindex)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_SETLINK, NLM_F_ACK);
	struct ifinfomsg *ifm = put_ifinfo(nlh, ifindex);
	struct nlattr *pi;

	/* A bridge port's own settings: family AF_BRIDGE, IFLA_PROTINFO nested. */
	ifm->ifi_family = AF_BRIDGE;
	pi = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(nlh, pi);
	return nlh;
}

struct nlmsghdr *nl_msg_link_del(void *buf, int ifindex)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_DELLINK, 0);

	put_ifinfo(nlh, ifindex);
	return nlh;
}

struct nlmsghdr *nl_msg_addr(void *buf, uint16_t type, int ifindex, struct in_addr addr, int prefix_len)
{
	struct nlmsghdr *nlh = put_header(buf, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	return nlh;
}

struct nlmsghdr *nl_msg_route(void *buf, uint16_t type, const struct nl_route *rt)
{
	struct nlmsghdr *nlh = put_header(buf, type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (uint8_t)rt->dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = rt->protocol;
	rtm->rtm_type = rt->type;
	/* A route straight out of an interface is link-scoped; via a gateway or unreachable, global. */
	rtm->rtm_scope = rt->oif && !rt->gw.s_addr && rt->type == RTN_UNICAST ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	if (type == RTM_DELROUTE)
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* the kernel's "any scope" for a delete */
	if (rt->dst_len > 0)
		mnl_attr_put(nlh, RTA_DST, sizeof(rt->dst), &rt->dst);
	if (rt->gw.s_addr)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(rt->gw), &rt->gw);
	if (rt->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
	return nlh;
}

struct nlmsghdr *nl_msg_route_dump(void *buf)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	return nlh;
}

struct nlmsghdr *nl_msg_link_get_index(void *buf, int ifindex)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_GETLINK, NLM_F_ACK);

	put_ifinfo(nlh, ifindex);
	return nlh;
}

struct nlmsghdr *nl_msg_link_dump(void *buf)
{
	struct nlmsghdr *nlh = put_header(buf, RTM_GETLINK, NLM_F_DUMP);

	put_ifinfo(nlh, 0);
	return nlh;
}

static struct nlmsghdr *tc_dump(void *buf, uint16_t type, int ifindex, uint32_t parent)
{
	struct nlmsghdr *nlh = put_header(buf, type, NLM_F_DUMP);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	return nlh;
}

struct nlmsghdr *nl_msg_qdisc_dump(void *buf)
{
	return tc_dump(buf, RTM_GETQDISC, 0, 0);
}

struct nlmsghdr *nl_msg_tc_filter_dump(void *buf, int ifindex, uint32_t parent)
{
	return tc_dump(buf, RTM_GETTFILTER, ifindex, parent);
}

static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_DST || type == RTA_GATEWAY) && mnl_attr_get_payload_len(a) != sizeof(struct in_addr))
		return MNL_CB_ERROR;
	if ((type == RTA_OIF || type == RTA_TABLE) && mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

int nl_route_parse(const struct nlmsghdr *nlh, struct nl_route *ret)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	struct nl_route rt = { 0 };

	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EINVAL;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET)
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb) < 0)
		return -EINVAL;
	if ((tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table) != RT_TABLE_MAIN)
		return -ENOENT;
	rt.dst_len = rtm->rtm_dst_len;
	rt.type = rtm->rtm_type;
	rt.protocol = rtm->rtm_protocol;
	if (tb[RTA_DST])
		memcpy(&rt.dst, mnl_attr_get_payload(tb[RTA_DST]), sizeof(rt.dst));
	if (tb[RTA_GATEWAY])
		memcpy(&rt.gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), sizeof(rt.gw));
	if (tb[RTA_OIF])
		rt.oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	*ret = rt;
	return 0;
}
