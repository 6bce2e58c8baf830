/* Validation: each rule with valid and invalid cases, checked against Kubernetes' exact
 * messages; the Status message and details built from them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/defaults.h"
#include "api/validate.h"

#define SUBDOMAIN_MSG                                                                                     \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and " \
	"must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " \
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_MSG                                                                                            \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start " \
	"and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "  \
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define PORT_RANGE "must be between 1 and 65535, inclusive"

/* Defaults then validation, as the registry runs them; returns the messages joined by '|'. */
static char *check(const char *kind, const char *json, const char *old_json, const char *sub)
{
	const struct resource *r = resource_by_kind(kind);
	json_object *obj = json_tokener_parse(json), *old = old_json ? json_tokener_parse(old_json) : NULL;
	struct field_errors errs = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(r, "%s", kind);
	cr_assert_not_null(obj, "bad test JSON: %s", json);
	defaults_apply(r, obj);
	if (old)
		defaults_apply(r, old);
	validate_object(r, obj, old, sub, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(f, "%s%s", i ? "|" : "", errs.v[i].message);
	fclose(f);
	field_errors_free(&errs);
	json_object_put(obj);
	json_object_put(old);
	return out;
}

struct vcase {
	const char *kind;
	const char *json;
	const char *want; /* "" when valid; several messages joined by '|' */
};

static void run_cases(const struct vcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = check(cases[i].kind, cases[i].json, NULL, NULL);

		cr_expect_str_eq(got, cases[i].want, "case %zu: %s\ngot:  %s", i, cases[i].json, got);
		free(got);
	}
}

#define POD(meta, spec) "{\"metadata\":{" meta "},\"spec\":{" spec "}}"
#define C(extra) "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"" extra "}]"
#define NS "\"name\":\"p\",\"namespace\":\"default\""

Test(validate, metadata)
{
	static const struct vcase cases[] = {
		{ "Pod", POD(NS, C("")), "" },
		{ "Pod", POD("\"name\":\"Bad_Name\",\"namespace\":\"default\"", C("")),
		  "metadata.name: Invalid value: \"Bad_Name\": " SUBDOMAIN_MSG },
		{ "Pod", POD("\"namespace\":\"default\"", C("")),
		  "metadata.name: Required value: name or generateName is required" },
		{ "Pod", POD("\"generateName\":\"web-\",\"namespace\":\"default\"", C("")), "" },
		{ "Pod", POD("\"name\":\"p\"", C("")), "metadata.namespace: Required value" },
		{ "Pod", POD("\"name\":\"p\",\"namespace\":\"Bad\"", C("")),
		  "metadata.namespace: Invalid value: \"Bad\": " LABEL_MSG },
		{ "Node", "{\"metadata\":{\"name\":\"n1\",\"namespace\":\"x\"}}",
		  "metadata.namespace: Forbidden: not allowed on this type" },
		{ "Namespace", "{\"metadata\":{\"name\":\"a.b\"}}", "metadata.name: Invalid value: \"a.b\": " LABEL_MSG },
		{ "Pod", POD(NS ",\"labels\":{\"app\":\"web\",\"example.com/tier\":\"fe\"}", C("")), "" },
		{ "Pod", POD(NS ",\"labels\":{\"app\":\"bad value\"}", C("")),
		  "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of "
		  "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
		  "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
		  "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
		{ "Pod", POD(NS ",\"labels\":{\"/x\":\"y\"}", C("")),
		  "metadata.labels: Invalid value: \"/x\": prefix part must be non-empty" },
		{ "Pod", POD(NS ",\"annotations\":{\"Example.com/Note\":\"anything at all\"}", C("")), "" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(validate, label_too_long)
{
	char json[512], *got;
	char value[70];

	memset(value, 'a', 64);
	value[64] = '\0';
	snprintf(json, sizeof(json), POD(NS ",\"labels\":{\"k\":\"%s\"}", C("")), value);
	got = check("Pod", json, NULL, NULL);
	cr_expect(strstr(got, "metadata.labels: Invalid value: \"aaaa") && strstr(got, ": must be no more than 63 characters"),
		  "%s", got);
	free(got);
}

Test(validate, annotations_size)
{
	size_t n = 300 * 1024;
	char *big = malloc(n + 256), *got;

	cr_assert_not_null(big);
	strcpy(big, "{\"metadata\":{\"name\":\"n\",\"annotations\":{\"a\":\"");
	memset(big + strlen(big), 'x', n);
	strcpy(big + strlen("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"a\":\"") + n, "\"}}}");
	got = check("Node", big, NULL, NULL);
	cr_expect_str_eq(got, "metadata.annotations: Too long: may not be more than 262144 bytes");
	free(got);
	free(big);
}

Test(validate, pod_containers)
{
	static const struct vcase cases[] = {
		{ "Pod", POD(NS, "\"containers\":[]"), "spec.containers: Required value" },
		{ "Pod", POD(NS, ""), "spec.containers: Required value" },
		{ "Pod", POD(NS, "\"containers\":[{\"name\":\"c\"}]"),
		  "spec.containers[0].image: Required value" },
		{ "Pod", POD(NS, "\"containers\":[{\"image\":\"x\"}]"), "spec.containers[0].name: Required value" },
		{ "Pod", POD(NS, "\"containers\":[{\"name\":\"Web\",\"image\":\"x\"}]"),
		  "spec.containers[0].name: Invalid value: \"Web\": " LABEL_MSG },
		{ "Pod", POD(NS, "\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"a\",\"image\":\"y\"}]"),
		  "spec.containers[1].name: Duplicate value: \"a\"" },
		{ "Pod", POD(NS, C("") ",\"initContainers\":[{\"name\":\"c\",\"image\":\"y\"}]"),
		  "spec.initContainers[0].name: Duplicate value: \"c\"" },
		{ "Pod", POD(NS, C(",\"imagePullPolicy\":\"Sometimes\"")),
		  "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
		  "\"IfNotPresent\", \"Never\"" },
		{ "Pod", POD(NS, C("") ",\"restartPolicy\":\"Sometimes\""),
		  "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", "
		  "\"Never\"" },
		{ "Pod", POD(NS, C("") ",\"dnsPolicy\":\"Weird\""),
		  "spec.dnsPolicy: Unsupported value: \"Weird\": supported values: \"ClusterFirst\", "
		  "\"ClusterFirstWithHostNet\", \"Default\", \"None\"" },
		{ "Pod", POD(NS, C("") ",\"nodeName\":\"Node_1\""),
		  "spec.nodeName: Invalid value: \"Node_1\": " SUBDOMAIN_MSG },
		{ "Pod", POD(NS, C(",\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/d\"}]")),
		  "spec.containers[0].volumeMounts[0].name: Not found: \"data\"" },
		{ "Pod", POD(NS, C(",\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/d\"}]") ",\"volumes\":[{\"name\":\"data\"}]"),
		  "" },
		{ "Pod", POD(NS, C(",\"env\":[{\"value\":\"x\"}]")), "spec.containers[0].env[0].name: Required value" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(validate, pod_ports)
{
	static const struct vcase cases[] = {
		{ "Pod", POD(NS, C(",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}]")), "" },
		{ "Pod", POD(NS, C(",\"ports\":[{\"containerPort\":70000}]")),
		  "spec.containers[0].ports[0].containerPort: Invalid value: 70000: " PORT_RANGE },
		{ "Pod", POD(NS, C(",\"ports\":[{\"name\":\"x\"}]")),
		  "spec.containers[0].ports[0].containerPort: Required value" },
		{ "Pod", POD(NS, C(",\"ports\":[{\"containerPort\":80,\"protocol\":\"ICMP\"}]")),
		  "spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", "
		  "\"TCP\", \"UDP\"" },
		{ "Pod", POD(NS, C(",\"ports\":[{\"containerPort\":80,\"name\":\"Http--\"}]")),
		  "spec.containers[0].ports[0].name: Invalid value: \"Http--\": must contain only alpha-numeric "
		  "characters (a-z, 0-9), and hyphens (-)|spec.containers[0].ports[0].name: Invalid value: \"Http--\": "
		  "must not contain consecutive hyphens|spec.containers[0].ports[0].name: Invalid value: \"Http--\": "
		  "must not begin or end with a hyphen" },
		{ "Pod", POD(NS, C(",\"ports\":[{\"containerPort\":80,\"name\":\"a\"},{\"containerPort\":81,\"name\":\"a\"}]")),
		  "spec.containers[0].ports[1].name: Duplicate value: \"a\"" },
		{ "Pod", POD(NS, C(",\"ports\":[{\"containerPort\":80,\"name\":\"123\"}]")),
		  "spec.containers[0].ports[0].name: Invalid value: \"123\": must contain at least one letter (a-z)" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(validate, pod_resources)
{
	static const struct vcase cases[] = {
		{ "Pod", POD(NS, C(",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"512Mi\"},"
				   "\"requests\":{\"cpu\":\"500m\"}}")), "" },
		{ "Pod", POD(NS, C(",\"resources\":{\"limits\":{\"cpu\":2}}")), "" },
		{ "Pod", POD(NS, C(",\"resources\":{\"limits\":{\"cpu\":\"abc\"}}")),
		  "spec.containers[0].resources.limits[cpu]: Invalid value: \"abc\": quantities must match the regular "
		  "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'|"
		  "spec.containers[0].resources.requests[cpu]: Invalid value: \"abc\": quantities must match the "
		  "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" },
		{ "Pod", POD(NS, C(",\"resources\":{\"requests\":{\"memory\":\"-1\"}}")),
		  "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal "
		  "to 0" },
		{ "Pod", POD(NS, C(",\"resources\":{\"limits\":{\"cpu\":\"1\"},\"requests\":{\"cpu\":\"1500m\"}}")),
		  "spec.containers[0].resources.requests: Invalid value: \"1500m\": must be less than or equal to cpu "
		  "limit of 1" },
		{ "Pod", POD(NS, C(",\"resources\":{\"requests\":{\"gpu\":\"1\"}}")),
		  "spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for "
		  "containers" },
		{ "Pod", POD(NS, C(",\"resources\":{\"requests\":{\"example.com/gpu\":\"1\"}}")), "" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(validate, pod_probes_and_tolerations)
{
	static const struct vcase cases[] = {
		{ "Pod", POD(NS, C(",\"livenessProbe\":{\"httpGet\":{\"port\":8080}}")), "" },
		{ "Pod", POD(NS, C(",\"livenessProbe\":{\"periodSeconds\":5}")),
		  "spec.containers[0].livenessProbe: Required value: must specify a handler type" },
		{ "Pod", POD(NS, C(",\"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"exec\":{\"command\":[\"true\"]}}")),
		  "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type" },
		{ "Pod", POD(NS, C(",\"livenessProbe\":{\"exec\":{},\"successThreshold\":2}")),
		  "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1" },
		{ "Pod", POD(NS, C(",\"readinessProbe\":{\"exec\":{},\"timeoutSeconds\":-1}")),
		  "spec.containers[0].readinessProbe.timeoutSeconds: Invalid value: -1: must be greater than or equal to 0" },
		{ "Pod", POD(NS, C("") ",\"tolerations\":[{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\",\"effect\":\"NoSchedule\"}]"),
		  "" },
		{ "Pod", POD(NS, C("") ",\"tolerations\":[{\"key\":\"k\",\"effect\":\"Sometimes\"}]"),
		  "spec.tolerations[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", "
		  "\"PreferNoSchedule\", \"NoExecute\"" },
		{ "Pod", POD(NS, C("") ",\"activeDeadlineSeconds\":0"),
		  "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

#define SVC(spec) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{" spec "}}"

Test(validate, service)
{
	static const struct vcase cases[] = {
		{ "Service", SVC("\"ports\":[{\"port\":80}],\"selector\":{\"app\":\"web\"}"), "" },
		{ "Service", "{\"metadata\":{\"name\":\"1web\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80}]}}",
		  "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric "
		  "characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. "
		  "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')" },
		{ "Service", SVC("\"ports\":[{\"port\":70000}]"),
		  "spec.ports[0].port: Invalid value: 70000: " PORT_RANGE "|"
		  "spec.ports[0].targetPort: Invalid value: 70000: " PORT_RANGE },
		{ "Service", SVC("\"ports\":[{\"port\":80,\"targetPort\":0}]"), "" },
		{ "Service", SVC(""), "spec.ports: Required value" },
		{ "Service", SVC("\"clusterIP\":\"None\""), "" },
		{ "Service", SVC("\"ports\":[{\"port\":80},{\"port\":81}]"),
		  "spec.ports[0].name: Required value|spec.ports[1].name: Required value" },
		{ "Service", SVC("\"ports\":[{\"port\":80,\"name\":\"a\"},{\"port\":81,\"name\":\"a\"}]"),
		  "spec.ports[1].name: Duplicate value: \"a\"" },
		{ "Service", SVC("\"type\":\"Magic\",\"ports\":[{\"port\":80}]"),
		  "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", "
		  "\"LoadBalancer\", \"NodePort\"" },
		{ "Service", SVC("\"ports\":[{\"port\":80,\"nodePort\":30080}]"),
		  "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'" },
		{ "Service", SVC("\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30080}]"), "" },
		{ "Service", SVC("\"ports\":[{\"port\":80,\"targetPort\":\"http\"}]"), "" },
		{ "Service", SVC("\"clusterIP\":\"10.96.0.300\",\"ports\":[{\"port\":80}]"),
		  "spec.clusterIPs[0]: Invalid value: \"10.96.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or "
		  "2001:db8::ffff)" },
		{ "Service", SVC("\"type\":\"ExternalName\""), "spec.externalName: Required value" },
		{ "Service", SVC("\"type\":\"ExternalName\",\"externalName\":\"db.example.com.\""), "" },
		{ "Service", SVC("\"ports\":[{\"port\":80}],\"externalTrafficPolicy\":\"Local\""),
		  "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set when `type` is 'NodePort' or "
		  "'LoadBalancer'" },
		{ "Service", SVC("\"ports\":[{\"port\":80}],\"sessionAffinity\":\"Sticky\""),
		  "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

#define RC(spec) "{\"metadata\":{\"name\":\"rc\",\"namespace\":\"default\"},\"spec\":{" spec "}}"
#define TMPL(labels) "\"template\":{\"metadata\":{\"labels\":" labels "},\"spec\":{" C("") "}}"

Test(validate, replication_controller)
{
	static const struct vcase cases[] = {
		{ "ReplicationController", RC(TMPL("{\"app\":\"x\"}")), "" },
		{ "ReplicationController", RC("\"replicas\":-1," TMPL("{\"app\":\"x\"}")),
		  "spec.replicas: Invalid value: -1: must be greater than or equal to 0" },
		{ "ReplicationController", RC("\"selector\":{\"app\":\"x\"}," TMPL("{\"app\":\"y\"}")),
		  "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"y\"}: `selector` does not "
		  "match template `labels`" },
		{ "ReplicationController", RC("\"selector\":{\"app\":\"x\"}"), "spec.template: Required value" },
		{ "ReplicationController", RC(""), "spec.selector: Required value|spec.template: Required value" },
		{ "ReplicationController",
		  RC("\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"restartPolicy\":\"Never\"," C("") "}}"),
		  "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(validate, nodes_endpoints_events)
{
	static const struct vcase cases[] = {
		{ "Node", "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.244.1.0/24\"}}", "" },
		{ "Node", "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.244.1.0\"}}",
		  "spec.podCIDRs[0]: Invalid value: \"10.244.1.0\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
		  "2001:db8::/64)" },
		{ "Node", "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":\"Bad\"}]}}",
		  "spec.taints[0].effect: Unsupported value: \"Bad\": supported values: \"NoSchedule\", "
		  "\"PreferNoSchedule\", \"NoExecute\"" },
		{ "Namespace", "{\"metadata\":{\"name\":\"team-a\"}}", "" },
		{ "Endpoints",
		  "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.244.0.5\"}],"
		  "\"ports\":[{\"port\":80}]}]}",
		  "" },
		{ "Endpoints",
		  "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"subsets\":[{\"addresses\":[{\"ip\":\"x\"},"
		  "{\"ip\":\"0.0.0.0\"}],\"ports\":[{\"port\":0}]}]}",
		  "subsets[0].addresses[0].ip: Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or "
		  "2001:db8::ffff)|subsets[0].addresses[1].ip: Invalid value: \"0.0.0.0\": may not be unspecified "
		  "(0.0.0.0)|subsets[0].ports[0].port: Required value" },
		{ "Event", "{\"metadata\":{\"name\":\"e.1\",\"namespace\":\"default\"},\"involvedObject\":{\"kind\":\"Pod\","
			   "\"name\":\"p\",\"namespace\":\"default\"}}",
		  "" },
		{ "Event", "{\"metadata\":{\"name\":\"e.1\",\"namespace\":\"default\"},\"involvedObject\":{\"kind\":\"Node\","
			   "\"name\":\"n1\"}}",
		  "" },
		{ "Event", "{\"metadata\":{\"name\":\"e.1\",\"namespace\":\"default\"},\"involvedObject\":{\"kind\":\"Pod\","
			   "\"name\":\"p\",\"namespace\":\"other\"}}",
		  "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace" },
		{ "Event", "{\"metadata\":{\"name\":\"e.1\",\"namespace\":\"default\"}}", "involvedObject: Required value" },
	};

	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

#define OLD_POD                                                                                               \
	"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":" \
	"\"c\",\"image\":\"busybox:1\"}],\"activeDeadlineSeconds\":100}}"

struct ucase {
	const char *kind;
	const char *json, *old, *sub;
	const char *want;
};

static void run_updates(const struct ucase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = check(cases[i].kind, cases[i].json, cases[i].old, cases[i].sub);

		cr_expect_str_eq(got, cases[i].want, "update case %zu: %s\ngot:  %s", i, cases[i].json, got);
		free(got);
	}
}

Test(validate, pod_update)
{
	static const struct ucase cases[] = {
		{ "Pod", OLD_POD, OLD_POD, NULL, "" },
		{ "Pod",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":"
		  "\"c\",\"image\":\"busybox:2\"}],\"activeDeadlineSeconds\":50,\"tolerations\":[{\"operator\":\"Exists\"},"
		  "{\"key\":\"k\",\"operator\":\"Exists\"}]}}",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":"
		  "\"c\",\"image\":\"busybox:1\"}],\"activeDeadlineSeconds\":100,\"tolerations\":[{\"operator\":\"Exists\"}]}}",
		  NULL, "" },
		{ "Pod",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":"
		  "\"c\",\"image\":\"busybox:1\"}],\"activeDeadlineSeconds\":100,\"tolerations\":[{\"operator\":\"Exists\"}]}}",
		  OLD_POD, NULL, "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds" },
		{ "Pod",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":"
		  "\"c\",\"image\":\"busybox:1\"}],\"activeDeadlineSeconds\":100,\"restartPolicy\":\"Never\"}}",
		  OLD_POD, NULL,
		  "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
		  "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
		  "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
		  "previously negative)\n  changed: spec.restartPolicy\n" },
		{ "Pod",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":"
		  "\"c\",\"image\":\"busybox:1\"}],\"activeDeadlineSeconds\":200}}",
		  OLD_POD, NULL, "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value" },
		{ "Pod",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u2\"},\"spec\":{\"containers\":[{\"name\":"
		  "\"c\",\"image\":\"busybox:1\"}],\"activeDeadlineSeconds\":100}}",
		  OLD_POD, NULL, "metadata.uid: Invalid value: \"u2\": field is immutable" },
		{ "Pod",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"containers\":[{\"name\":"
		  "\"c\",\"image\":\"busybox:1\"}],\"nodeName\":\"elsewhere\"},\"status\":{\"podIPs\":[{\"ip\":\"10.244.0.9\"}]}}",
		  OLD_POD, "status", "" },
		{ "Pod",
		  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{" C("") "},\"status\":{\"podIPs\":[{\"ip\":\"nope\"}]}}",
		  OLD_POD, "status",
		  "status.podIPs[0].ip: Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)" },
	};

	run_updates(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(validate, service_and_rc_update)
{
	static const struct ucase cases[] = {
		{ "Service", SVC("\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80}]"),
		  SVC("\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80}]"), NULL, "" },
		{ "Service", SVC("\"clusterIP\":\"10.96.0.11\",\"ports\":[{\"port\":80}]"),
		  SVC("\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80}]"), NULL,
		  "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set" },
		{ "ReplicationController", RC("\"replicas\":-3," TMPL("{\"app\":\"x\"}")), RC(TMPL("{\"app\":\"x\"}")),
		  "scale", "spec.replicas: Invalid value: -3: must be greater than or equal to 0" },
		{ "ReplicationController",
		  "{\"metadata\":{\"name\":\"rc\",\"namespace\":\"default\"},\"status\":{\"replicas\":-1}}",
		  RC(TMPL("{\"app\":\"x\"}")), "status", "status.replicas: Invalid value: -1: must be greater than or equal to 0" },
		{ "Namespace", "{\"metadata\":{\"name\":\"b\"}}", "{\"metadata\":{\"name\":\"a\"}}", NULL,
		  "metadata.name: Invalid value: \"b\": field is immutable" },
	};

	run_updates(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(validate, status_message_and_details)
{
	struct field_errors errs = { 0 };
	char *one, *two, *none;
	json_object *d, *causes, *c;

	field_errors_invalid_str(&errs, "metadata.name", "Bad_Name", "bad");
	one = field_errors_message("Pod", "Bad_Name", &errs);
	cr_expect_str_eq(one, "The Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": bad");
	field_errors_required(&errs, "spec.containers", NULL);
	field_errors_required(&errs, "spec.containers", NULL);
	two = field_errors_message("Pod", "Bad_Name", &errs);
	cr_expect_str_eq(two, "The Pod \"Bad_Name\" is invalid: [metadata.name: Invalid value: \"Bad_Name\": bad, "
			      "spec.containers: Required value]");
	d = field_errors_details("Pod", "Bad_Name", &errs);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(d, "kind")), "Pod");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(d, "name")), "Bad_Name");
	causes = json_object_object_get(d, "causes");
	cr_assert_eq(json_object_array_length(causes), 3);
	c = json_object_array_get_idx(causes, 0);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "reason")), "FieldValueInvalid");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "field")), "metadata.name");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "message")), "Invalid value: \"Bad_Name\": bad");
	c = json_object_array_get_idx(causes, 1);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "reason")), "FieldValueRequired");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(c, "message")), "Required value");
	json_object_put(d);
	field_errors_free(&errs);
	none = field_errors_message("Pod", "x", &errs);
	cr_expect_str_eq(none, "The Pod \"x\" is invalid");
	free(one);
	free(two);
	free(none);
}

Test(validate, reasons_and_go_quoting)
{
	static const char *const supported[] = { "A", "B", NULL };
	struct field_errors errs = { 0 };

	field_errors_duplicate_str(&errs, "f", "x");
	field_errors_not_supported(&errs, "f", "q\"\n", supported);
	field_errors_forbidden(&errs, "f", "no");
	field_errors_too_long(&errs, "f", 10);
	field_errors_not_found_str(&errs, "f", "y");
	cr_assert_eq(errs.n, 5);
	cr_expect_str_eq(errs.v[0].reason, "FieldValueDuplicate");
	cr_expect_str_eq(errs.v[1].reason, "FieldValueNotSupported");
	cr_expect_str_eq(errs.v[1].message, "f: Unsupported value: \"q\\\"\\n\": supported values: \"A\", \"B\"");
	cr_expect_str_eq(errs.v[2].reason, "FieldValueForbidden");
	cr_expect_str_eq(errs.v[3].reason, "FieldValueTooLong");
	cr_expect_str_eq(errs.v[4].reason, "FieldValueNotFound");
	field_errors_free(&errs);
}

Test(validate, dns_helpers)
{
	cr_expect_null(validate_dns1123_subdomain("web-1.example"));
	cr_expect_str_eq(validate_dns1123_subdomain("Web"), SUBDOMAIN_MSG);
	cr_expect_null(validate_dns1123_label("web-1"));
	cr_expect_str_eq(validate_dns1123_label("web.1"), LABEL_MSG);
	cr_expect_str_eq(validate_dns1123_label("-a"), LABEL_MSG);
	cr_expect_str_eq(validate_dns1123_label(
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
			 "must be no more than 63 characters");
}
