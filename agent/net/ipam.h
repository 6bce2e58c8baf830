/* Pod addresses out of the node's podCIDR, one file per allocation (<dir>/<ip> holding the pod
 * uid) so they survive agent restarts and a crash never hands an address out twice. */
#ifndef SKIFF_AGENT_NET_IPAM_H
#define SKIFF_AGENT_NET_IPAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_ipam;

/* "10.244.1.0/24" (a /16 to a /30): hands out from the second address (the first is the
 * bridge's, the gateway) to the one before the broadcast. Loads the allocations in dir (made if
 * missing); files for addresses outside cidr (an older podCIDR) are removed. NULL with errno. */
struct net_ipam *net_ipam_open(const char *dir, const char *cidr);
void net_ipam_free(struct net_ipam *ipam);

/* The cidr's network, length and gateway (its first address). */
void net_ipam_network(const struct net_ipam *ipam, struct in_addr *ret_net, int *ret_len, struct in_addr *ret_gw);

/* An address for uid: the one it already has, or the next free one after the last handed out
 * (so a freed address is reused as late as possible). -ENOSPC when the range is full. Not
 * thread-safe: the caller serializes. */
int net_ipam_allocate(struct net_ipam *ipam, const char *uid, struct in_addr *ret);
/* uid's address, or -ENOENT. */
int net_ipam_lookup(struct net_ipam *ipam, const char *uid, struct in_addr *ret);
/* Frees uid's address; 0 also when it has none. */
int net_ipam_release(struct net_ipam *ipam, const char *uid);
/* Frees every address whose uid keep() refuses (pods gone while the agent was away). Returns
 * how many were freed. */
int net_ipam_release_unless(struct net_ipam *ipam, bool (*keep)(void *ud, const char *uid), void *ud);
/* Addresses in use. */
size_t net_ipam_count(const struct net_ipam *ipam);

#endif
