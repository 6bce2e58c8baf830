/* Node IPAM: each node gets spec.podCIDR (and podCIDRs) carved out of the cluster CIDR,
 * one allocation key per block in the store (/registry/ranges/podcidrs/<network>) so the
 * assignment survives restarts and is released when the node goes. IPv4. */
#ifndef SKIFF_CONTROLLERS_NODEIPAM_H
#define SKIFF_CONTROLLERS_NODEIPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/registry.h"

#define IPAM_KEY_PREFIX "/registry/ranges/podcidrs/"
#define IPAM_CIDR_LEN 19 /* "255.255.255.255/32" + NUL */

struct ipam_range {
	uint32_t base; /* host order, masked */
	int prefix;    /* the cluster CIDR's length */
	int node_mask; /* each node's block length */
	size_t count;  /* blocks in the range */
};

/* "10.244.0.0/16" with node blocks of /node_mask. -EINVAL when not an IPv4 CIDR or the
 * node block is not inside it. */
int ipam_range_parse(const char *cidr, int node_mask, struct ipam_range *ret);
/* Block i as "10.244.3.0/24" (and the network alone, for the key, when net is not NULL). */
void ipam_cidr_at(const struct ipam_range *r, size_t i, char cidr[IPAM_CIDR_LEN], char net[IPAM_CIDR_LEN]);
/* Which block cidr is: 0, or -ENOENT when it is not one of the range's blocks. */
int ipam_index_of(const struct ipam_range *r, const char *cidr, size_t *ret);
/* The first block used[] leaves free, or -ENOSPC. */
int ipam_first_free(const struct ipam_range *r, const bool *used, size_t *ret);

struct nodeipam_controller;

struct nodeipam_controller *nodeipam_controller_start(struct registry *reg, const char *cluster_cidr,
						      int node_mask);
void nodeipam_controller_stop(struct nodeipam_controller *c);

#endif
