/* Fast path glue: what the tc programs need to know, read from the kernel through rtnetlink. */
#include "net/fastpath_node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <skiff/log.h>

#include "net/link.h"

struct link_info {
	int ifindex, master;
	uint8_t mac[6];
	bool has_mac;
	bool veth;          /* IFLA_INFO_KIND "veth" */
	bool other_netns;   /* IFLA_LINK_NETNSID: its peer lives in another namespace */
};

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct link_info *l = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		l->veth = strcmp(mnl_attr_get_str(a), "veth") == 0;
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct link_info *l = data;

	if (mnl_attr_get_type(a) == IFLA_MASTER && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		l->master = (int)mnl_attr_get_u32(a);
	if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		mnl_attr_parse_nested(a, linkinfo_cb, l);
	if (mnl_attr_get_type(a) == IFLA_LINK_NETNSID)
		l->other_netns = true;
	if (mnl_attr_get_type(a) == IFLA_ADDRESS && mnl_attr_get_payload_len(a) == 6) {
		memcpy(l->mac, mnl_attr_get_payload(a), 6);
		l->has_mac = true;
	}
	return MNL_CB_OK;
}

static int link_parse(const struct nlmsghdr *nlh, struct link_info *ret)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	*ret = (struct link_info){ 0 };
	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return -EINVAL;
	ret->ifindex = ifm->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, ret);
	return 0;
}

static int mac_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info l;

	if (link_parse(nlh, &l) == 0 && l.has_mac)
		*(struct link_info *)data = l;
	return MNL_CB_OK;
}

int net_link_mac(struct nl *nl, const char *name, uint8_t ret[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg_link_get(buf, name);
	struct link_info l = { 0 };
	int r;

	/* The ack ends the exchange after the one reply. */
	nlh->nlmsg_flags |= NLM_F_ACK;
	r = nl_dump(nl, nlh, mac_cb, &l);
	if (r < 0)
		return r;
	if (!l.has_mac)
		return -ENODEV;
	memcpy(ret, l.mac, 6);
	return 0;
}

static int link_by_index_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *want = data, l;

	if (link_parse(nlh, &l) == 0 && l.ifindex == want->ifindex)
		*want = l;
	return MNL_CB_OK;
}

/* Whether ifindex is a veth with its other end in another namespace. */
static bool veth_to_elsewhere(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct link_info l = { .ifindex = ifindex };

	return nl_dump(nl, nl_msg_link_get_index(buf, ifindex), link_by_index_cb, &l) == 0 && l.veth &&
	       l.other_netns;
}

int net_fastpath_pod_wire(struct net_fastpath *fp, struct nl *nl, const char *veth, const char *bridge,
			  int netns_fd, struct in_addr ip)
{
	uint8_t mac[6], gw_mac[6];
	struct nl pod = { 0 };
	int ifindex, r;

	ifindex = r = nl_link_index(nl, veth);
	if (r >= 0)
		r = net_link_mac(nl, bridge, gw_mac);
	if (r >= 0)
		r = nl_open(&pod, netns_fd);
	if (r >= 0) {
		r = net_link_mac(&pod, NET_POD_IFNAME, mac);
		nl_close(&pod);
	}
	return r < 0 ? r : net_fastpath_pod_add(fp, ifindex, ip, mac, gw_mac);
}

struct links {
	int *v;
	size_t n, cap;
	int master; /* links_cb: the ports of this bridge */
	int err;
};

static int links_add(struct links *ls, int ifindex)
{
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 16;
		int *v = realloc(ls->v, cap * sizeof(*v));

		if (!v) {
			ls->err = -ENOMEM;
			return MNL_CB_OK;
		}
		ls->v = v;
		ls->cap = cap;
	}
	ls->v[ls->n++] = ifindex;
	return MNL_CB_OK;
}

static int links_cb(const struct nlmsghdr *nlh, void *data)
{
	struct links *ls = data;
	struct link_info l;

	if (link_parse(nlh, &l) < 0 || (ls->master && l.master != ls->master))
		return MNL_CB_OK;
	return links_add(ls, l.ifindex);
}

static int links_list(struct nl *nl, struct links *ls)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int r = nl_dump(nl, nl_msg_link_dump(buf), links_cb, ls);

	return r < 0 ? r : ls->err;
}

static int clsact_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct links *ls = data;
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWQDISC || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*tcm)))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*tcm))
		if (mnl_attr_get_type(a) == TCA_KIND && strcmp(mnl_attr_get_str(a), "clsact") == 0)
			return links_add(ls, tcm->tcm_ifindex);
	return MNL_CB_OK;
}

/* Links with a clsact qdisc: only they can hold a filter (a detach elsewhere makes the kernel
 * complain through libbpf's log). */
static int clsact_links(struct nl *nl, struct links *ls)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int r = nl_dump(nl, nl_msg_qdisc_dump(buf), clsact_cb, ls);

	return r < 0 ? r : ls->err;
}

static bool holds(const struct links *ls, int ifindex)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i] == ifindex)
			return true;
	return false;
}

struct routes {
	struct nl_route *v;
	size_t n, cap;
	int err;
};

static void collect_route(void *ud, const struct nl_route *rt)
{
	struct routes *rs = ud;

	if (rt->type != RTN_UNICAST || !rt->gw.s_addr || rt->oif <= 0)
		return; /* the Service CIDR's unreachable route is the agent's too */
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct nl_route *v = realloc(rs->v, cap * sizeof(*v));

		if (!v) {
			rs->err = -ENOMEM;
			return;
		}
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *rt;
}

int net_fastpath_routes_sync(struct net_fastpath *fp, struct nl *nl)
{
	struct routes rs = { 0 };
	struct links qd = { 0 };
	int r = nl_route_list(nl, NL_RTPROT_SKIFF, collect_route, &rs), k, oif;

	if (r >= 0)
		r = rs.err;
	if (r >= 0)
		r = clsact_links(nl, &qd);
	for (size_t i = 0; r >= 0 && i < rs.n; i++) {
		oif = rs.v[i].oif;
		if ((k = net_fastpath_uplink(fp, oif, veth_to_elsewhere(nl, oif), holds(&qd, oif))) < 0)
			r = log_warn_errno(k, "fast path: program on uplink %d: %m", oif);
	}
	free(qd.v);
	/* Set even when an uplink failed: pods' packets out of the others are still fine. */
	if (rs.err >= 0 && (k = net_fastpath_remote_set(fp, rs.v, rs.n)) < 0 && r >= 0)
		r = k;
	free(rs.v);
	return r;
}

static int bpf_opt_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == TCA_BPF_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*(uint32_t *)data = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWTFILTER || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*tcm)) ||
	    tcm->tcm_handle != NET_FASTPATH_HANDLE || TC_H_MAJ(tcm->tcm_info) >> 16 != NET_FASTPATH_PRIO)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*tcm))
		if (mnl_attr_get_type(a) == TCA_OPTIONS)
			mnl_attr_parse_nested(a, bpf_opt_cb, data);
	return MNL_CB_OK;
}

/* The program of the fast path's filter on ifindex's ingress, by a filter dump (bpf_tc_query
 * makes the kernel log an error where there is none): 0 when none. */
static uint32_t filter_prog(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg_tc_filter_dump(buf, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	uint32_t id = 0;

	return nl_dump(nl, nlh, filter_cb, &id) < 0 ? 0 : id;
}

int net_fastpath_adopt(struct net_fastpath *fp, struct nl *nl, int bridge_index)
{
	struct links ls = { .master = bridge_index }, qd = { 0 };
	int r = links_list(nl, &ls), k;

	if (r >= 0)
		r = clsact_links(nl, &qd);
	/* First every earlier program's pods (each may be of another agent), then ours on each. */
	for (size_t i = 0; r >= 0 && i < ls.n; i++) {
		uint32_t prog = holds(&qd, ls.v[i]) ? filter_prog(nl, ls.v[i]) : 0;

		if (prog && (k = net_fastpath_recover(fp, prog, ls.v, ls.n)) < 0)
			log_warn_errno(k, "fast path: the pods an earlier agent knew (link %d): %m", ls.v[i]);
	}
	for (size_t i = 0; r >= 0 && i < ls.n; i++)
		if ((k = net_fastpath_pod_attach(fp, ls.v[i], holds(&qd, ls.v[i]))) < 0)
			r = k;
	free(ls.v);
	free(qd.v);
	return r;
}

int net_fastpath_detach_all(struct nl *nl, int netns_fd)
{
	struct links ls = { 0 };
	int r = clsact_links(nl, &ls), k;

	for (size_t i = 0; r >= 0 && i < ls.n; i++)
		if ((k = net_fastpath_detach(netns_fd, ls.v[i])) < 0)
			r = k;
	free(ls.v);
	return r;
}
