/* The scheduler's filters on JSON fixtures of nodes and pods: cordon, taints and
 * tolerations (readiness taints too), nodeSelector and required node affinity, resource
 * fit (init containers, sidecars, overhead, GPUs, pod count), host ports, and the
 * "0/N nodes are available" message in Kubernetes' wording and order. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

#include "scheduler/filter.h"
#include "scheduler/model.h"

static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "fixture is not JSON: %s", text);
	return o;
}

static struct sched_node *node_new(const char *text)
{
	json_object *o = parse(text);
	struct sched_node *n = calloc(1, sizeof(*n));

	cr_assert_not_null(n);
	cr_assert_eq(sched_node_parse(o, n), 0);
	json_object_put(o);
	return n;
}

static struct sched_pod *pod_new(const char *text)
{
	json_object *o = parse(text);
	struct sched_pod *p = sched_pod_parse(o);

	cr_assert_not_null(p);
	json_object_put(o);
	return p;
}

#define READY "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]"
#define ALLOC "\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\"}"
#define NODE(name, spec) \
	"{\"metadata\":{\"name\":\"" name "\",\"labels\":{\"zone\":\"a\",\"disk\":\"ssd\",\"cores\":\"8\"}}," \
	"\"spec\":" spec ",\"status\":{" READY "," ALLOC "}}"
#define POD(spec) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":" spec "}"
#define C1 "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]"

static bool fits(const char *node, const char *pod, struct sched_verdict *v)
{
	struct sched_node *n = node_new(node);
	struct sched_pod *p = pod_new(pod);
	bool r = sched_filter(p, n, v);

	sched_pod_free(p);
	sched_node_free(n);
	return r;
}

Test(scheduler_filter, plain_pod_fits_ready_node)
{
	struct sched_verdict v;

	cr_assert(fits(NODE("n1", "{}"), POD("{" C1 "}"), &v));
	cr_assert_eq(v.fail, SCHED_FIT);
}

Test(scheduler_filter, cordoned_node_rejects_unless_tolerated)
{
	struct sched_verdict v;

	cr_assert_not(fits(NODE("n1", "{\"unschedulable\":true}"), POD("{" C1 "}"), &v));
	cr_assert_eq(v.fail, SCHED_FAIL_UNSCHEDULABLE);
	cr_assert(fits(NODE("n1", "{\"unschedulable\":true}"),
		       POD("{" C1 ",\"tolerations\":[{\"key\":\"node.kubernetes.io/unschedulable\",\"operator\":\"Exists\","
			   "\"effect\":\"NoSchedule\"}]}"),
		       &v));
}

#define TAINTED NODE("n1", "{\"taints\":[{\"key\":\"gpu\",\"value\":\"yes\",\"effect\":\"NoSchedule\"}]}")

Test(scheduler_filter, untolerated_taint_names_key_and_value)
{
	struct sched_node *n = node_new(TAINTED);
	struct sched_pod *p = pod_new(POD("{" C1 "}"));
	struct sched_verdict v;

	cr_assert_not(sched_filter(p, n, &v));
	cr_assert_eq(v.fail, SCHED_FAIL_TAINT);
	cr_assert_str_eq(v.taint_key, "gpu");
	cr_assert_str_eq(v.taint_value, "yes");
	sched_pod_free(p);
	sched_node_free(n);
}

Test(scheduler_filter, tolerations_equal_exists_and_effect)
{
	struct sched_verdict v;

	cr_assert(fits(TAINTED, POD("{" C1 ",\"tolerations\":[{\"key\":\"gpu\",\"value\":\"yes\"}]}"), &v));
	cr_assert(fits(TAINTED, POD("{" C1 ",\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}"), &v));
	cr_assert(fits(TAINTED, POD("{" C1 ",\"tolerations\":[{\"operator\":\"Exists\"}]}"), &v));
	cr_assert(fits(TAINTED, POD("{" C1 ",\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Equal\",\"value\":\"yes\","
				    "\"effect\":\"NoSchedule\"}]}"),
		       &v));
	cr_assert_not(fits(TAINTED, POD("{" C1 ",\"tolerations\":[{\"key\":\"gpu\",\"value\":\"no\"}]}"), &v));
	cr_assert_not(fits(TAINTED, POD("{" C1 ",\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Exists\","
					"\"effect\":\"NoExecute\"}]}"),
			   &v));
	cr_assert_not(fits(TAINTED, POD("{" C1 ",\"tolerations\":[{\"key\":\"other\",\"operator\":\"Exists\"}]}"), &v));
}

Test(scheduler_filter, no_execute_rejects_and_prefer_no_schedule_does_not)
{
	struct sched_verdict v;

	cr_assert_not(fits(NODE("n1", "{\"taints\":[{\"key\":\"k\",\"effect\":\"NoExecute\"}]}"), POD("{" C1 "}"), &v));
	cr_assert_eq(v.fail, SCHED_FAIL_TAINT);
	cr_assert(fits(NODE("n1", "{\"taints\":[{\"key\":\"k\",\"effect\":\"PreferNoSchedule\"}]}"), POD("{" C1 "}"), &v));
}

#define NODE_READY(status) \
	"{\"metadata\":{\"name\":\"n1\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"" status \
	"\"}]," ALLOC "}}"

Test(scheduler_filter, not_ready_and_unreachable_nodes_carry_their_taints)
{
	struct sched_verdict v;

	cr_assert_not(fits(NODE_READY("False"), POD("{" C1 "}"), &v));
	cr_assert_eq(v.fail, SCHED_FAIL_TAINT);
	cr_assert_str_eq(v.taint_key, "node.kubernetes.io/not-ready");
	cr_assert_not(fits(NODE_READY("Unknown"), POD("{" C1 "}"), &v));
	cr_assert_str_eq(v.taint_key, "node.kubernetes.io/unreachable");
	cr_assert_not(fits("{\"metadata\":{\"name\":\"n1\"},\"status\":{" ALLOC "}}", POD("{" C1 "}"), &v));
	cr_assert_str_eq(v.taint_key, "node.kubernetes.io/not-ready");
	cr_assert(fits(NODE_READY("False"),
		       POD("{" C1 ",\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
			   "\"effect\":\"NoSchedule\"}]}"),
		       &v));
	/* The default NoExecute toleration of every pod does not tolerate NoSchedule, also when
	 * the node lifecycle controller wrote the NoExecute taint. */
	cr_assert_not(fits("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/"
			   "unreachable\",\"effect\":\"NoExecute\"}]},\"status\":{\"conditions\":[{\"type\":\"Ready\","
			   "\"status\":\"Unknown\"}]," ALLOC "}}",
			   POD("{" C1 ",\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
			       "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]}"),
			   &v));
	cr_assert_str_eq(v.taint_key, "node.kubernetes.io/unreachable");
	cr_assert_not(fits(NODE_READY("Unknown"),
			   POD("{" C1 ",\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
			       "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]}"),
			   &v));
}

Test(scheduler_filter, node_selector)
{
	struct sched_verdict v;

	cr_assert(fits(NODE("n1", "{}"), POD("{" C1 ",\"nodeSelector\":{\"zone\":\"a\",\"disk\":\"ssd\"}}"), &v));
	cr_assert_not(fits(NODE("n1", "{}"), POD("{" C1 ",\"nodeSelector\":{\"zone\":\"b\"}}"), &v));
	cr_assert_eq(v.fail, SCHED_FAIL_AFFINITY);
	cr_assert_not(fits(NODE("n1", "{}"), POD("{" C1 ",\"nodeSelector\":{\"gpu\":\"a\"}}"), &v));
}

#define AFF(terms) \
	POD("{" C1 ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":" \
	    "{\"nodeSelectorTerms\":" terms "}}}}")
#define EXPR(key, op, vals) "{\"key\":\"" key "\",\"operator\":\"" op "\",\"values\":" vals "}"

Test(scheduler_filter, required_node_affinity_operators)
{
	struct sched_verdict v;

	cr_assert(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("zone", "In", "[\"a\",\"b\"]") "]}]"), &v));
	cr_assert_not(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("zone", "In", "[\"b\"]") "]}]"), &v));
	cr_assert_eq(v.fail, SCHED_FAIL_AFFINITY);
	cr_assert(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("zone", "NotIn", "[\"b\"]") "]}]"), &v));
	cr_assert_not(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("zone", "NotIn", "[\"a\"]") "]}]"), &v));
	cr_assert(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("gpu", "NotIn", "[\"a\"]") "]}]"), &v));
	cr_assert(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("disk", "Exists", "[]") "]}]"), &v));
	cr_assert_not(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("gpu", "Exists", "[]") "]}]"), &v));
	cr_assert(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("gpu", "DoesNotExist", "[]") "]}]"), &v));
	cr_assert_not(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("disk", "DoesNotExist", "[]") "]}]"),
			   &v));
	cr_assert(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("cores", "Gt", "[\"4\"]") "]}]"), &v));
	cr_assert_not(fits(NODE("n1", "{}"), AFF("[{\"matchExpressions\":[" EXPR("cores", "Lt", "[\"4\"]") "]}]"), &v));
}

Test(scheduler_filter, affinity_terms_or_expressions_and)
{
	struct sched_verdict v;

	/* Terms are ORed. */
	cr_assert(fits(NODE("n1", "{}"),
		       AFF("[{\"matchExpressions\":[" EXPR("zone", "In", "[\"b\"]") "]},"
			   "{\"matchExpressions\":[" EXPR("disk", "In", "[\"ssd\"]") "]}]"),
		       &v));
	/* Expressions in a term are ANDed. */
	cr_assert_not(fits(NODE("n1", "{}"),
			   AFF("[{\"matchExpressions\":[" EXPR("zone", "In", "[\"a\"]") "," EXPR("disk", "In", "[\"hdd\"]") "]}]"),
			   &v));
	/* matchFields on metadata.name. */
	cr_assert(fits(NODE("n1", "{}"), AFF("[{\"matchFields\":[" EXPR("metadata.name", "In", "[\"n1\"]") "]}]"), &v));
	cr_assert_not(fits(NODE("n1", "{}"), AFF("[{\"matchFields\":[" EXPR("metadata.name", "In", "[\"n2\"]") "]}]"), &v));
	/* An empty term matches nothing. */
	cr_assert_not(fits(NODE("n1", "{}"), AFF("[{}]"), &v));
}

#define RES(cpu, mem) "\"resources\":{\"requests\":{\"cpu\":\"" cpu "\",\"memory\":\"" mem "\"}}"

Test(scheduler_filter, resource_fit_against_allocatable_minus_requested)
{
	struct sched_node *n = node_new(NODE("n1", "{}"));
	struct sched_pod *big = pod_new(POD("{\"containers\":[{\"name\":\"c\"," RES("3", "1Gi") "}]}"));
	struct sched_verdict v;

	cr_assert(sched_filter(big, n, &v));
	sched_node_add_pod(n, big);
	cr_assert_not(sched_filter(big, n, &v));
	cr_assert_eq(v.fail, SCHED_FAIL_RESOURCES);
	cr_assert_eq(v.insufficient, 1u << SCHED_RES_CPU);
	cr_assert_not(v.too_many_pods);
	sched_node_remove_pod(n, big);
	cr_assert(sched_filter(big, n, &v));
	sched_pod_free(big);
	sched_node_free(n);
}

Test(scheduler_filter, init_containers_count_as_kubernetes_counts_them)
{
	/* max(sum of containers 1+1, max of init containers 3) + overhead 500m = 3.5 cpu. */
	struct sched_pod *p = pod_new(POD("{\"containers\":[{\"name\":\"a\"," RES("1", "1Mi") "},{\"name\":\"b\"," RES(
		"1", "1Mi") "}],\"initContainers\":[{\"name\":\"i\"," RES("3", "1Mi") "},{\"name\":\"j\"," RES("2", "5Mi") "}],"
			  "\"overhead\":{\"cpu\":\"500m\"}}"));

	cr_assert_eq(p->req.v[SCHED_RES_CPU], 3500);
	cr_assert_eq(p->req.v[SCHED_RES_MEMORY], 5 * 1024 * 1024);
	sched_pod_free(p);
}

Test(scheduler_filter, sidecars_add_to_containers_and_later_inits)
{
	/* Sidecar 1 cpu runs beside the containers (2) and the later init container (1+2=3). */
	struct sched_pod *p = pod_new(POD("{\"containers\":[{\"name\":\"a\"," RES("2", "1Mi") "}],"
					  "\"initContainers\":[{\"name\":\"s\",\"restartPolicy\":\"Always\"," RES("1", "1Mi") "},"
					  "{\"name\":\"i\"," RES("2", "1Mi") "}]}"));

	cr_assert_eq(p->req.v[SCHED_RES_CPU], 3000);
	sched_pod_free(p);
}

Test(scheduler_filter, limits_only_request_the_limit_and_scores_use_defaults)
{
	struct sched_pod *p = pod_new(POD("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"250m\"}}}]}"));

	cr_assert_eq(p->req.v[SCHED_RES_CPU], 250);
	cr_assert_eq(p->req.v[SCHED_RES_MEMORY], 0);
	cr_assert_eq(p->score_cpu, 250);
	cr_assert_eq(p->score_mem, 200LL * 1024 * 1024);
	sched_pod_free(p);
}

#define GPU_NODE(name, gpus) \
	"{\"metadata\":{\"name\":\"" name "\"},\"status\":{" READY ",\"allocatable\":{\"cpu\":\"8\",\"memory\":\"8Gi\"," \
	"\"pods\":\"110\",\"nvidia.com/gpu\":\"" gpus "\"}}}"
#define GPU_POD(n) \
	POD("{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"" n "\"}}}]}")

Test(scheduler_filter, extended_resources_fit_as_integers)
{
	struct sched_verdict v;
	int gpu = sched_res_index("nvidia.com/gpu");

	cr_assert_geq(gpu, SCHED_RES_FIXED);
	cr_assert(sched_res_is_gpu(gpu));
	cr_assert(fits(GPU_NODE("g1", "4"), GPU_POD("4"), &v));
	cr_assert_not(fits(GPU_NODE("g1", "4"), GPU_POD("5"), &v));
	cr_assert_eq(v.insufficient, 1u << gpu);
	cr_assert_not(fits(NODE("n1", "{}"), GPU_POD("1"), &v));
	cr_assert_eq(v.insufficient, 1u << gpu);
}

Test(scheduler_filter, pod_count_limit)
{
	struct sched_node *n = node_new("{\"metadata\":{\"name\":\"n1\"},\"status\":{" READY
					",\"allocatable\":{\"cpu\":\"4\",\"memory\":\"1Gi\",\"pods\":\"1\"}}}");
	struct sched_pod *p = pod_new(POD("{" C1 "}"));
	struct sched_verdict v;

	cr_assert(sched_filter(p, n, &v));
	sched_node_add_pod(n, p);
	cr_assert_not(sched_filter(p, n, &v));
	cr_assert(v.too_many_pods);
	cr_assert_eq(v.insufficient, 0);
	sched_pod_free(p);
	sched_node_free(n);
}

#define PORT_POD(port, proto, ip) \
	POD("{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":" port ",\"protocol\":\"" proto \
	    "\"" ip "}]}]}")

static bool port_fits(const char *used, const char *want)
{
	struct sched_node *n = node_new(NODE("n1", "{}"));
	struct sched_pod *a = pod_new(used), *b = pod_new(want);
	bool r;

	sched_node_add_pod(n, a);
	r = sched_filter_ports(b, n);
	sched_node_remove_pod(n, a);
	cr_assert(sched_filter_ports(b, n), "ports freed with the pod");
	sched_pod_free(a);
	sched_pod_free(b);
	sched_node_free(n);
	return r;
}

Test(scheduler_filter, host_port_conflicts)
{
	cr_assert_not(port_fits(PORT_POD("8080", "TCP", ""), PORT_POD("8080", "TCP", "")));
	cr_assert(port_fits(PORT_POD("8080", "TCP", ""), PORT_POD("8081", "TCP", "")));
	cr_assert(port_fits(PORT_POD("8080", "TCP", ""), PORT_POD("8080", "UDP", "")));
	cr_assert(port_fits(PORT_POD("8080", "TCP", ",\"hostIP\":\"10.0.0.1\""),
			    PORT_POD("8080", "TCP", ",\"hostIP\":\"10.0.0.2\"")));
	cr_assert_not(port_fits(PORT_POD("8080", "TCP", ",\"hostIP\":\"0.0.0.0\""),
				PORT_POD("8080", "TCP", ",\"hostIP\":\"10.0.0.2\"")));
	/* A containerPort without hostPort takes nothing on the node. */
	cr_assert(port_fits(POD("{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":8080}]}]}"),
			    PORT_POD("8080", "TCP", "")));
}

Test(scheduler_filter, first_failing_filter_wins)
{
	struct sched_verdict v;

	/* Cordoned and tainted and too small: kube-scheduler reports the cordon only. */
	cr_assert_not(fits(NODE("n1", "{\"unschedulable\":true,\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]}"),
			   GPU_POD("1"), &v));
	cr_assert_eq(v.fail, SCHED_FAIL_UNSCHEDULABLE);
}

Test(scheduler_filter, message_in_kubernetes_wording_and_order)
{
	int gpu = sched_res_index("nvidia.com/gpu");
	struct sched_verdict v[3] = {
		{ .fail = SCHED_FAIL_RESOURCES, .insufficient = 1u << gpu },
		{ .fail = SCHED_FAIL_UNSCHEDULABLE },
		{ .fail = SCHED_FAIL_RESOURCES, .insufficient = 1u << gpu },
	};
	char *msg = sched_fit_message(v, 3);

	cr_assert_str_eq(msg, "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu.");
	free(msg);
}

Test(scheduler_filter, message_lists_every_reason_of_a_node)
{
	struct sched_verdict v[4] = {
		{ .fail = SCHED_FAIL_RESOURCES, .too_many_pods = true, .insufficient = 1u << SCHED_RES_CPU },
		{ .fail = SCHED_FAIL_TAINT, .taint_key = "dedicated", .taint_value = "db" },
		{ .fail = SCHED_FAIL_AFFINITY },
		{ .fail = SCHED_FAIL_PORTS },
	};
	char *msg = sched_fit_message(v, 4);

	cr_assert_str_eq(msg, "0/4 nodes are available: 1 Insufficient cpu, 1 Too many pods, "
			      "1 node(s) didn't have free ports for the requested pod ports, "
			      "1 node(s) didn't match Pod's node affinity/selector, "
			      "1 node(s) had untolerated taint {dedicated: db}.");
	free(msg);
}

Test(scheduler_filter, message_sorts_counts_as_strings_like_go)
{
	struct sched_verdict v[12];
	char *msg;

	for (int i = 0; i < 12; i++)
		v[i] = (struct sched_verdict){ .fail = i < 10 ? SCHED_FAIL_RESOURCES : SCHED_FAIL_UNSCHEDULABLE,
					       .insufficient = 1u << SCHED_RES_MEMORY };
	msg = sched_fit_message(v, 12);
	cr_assert_str_eq(msg, "0/12 nodes are available: 10 Insufficient memory, 2 node(s) were unschedulable.");
	free(msg);
	msg = sched_fit_message(NULL, 0);
	cr_assert_str_eq(msg, "no nodes available to schedule pods");
	free(msg);
}
