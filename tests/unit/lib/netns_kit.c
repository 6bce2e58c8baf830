/* Network namespace helpers of the unit tests (see netns_kit.h); each test makes and drops its
 * own namespaces, these only switch the calling thread in and back out. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns_kit.h"

int netns_kit_new(void)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd;

	cr_assert_geq(saved, 0);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(setns(saved, CLONE_NEWNET), 0);
	close(saved);
	cr_assert_geq(fd, 0);
	return fd;
}

int netns_kit_socket(int netns_fd, int type)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), s;

	cr_assert_eq(setns(netns_fd, CLONE_NEWNET), 0);
	s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	cr_assert_eq(setns(saved, CLONE_NEWNET), 0);
	close(saved);
	cr_assert_geq(s, 0, "socket: %s", strerror(errno));
	return s;
}

void netns_kit_sh(int netns_fd, const char *cmd, char *out, size_t size)
{
	char full[600];
	FILE *p;
	size_t n;

	if (netns_fd >= 0)
		snprintf(full, sizeof(full), "nsenter --net=/proc/%d/fd/%d sh -c '%s' 2>&1", getpid(), netns_fd, cmd);
	else
		snprintf(full, sizeof(full), "sh -c '%s' 2>&1", cmd);
	p = popen(full, "r");
	cr_assert(p, "popen %s", full);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s failed: %s", full, out);
}

const char *netns_kit_ip(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(AF_INET, &a, buf[i], INET_ADDRSTRLEN);
}

int netns_kit_listen(int netns_fd, struct in_addr ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = ip };
	int s = netns_kit_socket(netns_fd, SOCK_STREAM);

	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s: %s", netns_kit_ip(ip), strerror(errno));
	cr_assert_eq(listen(s, 4), 0);
	return s;
}

int netns_kit_tcp_connect(int from, int lsock, struct in_addr ip, int port, int *accepted)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = ip };
	int c = netns_kit_socket(from, SOCK_STREAM | SOCK_NONBLOCK), err = 0;
	struct pollfd p = { .fd = c, .events = POLLOUT };
	socklen_t len = sizeof(err);

	cr_assert(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS, "connect: %s",
		  strerror(errno));
	cr_assert_eq(poll(&p, 1, 5000), 1, "connect to %s:%d did not finish in 5 s", netns_kit_ip(ip), port);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	cr_assert_eq(err, 0, "connect to %s:%d: %s", netns_kit_ip(ip), port, strerror(err));
	*accepted = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(*accepted, 0, "accept: %s", strerror(errno));
	return c;
}
