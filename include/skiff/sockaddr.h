/* A numeric IPv4 or IPv6 address and a port as a sockaddr, for the daemons that bind or connect
 * (skiff-control's API server, the agent's endpoint, probes). */
#ifndef SKIFF_SOCKADDR_H
#define SKIFF_SOCKADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Fills *ret (zeroed first) and *ret_len; *ret_v6 (may be NULL) tells the family. -EINVAL when
 * host is no IP literal. */
int sockaddr_from_ip(const char *host, unsigned port, struct sockaddr_storage *ret, socklen_t *ret_len,
		     bool *ret_v6);

#endif
