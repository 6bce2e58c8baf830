/* rtnetlink through libmnl for pod networking: a socket bound to one network namespace, request
 * + ack and dumps with sequence checks, and small message builders (links, addresses, routes)
 * that tests can parse back without a kernel. IPv4 only. */
#ifndef SKIFF_AGENT_NET_NETLINK_H
#define SKIFF_AGENT_NET_NETLINK_H

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* The route protocol of every route the agent adds (iproute2 shows "proto 115"), so a resync
 * and a cleanup find exactly the agent's routes and never touch anyone else's. */
#define NL_RTPROT_SKIFF 115

struct nl {
	struct mnl_socket *sock;
	unsigned seq, portid;
};

/* Opens a rtnetlink socket in the namespace netns_fd (-1: the calling thread's). The socket
 * stays in that namespace whatever thread uses it later. */
int nl_open(struct nl *nl, int netns_fd);
void nl_close(struct nl *nl);

/* Sends one request (nlmsg_seq is set here) and waits for its ack: 0 or the kernel's -errno. */
int nl_talk(struct nl *nl, struct nlmsghdr *nlh);
/* Sends a dump request and hands every reply message to cb. */
int nl_dump(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

struct nl_route {
	struct in_addr dst; /* network, host bits zero */
	int dst_len;
	struct in_addr gw; /* INADDR_ANY: none */
	int oif;           /* 0: none */
	uint8_t type;      /* RTN_UNICAST, RTN_UNREACHABLE */
	uint8_t protocol;  /* NL_RTPROT_SKIFF for the agent's own */
};

/* Builders: each writes one request into buf (MNL_SOCKET_BUFFER_SIZE bytes). */
struct nlmsghdr *nl_msg_link_get(void *buf, const char *name);
/* A bridge with a fixed MAC (so the gateway's MAC does not follow its ports). */
struct nlmsghdr *nl_msg_bridge_add(void *buf, const char *name, const uint8_t mac[6]);
/* A veth pair: name here, peer named peer_name in the namespace peer_netns_fd. */
struct nlmsghdr *nl_msg_veth_add(void *buf, const char *name, const char *peer_name, int peer_netns_fd);
/* Link up, and enslaved to master when master > 0. */
struct nlmsghdr *nl_msg_link_set(void *buf, int ifindex, int master);
struct nlmsghdr *nl_msg_link_del(void *buf, int ifindex);
/* Hairpin mode on a bridge port: a frame may leave by the port it came in on (a pod reaching
 * its own Service and being DNATed back to itself, with br_netfilter on). */
struct nlmsghdr *nl_msg_brport_hairpin(void *buf, int ifindex);
/* RTM_NEWADDR (replacing an equal one) or RTM_DELADDR. */
struct nlmsghdr *nl_msg_addr(void *buf, uint16_t type, int ifindex, struct in_addr addr, int prefix_len);
/* RTM_NEWROUTE (create or replace) or RTM_DELROUTE, main table. */
struct nlmsghdr *nl_msg_route(void *buf, uint16_t type, const struct nl_route *rt);
/* A dump request of the main table's IPv4 routes. */
struct nlmsghdr *nl_msg_route_dump(void *buf);
/* One link by index (answered like a dump: one RTM_NEWLINK), and a dump of every link. */
struct nlmsghdr *nl_msg_link_get_index(void *buf, int ifindex);
struct nlmsghdr *nl_msg_link_dump(void *buf);
/* Dumps of every qdisc, and of the tc filters of ifindex under parent (a TC_H_MAKE handle). */
struct nlmsghdr *nl_msg_qdisc_dump(void *buf);
struct nlmsghdr *nl_msg_tc_filter_dump(void *buf, int ifindex, uint32_t parent);

/* Operations built on them; each returns 0 / ifindex, or -errno from the kernel. */
int nl_link_index(struct nl *nl, const char *name); /* -ENODEV when missing */
int nl_link_del_name(struct nl *nl, const char *name); /* 0 also when missing */
int nl_route_add(struct nl *nl, const struct nl_route *rt);
int nl_route_del(struct nl *nl, const struct nl_route *rt); /* 0 also when missing */

/* Calls cb for every IPv4 main-table route of the given protocol. */
int nl_route_list(struct nl *nl, uint8_t protocol, void (*cb)(void *ud, const struct nl_route *rt), void *ud);
/* A route message back into its parts (-EINVAL when not one); for dumps and tests. */
int nl_route_parse(const struct nlmsghdr *nlh, struct nl_route *ret);

#endif
