/* The pod network behind the real pod runtime: a busybox pod started through pod_runtime_start
 * with pod_network's hooks gets eth0 with its address (and reports it as podIP); its stop leaves
 * no veth and no allocated address. The test runs in a network namespace of its own. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skiff/json.h>

#include "lib/netns_kit.h"
#include "lib/pods_kit.h"
#include "net/pod_network.h"
#include "pods/image.h"
#include "pods/mounts.h"
#include "pods/runtime.h"

static char *base;
static struct pod_network *pn;
static struct pod_runtime *rt;
static char uid[64];

static char *path_in(const char *sub)
{
	char *p;

	cr_assert(asprintf(&p, "%s/%s", base, sub) > 0);
	return p;
}

static void setup(void)
{
	char *src, *root, *run, *logs, *net;
	struct runtime_config rc = { .pause_path = pods_kit_pause(), .node_name = "n1" };

	/* Criterion runs each test in its own process: this namespace dies with it. */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	base = pods_kit_tempdir("netrt");
	src = path_in("src");
	root = path_in("root");
	run = path_in("run");
	logs = path_in("logs");
	net = path_in("run/net");
	cr_assert_eq(mkdir(src, 0755), 0);
	pods_kit_busybox_rootfs(src);
	cr_assert_eq(image_import(root, "busybox", src, &(struct image_import_options){ 0 }), 0);
	pn = pod_network_new(&(struct pod_network_config){
		.node_name = "n1", .bridge = "skiff0", .service_cidr = "10.96.0.0/12", .state_dir = net });
	cr_assert(pn, "pod_network_new: %s", strerror(errno));
	cr_assert_eq(pod_network_set_pod_cidr(pn, "10.244.1.0/24"), 0);
	rc.root_dir = root;
	rc.run_dir = run;
	rc.log_dir = logs;
	pod_network_hooks(pn, &rc.network);
	rt = pod_runtime_new(&rc);
	cr_assert(rt, "pod_runtime_new: %s", strerror(errno));
	snprintf(uid, sizeof(uid), "5e7e1234-0000-4000-8000-%012d", getpid());
	free(src);
	free(root);
	free(run);
	free(logs);
	free(net);
}

static void teardown(void)
{
	if (rt)
		cr_expect_eq(pod_runtime_stop(rt, uid, 0), 0);
	pod_runtime_free(rt);
	pod_network_free(pn);
	cr_expect(!fs_has_mounts_below(base), "mounts left below %s", base);
	pods_kit_remove(base);
	free(base);
}

TestSuite(agent_net_runtime, .init = setup, .fini = teardown, .timeout = 120);

Test(agent_net_runtime, pod_gets_its_address_and_gives_it_back)
{
	char json[512], out[1024], cmd[600];
	_cleanup_json_ json_object *pod = NULL, *st = NULL;
	int netns;

	snprintf(json, sizeof(json),
		 "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns1\",\"uid\":\"%s\"},\"spec\":{\"containers\":"
		 "[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"/bin/sleep\",\"3600\"]}]}}", uid);
	pod = json_tokener_parse(json);
	cr_assert(pod);
	cr_assert_eq(pod_runtime_start(rt, pod), 0);
	cr_assert_eq(pod_runtime_status(rt, uid, &st), 0);
	cr_assert_str_eq(json_get_string(st, "podIP"), "10.244.1.2", "status: %s", json_object_to_json_string(st));
	netns = pod_runtime_netns_fd(rt, uid);
	cr_assert_geq(netns, 0);
	netns_kit_sh(netns, "ip -o -4 addr show dev eth0; ip route show default", out, sizeof(out));
	cr_assert(strstr(out, "inet 10.244.1.2/24"), "eth0 in the sandbox: %s", out);
	cr_assert(strstr(out, "default via 10.244.1.1"), "default route in the sandbox: %s", out);
	close(netns);
	cr_assert_eq(pod_runtime_stop(rt, uid, 0), 0);
	netns_kit_sh(-1, "ip -o link show type veth", out, sizeof(out));
	cr_assert_str_eq(out, "", "no veth after the stop: %s", out);
	snprintf(cmd, sizeof(cmd), "ls -A %s/run/net/ipam", base);
	netns_kit_sh(-1, cmd, out, sizeof(out));
	cr_assert_str_eq(out, "", "no address still allocated: %s", out);
}
