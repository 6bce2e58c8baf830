/* The rtnetlink socket: opened inside a given network namespace, requests matched to their
 * replies by sequence number, errors returned as the kernel's -errno. */
#include "net/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>

/* Dumps of a busy routing table come in messages up to a page or two each. */
#define NL_RECV_SIZE 32768

int nl_open(struct nl *nl, int netns_fd)
{
	_cleanup_close_ int saved = -1;
	int r = 0;

	if (netns_fd >= 0) {
		saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (saved < 0)
			return -errno;
		/* A socket belongs to the namespace it was made in: make it there, then come back. */
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			return -errno;
	}
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		r = -errno;
	if (saved >= 0 && setns(saved, CLONE_NEWNET) < 0)
		abort(); /* this thread is stuck in another network: nothing it did next would be right */
	if (r < 0)
		return r;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl && nl->sock) {
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
	}
}

/* Sends nlh and runs cb over the replies until the ack, NLMSG_DONE or an error. */
static int exchange(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	_cleanup_free_ char *buf = malloc(NL_RECV_SIZE);
	unsigned seq = ++nl->seq;
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sock, buf, NL_RECV_SIZE);
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
	} while (r > MNL_CB_STOP);
	return r < 0 ? -errno : 0;
}

int nl_talk(struct nl *nl, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return exchange(nl, nlh, NULL, NULL);
}

int nl_dump(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	return exchange(nl, nlh, cb, data);
}

static int link_index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifm)))
		*(int *)data = ifm->ifi_index;
	return MNL_CB_OK;
}

int nl_link_index(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg_link_get(buf, name);
	int ifindex = 0, r;

	nlh->nlmsg_flags |= NLM_F_ACK;
	r = exchange(nl, nlh, link_index_cb, &ifindex);
	if (r < 0)
		return r;
	return ifindex > 0 ? ifindex : -ENODEV;
}

int nl_link_del_name(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ifindex = nl_link_index(nl, name), r;

	if (ifindex == -ENODEV)
		return 0;
	if (ifindex < 0)
		return ifindex;
	r = nl_talk(nl, nl_msg_link_del(buf, ifindex));
	return r == -ENODEV ? 0 : r;
}

int nl_route_add(struct nl *nl, const struct nl_route *rt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_talk(nl, nl_msg_route(buf, RTM_NEWROUTE, rt));
}

int nl_route_del(struct nl *nl, const struct nl_route *rt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int r = nl_talk(nl, nl_msg_route(buf, RTM_DELROUTE, rt));

	return r == -ESRCH ? 0 : r;
}

struct route_list {
	uint8_t protocol;
	void (*cb)(void *ud, const struct nl_route *rt);
	void *ud;
};

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_list *l = data;
	struct nl_route rt;

	if (nl_route_parse(nlh, &rt) == 0 && rt.protocol == l->protocol)
		l->cb(l->ud, &rt);
	return MNL_CB_OK;
}

int nl_route_list(struct nl *nl, uint8_t protocol, void (*cb)(void *ud, const struct nl_route *rt), void *ud)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct route_list l = { protocol, cb, ud };

	return nl_dump(nl, nl_msg_route_dump(buf), route_list_cb, &l);
}
