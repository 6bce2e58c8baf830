/* Pod IPAM on disk: addresses from the podCIDR's second on, persisted across reopen, never handed
 * out twice (not even one whose file the table had not seen), freed, and the range's end. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/pods_kit.h"
#include "net/ipam.h"
#include "pods/mounts.h"

static char *dir;
static struct net_ipam *ipam;

static void init(void)
{
	dir = pods_kit_tempdir("ipam");
}

static void fini(void)
{
	net_ipam_free(ipam);
	ipam = NULL;
	pods_kit_remove(dir);
	free(dir);
}

TestSuite(agent_net_ipam, .init = init, .fini = fini);

static const char *alloc(const char *uid)
{
	static char buf[INET_ADDRSTRLEN];
	struct in_addr a;
	int r = net_ipam_allocate(ipam, uid, &a);

	cr_assert_eq(r, 0, "allocate %s: %s", uid, strerror(-r));
	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

static void reopen(const char *cidr)
{
	net_ipam_free(ipam);
	ipam = net_ipam_open(dir, cidr);
	cr_assert(ipam, "open %s: %s", cidr, strerror(errno));
}

static bool keep_a(void *ud, const char *uid)
{
	(void)ud;
	return strcmp(uid, "a") == 0;
}

Test(agent_net_ipam, allocate_persist_free)
{
	struct in_addr net, gw, a;
	int len;
	char path[600], *owner = NULL;

	reopen("10.244.3.0/24");
	net_ipam_network(ipam, &net, &len, &gw);
	cr_assert_eq(ntohl(gw.s_addr), 0x0af40301);
	cr_assert_eq(len, 24);
	cr_assert_str_eq(alloc("a"), "10.244.3.2");
	cr_assert_str_eq(alloc("b"), "10.244.3.3");
	cr_assert_str_eq(alloc("a"), "10.244.3.2", "the same pod keeps its address");
	snprintf(path, sizeof(path), "%s/10.244.3.3", dir);
	cr_assert_eq(fs_read_file(path, &owner), 0);
	cr_assert_str_eq(owner, "b");
	free(owner);
	reopen("10.244.3.0/24");
	cr_assert_eq(net_ipam_count(ipam), 2);
	cr_assert_eq(net_ipam_lookup(ipam, "b", &a), 0);
	cr_assert_eq(ntohl(a.s_addr), 0x0af40303);
	cr_assert_str_eq(alloc("c"), "10.244.3.4", "after a reopen no address is handed out twice");
	cr_assert_eq(net_ipam_release(ipam, "b"), 0);
	cr_assert_neq(access(path, F_OK), 0, "the freed address's file is gone");
	cr_assert_eq(net_ipam_release(ipam, "b"), 0);
	cr_assert_eq(net_ipam_lookup(ipam, "b", &a), -ENOENT);
	cr_assert_str_eq(alloc("d"), "10.244.3.5", "a freed address is reused as late as possible");
	cr_assert_eq(net_ipam_release_unless(ipam, keep_a, NULL), 2);
	cr_assert_eq(net_ipam_count(ipam), 1);
	reopen("10.244.3.0/24");
	cr_assert_eq(net_ipam_count(ipam), 1);
}

Test(agent_net_ipam, a_file_it_has_not_seen_is_never_shared)
{
	char path[600];

	reopen("10.244.3.0/24");
	/* Written behind the open table's back (a second agent on the same dir, a crash's race). */
	snprintf(path, sizeof(path), "%s/10.244.3.2", dir);
	cr_assert_eq(fs_write_file(path, "other", 0600), 0);
	cr_assert_str_eq(alloc("a"), "10.244.3.3");
}

Test(agent_net_ipam, range_end_and_other_cidrs)
{
	struct in_addr a;
	char path[600];

	/* A /29: .0 network, .1 gateway, .7 broadcast: five for pods. */
	reopen("10.244.3.0/29");
	for (int i = 0; i < 5; i++) {
		char uid[16];

		snprintf(uid, sizeof(uid), "p%d", i);
		alloc(uid);
	}
	cr_assert_eq(net_ipam_allocate(ipam, "p5", &a), -ENOSPC);
	/* A new podCIDR: the old one's files are dropped. */
	reopen("10.244.4.0/24");
	cr_assert_eq(net_ipam_count(ipam), 0);
	snprintf(path, sizeof(path), "%s/10.244.3.2", dir);
	cr_assert_neq(access(path, F_OK), 0);
	net_ipam_free(ipam);
	ipam = net_ipam_open(dir, "10.244.0.0/8");
	cr_assert_null(ipam, "an /8 is no node's block");
	cr_assert_null(net_ipam_open(dir, "nonsense"));
}
