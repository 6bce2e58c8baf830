/* Defaults per kind: what Kubernetes fills in, and that set fields are never overridden. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <skiff/json.h>

#include "api/defaults.h"

static json_object *defaulted(const char *kind, const char *json)
{
	json_object *obj = json_tokener_parse(json);

	cr_assert_not_null(obj, "bad test JSON: %s", json);
	defaults_apply(resource_by_kind(kind), obj);
	return obj;
}

/* The value at a dotted path, printed as JSON ("\"Always\"", "30", "true"); "missing" when absent. */
static const char *at(json_object *obj, const char *path)
{
	json_object *v = json_get_path(obj, path);

	return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "missing";
}

static json_object *idx(json_object *arr, size_t i)
{
	cr_assert(arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr));
	return json_object_array_get_idx(arr, i);
}

struct expect {
	const char *path, *json;
};

static void expect_all(json_object *obj, const struct expect *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(at(obj, e[i].path), e[i].json, "%s: got %s want %s", e[i].path, at(obj, e[i].path),
				 e[i].json);
}

Test(defaults, pod)
{
	json_object *pod = defaulted("Pod", "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
					    "\"image\":\"busybox\",\"ports\":[{\"containerPort\":80}],"
					    "\"readinessProbe\":{\"httpGet\":{\"port\":80}}}]}}");
	static const struct expect e[] = {
		{ "spec.restartPolicy", "\"Always\"" },
		{ "spec.dnsPolicy", "\"ClusterFirst\"" },
		{ "spec.terminationGracePeriodSeconds", "30" },
		{ "spec.schedulerName", "\"default-scheduler\"" },
		{ "spec.securityContext", "{}" },
		{ "spec.enableServiceLinks", "true" },
		{ "spec.priority", "0" },
		{ "status.phase", "\"Pending\"" },
		{ "status.qosClass", "\"BestEffort\"" },
	};
	json_object *c = idx(json_get_path(pod, "spec.containers"), 0), *tol = json_get_path(pod, "spec.tolerations");

	expect_all(pod, e, sizeof(e) / sizeof(e[0]));
	cr_expect_str_eq(at(c, "terminationMessagePath"), "\"/dev/termination-log\"");
	cr_expect_str_eq(at(c, "terminationMessagePolicy"), "\"File\"");
	cr_expect_str_eq(at(c, "imagePullPolicy"), "\"Always\"", "no tag means latest");
	cr_expect_str_eq(at(idx(json_get_path(c, "ports"), 0), "protocol"), "\"TCP\"");
	cr_expect_str_eq(at(c, "readinessProbe"),
			 "{\"httpGet\":{\"port\":80,\"path\":\"/\",\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,"
			 "\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":3}");
	cr_assert_eq(json_object_array_length(tol), 2);
	cr_expect_str_eq(at(idx(tol, 0), ""), "{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
					      "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}");
	cr_expect_str_eq(at(idx(tol, 1), "key"), "\"node.kubernetes.io/unreachable\"");
	json_object_put(pod);
}

Test(defaults, pod_keeps_what_is_set)
{
	json_object *pod = defaulted(
		"Pod", "{\"spec\":{\"restartPolicy\":\"Never\",\"terminationGracePeriodSeconds\":5,"
		       "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
		       "\"tolerationSeconds\":10}],\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\","
		       "\"imagePullPolicy\":\"Never\"},{\"name\":\"d\",\"image\":\"reg:5000/app\"},{\"name\":\"e\",\"image\":\"app:1\"}]},"
		       "\"status\":{\"phase\":\"Running\"}}");
	json_object *tol = json_get_path(pod, "spec.tolerations"), *cs = json_get_path(pod, "spec.containers");

	cr_expect_str_eq(at(pod, "spec.restartPolicy"), "\"Never\"");
	cr_expect_str_eq(at(pod, "spec.terminationGracePeriodSeconds"), "5");
	cr_expect_str_eq(at(pod, "status.phase"), "\"Running\"");
	cr_expect_str_eq(at(idx(cs, 0), "imagePullPolicy"), "\"Never\"");
	cr_expect_str_eq(at(idx(cs, 1), "imagePullPolicy"), "\"Always\"", "a registry port is not a tag");
	cr_expect_str_eq(at(idx(cs, 2), "imagePullPolicy"), "\"IfNotPresent\"");
	cr_assert_eq(json_object_array_length(tol), 2, "only unreachable is added");
	cr_expect_str_eq(at(idx(tol, 0), "tolerationSeconds"), "10");
	cr_expect_str_eq(at(idx(tol, 1), "key"), "\"node.kubernetes.io/unreachable\"");
	json_object_put(pod);
}

struct qos_case {
	const char *resources; /* one container's "resources" */
	const char *qos;
};

Test(defaults, qos_class_and_requests_from_limits)
{
	static const struct qos_case cases[] = {
		{ "{}", "\"BestEffort\"" },
		{ "{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}", "\"Guaranteed\"" },
		{ "{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"1000m\"}}", "\"Guaranteed\"" },
		{ "{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"500m\"}}", "\"Burstable\"" },
		{ "{\"limits\":{\"cpu\":\"1\"}}", "\"Burstable\"" },
		{ "{\"requests\":{\"memory\":\"64Mi\"}}", "\"Burstable\"" },
		{ "{\"requests\":{\"example.com/gpu\":\"1\"}}", "\"BestEffort\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char json[512];
		json_object *pod;

		snprintf(json, sizeof(json),
			 "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":%s}]}}", cases[i].resources);
		pod = defaulted("Pod", json);
		cr_expect_str_eq(at(pod, "status.qosClass"), cases[i].qos, "%s", cases[i].resources);
		json_object_put(pod);
	}
}

Test(defaults, requests_copied_from_limits)
{
	json_object *pod = defaulted("Pod", "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":"
					    "{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"100m\"}}}]}}");
	json_object *c = idx(json_get_path(pod, "spec.containers"), 0);

	cr_expect_str_eq(at(c, "resources.requests"), "{\"cpu\":\"100m\",\"memory\":\"1Gi\"}");
	json_object_put(pod);
}

Test(defaults, service)
{
	json_object *svc = defaulted("Service", "{\"spec\":{\"ports\":[{\"port\":80},{\"port\":81,\"targetPort\":\"http\","
						"\"protocol\":\"UDP\"}],\"clusterIP\":\"10.96.0.7\"}}");
	static const struct expect e[] = {
		{ "spec.type", "\"ClusterIP\"" },
		{ "spec.sessionAffinity", "\"None\"" },
		{ "spec.internalTrafficPolicy", "\"Cluster\"" },
		{ "spec.ipFamilies", "[\"IPv4\"]" },
		{ "spec.ipFamilyPolicy", "\"SingleStack\"" },
		{ "spec.clusterIPs", "[\"10.96.0.7\"]" },
		{ "spec.externalTrafficPolicy", "missing" },
	};
	json_object *ports = json_get_path(svc, "spec.ports");

	expect_all(svc, e, sizeof(e) / sizeof(e[0]));
	cr_expect_str_eq(at(idx(ports, 0), ""), "{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":80}");
	cr_expect_str_eq(at(idx(ports, 1), ""), "{\"port\":81,\"targetPort\":\"http\",\"protocol\":\"UDP\"}");
	json_object_put(svc);

	svc = defaulted("Service", "{\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80}]}}");
	cr_expect_str_eq(at(svc, "spec.externalTrafficPolicy"), "\"Cluster\"");
	cr_expect_str_eq(at(svc, "spec.clusterIPs"), "missing", "no ClusterIP yet: the registry allocates it");
	json_object_put(svc);

	svc = defaulted("Service", "{\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}}");
	cr_expect_str_eq(at(svc, "spec.ipFamilies"), "missing");
	cr_expect_str_eq(at(svc, "spec.internalTrafficPolicy"), "missing");
	json_object_put(svc);
}

Test(defaults, replication_controller)
{
	json_object *rc = defaulted("ReplicationController",
				    "{\"metadata\":{\"name\":\"rc\"},\"spec\":{\"template\":{\"metadata\":{\"labels\":"
				    "{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x:1\"}]}}}}");

	cr_expect_str_eq(at(rc, "spec.replicas"), "1");
	cr_expect_str_eq(at(rc, "spec.selector"), "{\"app\":\"web\"}");
	cr_expect_str_eq(at(rc, "metadata.labels"), "{\"app\":\"web\"}");
	cr_expect_str_eq(at(rc, "spec.template.spec.restartPolicy"), "\"Always\"");
	cr_expect_str_eq(at(idx(json_get_path(rc, "spec.template.spec.containers"), 0), "imagePullPolicy"),
			 "\"IfNotPresent\"");
	cr_expect_str_eq(at(rc, "spec.template.spec.tolerations"), "missing", "admission defaults are for pods");
	json_object_put(rc);

	rc = defaulted("ReplicationController",
		       "{\"metadata\":{\"labels\":{\"own\":\"1\"}},\"spec\":{\"replicas\":0,\"selector\":{\"app\":\"x\"},"
		       "\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\",\"v\":\"2\"}}}}}");
	cr_expect_str_eq(at(rc, "spec.replicas"), "0");
	cr_expect_str_eq(at(rc, "spec.selector"), "{\"app\":\"x\"}");
	cr_expect_str_eq(at(rc, "metadata.labels"), "{\"own\":\"1\"}");
	json_object_put(rc);
}

Test(defaults, namespace_node_endpoints)
{
	json_object *ns = defaulted("Namespace", "{\"metadata\":{\"name\":\"team\"}}");
	json_object *node = defaulted("Node", "{\"metadata\":{\"name\":\"n\"},\"status\":{\"capacity\":{\"cpu\":\"2\"}}}");
	json_object *ep = defaulted("Endpoints", "{\"subsets\":[{\"ports\":[{\"port\":80}]}]}");

	cr_expect_str_eq(at(ns, "spec.finalizers"), "[\"kubernetes\"]");
	cr_expect_str_eq(at(ns, "status.phase"), "\"Active\"");
	cr_expect_str_eq(at(ns, "metadata.labels"), "{\"kubernetes.io/metadata.name\":\"team\"}");
	cr_expect_str_eq(at(node, "status.allocatable"), "{\"cpu\":\"2\"}");
	cr_expect_str_eq(at(idx(json_get_path(ep, "subsets"), 0), "ports"), "[{\"port\":80,\"protocol\":\"TCP\"}]");
	json_object_put(ns);
	json_object_put(node);
	json_object_put(ep);
}
