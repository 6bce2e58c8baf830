/* Shared helpers of the network namespace tests: namespaces as fds, sockets made inside them,
 * shell commands run in them, and address text for messages. All fail the test on error. */
#ifndef SKIFF_TEST_NETNS_KIT_H
#define SKIFF_TEST_NETNS_KIT_H

#include <netinet/in.h>
#include <stddef.h>

/* A fresh network namespace as an fd (a "pod" or a "node"), the calling thread staying where it is. */
int netns_kit_new(void);
/* An AF_INET socket of `type` (flags allowed) made inside the namespace netns_fd. */
int netns_kit_socket(int netns_fd, int type);
/* Output of a shell command run in netns_fd (-1: the caller's namespace); it must succeed. */
void netns_kit_sh(int netns_fd, const char *cmd, char *out, size_t size);
/* Dotted text of a; four calls' results stay valid at once (for one message). */
const char *netns_kit_ip(struct in_addr a);
/* A TCP socket in netns_fd bound to ip:port and listening. */
int netns_kit_listen(int netns_fd, struct in_addr ip, int port);
/* A TCP connection from a socket made in `from` to ip:port, where lsock listens (5 s bounded):
 * the client's fd (non-blocking), the accepted one in *accepted. */
int netns_kit_tcp_connect(int from, int lsock, struct in_addr ip, int port, int *accepted);

#endif
