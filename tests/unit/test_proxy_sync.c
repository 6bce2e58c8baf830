/* Service routing sync against a fake data path that logs every lb_ops call: what a (re)list
 * and each Service/Endpoints event apply, frontends built from the objects (ports by name, TCP
 * and UDP, headless, affinity, traffic policies, NodePorts), and failures leading to a re-list. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/sync.h"
#include "proxy/sync_build.h"

static char calls[8192];
static int fail_commit;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	size_t n = strlen(calls);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(calls + n, sizeof(calls) - n, fmt, ap);
	va_end(ap);
}

static int f_begin(void *dp)
{
	(void)dp;
	logf_("begin;");
	return 0;
}

static int f_upsert(void *dp, const struct lb_service *s)
{
	char vip[INET_ADDRSTRLEN];

	(void)dp;
	inet_ntop(AF_INET, &s->vip, vip, sizeof(vip));
	logf_("upsert %s %s:%u/%s", s->name, vip, s->port, s->proto == IPPROTO_UDP ? "udp" : "tcp");
	if (s->affinity_timeout)
		logf_(" aff=%u", s->affinity_timeout);
	logf_(" [");
	for (size_t i = 0; i < s->n_backends; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &s->backends[i].addr, a, sizeof(a));
		logf_("%s%s:%u", i ? " " : "", a, s->backends[i].port);
	}
	logf_("];");
	return 0;
}

static int f_remove(void *dp, uint32_t vip, uint16_t port, uint8_t proto, bool node_port)
{
	char a[INET_ADDRSTRLEN];

	(void)dp;
	inet_ntop(AF_INET, &vip, a, sizeof(a));
	logf_("remove %s:%u/%s%s;", a, port, proto == IPPROTO_UDP ? "udp" : "tcp", node_port ? " np" : "");
	return 0;
}

static int f_commit(void *dp, bool prune)
{
	(void)dp;
	logf_("commit%s;", prune ? " prune" : "");
	return fail_commit ? -EIO : 0;
}

static const struct lb_ops fake = { "fake", f_begin, f_upsert, f_remove, f_commit, NULL };

static struct proxy_sync *s;

static void setup(void)
{
	calls[0] = '\0';
	fail_commit = 0;
	s = proxy_sync_new(&fake, NULL, "n1");
	cr_assert(s);
}

static void teardown(void)
{
	proxy_sync_free(s);
}

TestSuite(proxy_sync, .init = setup, .fini = teardown);

static json_object *J(const char *text)
{
	json_object *o = json_tokener_parse(text);

	cr_assert(o, "bad test JSON: %s", text);
	return o;
}

#define WEB_SVC(extra)                                                                                          \
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"clusterIP\":\"10.96.0.10\"," extra \
	"\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":\"web\"},"                                      \
	"{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53,\"targetPort\":5353}]}}"
#define WEB_EPS(addrs)                                                                                            \
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"subsets\":[{\"addresses\":[" addrs "],"         \
	"\"notReadyAddresses\":[{\"ip\":\"10.244.9.9\"}],\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":" \
	"\"TCP\"},{\"name\":\"dns\",\"port\":5353,\"protocol\":\"UDP\"}]}]}"
#define A1 "{\"ip\":\"10.244.1.5\",\"nodeName\":\"n1\"}"
#define A2 "{\"ip\":\"10.244.2.7\",\"nodeName\":\"n2\"}"

static void relist(const struct api_watch_ops *ops, const char *items)
{
	json_object *o = J(items);

	cr_assert_eq(ops->relist(s, o), 0);
	json_object_put(o);
}

static int event(const struct api_watch_ops *ops, const char *type, const char *obj)
{
	json_object *o = J(obj);
	int r = ops->event(s, type, o);

	json_object_put(o);
	return r;
}

static void expect(const char *want)
{
	cr_assert_str_eq(calls, want);
	calls[0] = '\0';
}

static void both_listed(const char *svc_extra, const char *addrs)
{
	char svcs[2048], eps[2048];

	snprintf(svcs, sizeof(svcs), "[" WEB_SVC("%s") "]", svc_extra);
	snprintf(eps, sizeof(eps), "[" WEB_EPS("%s") "]", addrs);
	relist(&proxy_sync_service_ops, svcs);
	cr_assert_str_eq(calls, "", "applied before the Endpoints were listed");
	relist(&proxy_sync_endpoints_ops, eps);
}

Test(proxy_sync, first_lists_give_one_pruning_batch_by_port_name)
{
	both_listed("", A2 "," A1);
	expect("begin;upsert default/web:http 10.96.0.10:80/tcp [10.244.1.5:8080 10.244.2.7:8080];"
	       "upsert default/web:dns 10.96.0.10:53/udp [10.244.1.5:5353 10.244.2.7:5353];commit prune;");
}

Test(proxy_sync, endpoint_added_upserts_only_changed_frontends)
{
	struct proxy_sync_stats st;

	both_listed("", A1);
	calls[0] = '\0';
	cr_assert_eq(event(&proxy_sync_endpoints_ops, "MODIFIED", WEB_EPS(A1 "," A2)), 0);
	expect("begin;upsert default/web:http 10.96.0.10:80/tcp [10.244.1.5:8080 10.244.2.7:8080];"
	       "upsert default/web:dns 10.96.0.10:53/udp [10.244.1.5:5353 10.244.2.7:5353];commit;");
	cr_assert_eq(event(&proxy_sync_endpoints_ops, "MODIFIED", WEB_EPS(A2 "," A1)), 0);
	expect(""); /* same set, other order: nothing to do */
	proxy_sync_get_stats(s, &st);
	cr_assert_eq(st.full, 1);
	cr_assert_eq(st.commits, 1);
}

Test(proxy_sync, other_services_are_not_touched)
{
	both_listed("", A1);
	calls[0] = '\0';
	cr_assert_eq(event(&proxy_sync_service_ops, "ADDED",
			   "{\"metadata\":{\"namespace\":\"b\",\"name\":\"db\"},\"spec\":{\"clusterIP\":\"10.96.0.20\","
			   "\"ports\":[{\"port\":5432}]}}"),
		     0);
	expect("begin;upsert b/db:5432 10.96.0.20:5432/tcp [];commit;");
	cr_assert_eq(event(&proxy_sync_endpoints_ops, "ADDED",
			   "{\"metadata\":{\"namespace\":\"b\",\"name\":\"db\"},\"subsets\":[{\"addresses\":[" A2 "],"
			   "\"ports\":[{\"port\":5433,\"protocol\":\"TCP\"}]}]}"),
		     0);
	expect("begin;upsert b/db:5432 10.96.0.20:5432/tcp [10.244.2.7:5433];commit;");
}

Test(proxy_sync, port_dropped_and_service_deleted_remove)
{
	both_listed("", A1);
	calls[0] = '\0';
	cr_assert_eq(event(&proxy_sync_service_ops, "MODIFIED",
			   "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"clusterIP\":"
			   "\"10.96.0.10\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}"),
		     0);
	expect("begin;remove 10.96.0.10:53/udp;commit;");
	cr_assert_eq(event(&proxy_sync_service_ops, "DELETED", WEB_SVC("")), 0);
	expect("begin;remove 10.96.0.10:80/tcp;commit;");
	cr_assert_eq(event(&proxy_sync_endpoints_ops, "DELETED", WEB_EPS(A1)), 0);
	expect("");
}

Test(proxy_sync, headless_gives_nothing)
{
	both_listed("\"clusterIP\":\"None\",", A1);
	expect("begin;commit prune;");
}

Test(proxy_sync, client_ip_affinity_default_and_set)
{
	both_listed("\"sessionAffinity\":\"ClientIP\",", A1);
	cr_assert(strstr(calls, "10.96.0.10:80/tcp aff=10800 ["), "%s", calls);
	calls[0] = '\0';
	cr_assert_eq(event(&proxy_sync_service_ops, "MODIFIED",
			   WEB_SVC("\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{\"clientIP\":"
				   "{\"timeoutSeconds\":60}},")),
		     0);
	cr_assert(strstr(calls, "10.96.0.10:80/tcp aff=60 ["), "%s", calls);
}

Test(proxy_sync, internal_traffic_policy_local_keeps_this_nodes_endpoints)
{
	both_listed("\"internalTrafficPolicy\":\"Local\",", A1 "," A2);
	expect("begin;upsert default/web:http 10.96.0.10:80/tcp [10.244.1.5:8080];"
	       "upsert default/web:dns 10.96.0.10:53/udp [10.244.1.5:5353];commit prune;");
}

Test(proxy_sync, node_port_frontends)
{
	relist(&proxy_sync_service_ops,
	       "[{\"metadata\":{\"namespace\":\"default\",\"name\":\"np\"},\"spec\":{\"type\":\"NodePort\","
	       "\"clusterIP\":\"10.96.0.30\",\"ports\":[{\"port\":80,\"nodePort\":30080}]}}]");
	relist(&proxy_sync_endpoints_ops, "[{\"metadata\":{\"namespace\":\"default\",\"name\":\"np\"},\"subsets\":"
					  "[{\"addresses\":[" A1 "],\"ports\":[{\"port\":8080}]}]}]");
	expect("begin;upsert default/np:80 10.96.0.30:80/tcp [10.244.1.5:8080];"
	       "upsert default/np:30080 0.0.0.0:30080/tcp [10.244.1.5:8080];commit prune;");
}

Test(proxy_sync, relist_prunes_and_failures_ask_for_a_relist)
{
	struct proxy_sync_stats st;
	json_object *o;

	both_listed("", A1);
	calls[0] = '\0';
	relist(&proxy_sync_service_ops, "[]");
	expect("begin;commit prune;");
	fail_commit = 1;
	o = J("[" WEB_SVC("") "]");
	cr_assert_lt(proxy_sync_service_ops.relist(s, o), 0, "a refused batch must fail the relist");
	json_object_put(o);
	fail_commit = 0;
	calls[0] = '\0';
	/* The data path has what the refused batch would have written only after a later success. */
	cr_assert_eq(event(&proxy_sync_endpoints_ops, "MODIFIED", WEB_EPS(A2)), 0);
	cr_assert(strstr(calls, "upsert default/web:http 10.96.0.10:80/tcp [10.244.2.7:8080];"), "%s", calls);
	proxy_sync_get_stats(s, &st);
	cr_assert_eq(st.failures, 1);
	cr_assert_eq(st.full, 2);
}

Test(proxy_sync, build_skips_unallocated_and_external_name)
{
	struct sync_fe_set set;
	json_object *o = J("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"type\":\"ExternalName\",\"clusterIP\":"
			   "\"10.96.0.9\",\"ports\":[{\"port\":80}]}}");

	cr_assert_eq(sync_build(o, NULL, "n1", &set), 0);
	cr_assert_eq(set.n, 0);
	json_object_put(o);
	o = J("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"ports\":[{\"port\":80}]}}");
	cr_assert_eq(sync_build(o, NULL, "n1", &set), 0);
	cr_assert_eq(set.n, 0);
	json_object_put(o);
}
