/* Unit tests of the core/v1 field schema: real manifests pass, unknown fields and wrong
 * JSON types are reported in Kubernetes' words, and non-strict mode drops unknown fields. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/resources.h"
#include "api/schema.h"

static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "fixture does not parse: %s", text);
	return o;
}

static json_object *load_fixture(const char *name)
{
	char path[256];
	json_object *o;

	snprintf(path, sizeof(path), "tests/unit/fixtures/%s", name);
	o = json_object_from_file(path);
	cr_assert_not_null(o, "cannot read %s (run from the repository root)", path);
	return o;
}

/* Checks strictly and expects success; then non-strictly and expects nothing dropped. */
static void expect_valid(const char *kind, json_object *o)
{
	_cleanup_free_ char *before = strdup(json_object_to_json_string(o));
	char *err = NULL;
	int r;

	r = schema_check_kind(kind, o, 1, &err);
	cr_assert_eq(r, 0, "%s rejected: %s", kind, err ? err : "(no message)");
	cr_assert_null(err);
	r = schema_check_kind(kind, o, 0, &err);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(json_object_to_json_string(o), before, "non-strict check changed a valid %s", kind);
}

/* Expects -EINVAL with exactly msg, in strict mode. */
static void expect_error(const char *kind, const char *text, const char *msg)
{
	_cleanup_json_ json_object *o = parse(text);
	_cleanup_free_ char *err = NULL;
	int r = schema_check_kind(kind, o, 1, &err);

	cr_assert_eq(r, -EINVAL, "%s accepted: %s", kind, text);
	cr_assert_not_null(err);
	cr_assert_str_eq(err, msg);
}

Test(schema, real_manifests_pass)
{
	static const struct {
		const char *file, *kind;
	} cases[] = {
		{ "schema_pod.json", "Pod" },
		{ "schema_service.json", "Service" },
		{ "schema_rc.json", "ReplicationController" },
		{ "schema_node.json", "Node" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *o = load_fixture(cases[i].file);

		expect_valid(cases[i].kind, o);
	}
}

Test(schema, small_kinds_pass)
{
	static const struct {
		const char *kind, *text;
	} cases[] = {
		{ "Endpoints", "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"web\"},\"subsets\":"
			       "[{\"addresses\":[{\"ip\":\"10.244.1.5\",\"nodeName\":\"n1\",\"targetRef\":{\"kind\":\"Pod\","
			       "\"name\":\"web-0\",\"namespace\":\"default\",\"uid\":\"u\"}}],\"notReadyAddresses\":[{\"ip\":"
			       "\"10.244.1.6\",\"hostname\":\"web-1\"}],\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":"
			       "\"TCP\",\"appProtocol\":\"http\"}]}]}" },
		{ "Namespace", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"dev\"},\"spec\":"
			       "{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\",\"conditions\":[{\"type\":"
			       "\"NamespaceDeletionContentFailure\",\"status\":\"False\"}]}}" },
		{ "Event", "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"web-0.1\",\"namespace\":"
			   "\"default\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-0\",\"fieldPath\":"
			   "\"spec.containers{nginx}\"},\"reason\":\"Pulled\",\"message\":\"ok\",\"source\":{\"component\":"
			   "\"skiff-agent\",\"host\":\"n1\"},\"firstTimestamp\":\"2025-01-01T00:00:00Z\",\"lastTimestamp\":"
			   "\"2025-01-01T00:00:00Z\",\"count\":2,\"type\":\"Normal\",\"eventTime\":null,\"series\":{\"count\":2,"
			   "\"lastObservedTime\":\"2025-01-01T00:00:00.000000Z\"},\"reportingComponent\":\"skiff\","
			   "\"reportingInstance\":\"n1\",\"action\":\"Pull\",\"related\":{\"kind\":\"Node\",\"name\":\"n1\"}}" },
		{ "Scale", "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"metadata\":{\"name\":\"web\",\"namespace\":"
			   "\"default\"},\"spec\":{\"replicas\":3},\"status\":{\"replicas\":2,\"selector\":\"app=web\"}}" },
		{ "Binding", "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"web-0\"},\"target\":"
			     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\"}}" },
		{ "DeleteOptions", "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"Background\","
				   "\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"u\",\"resourceVersion\":\"5\"},"
				   "\"dryRun\":[\"All\"],\"orphanDependents\":false}" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *o = parse(cases[i].text);

		expect_valid(cases[i].kind, o);
	}
}

Test(schema, check_by_resource)
{
	_cleanup_json_ json_object *o = load_fixture("schema_pod.json");
	_cleanup_free_ char *err = NULL;
	const struct resource *r = resource_by_kind("Pod");

	cr_assert_not_null(r);
	cr_assert_eq(schema_check(r, o, 1, &err), 0, "%s", err ? err : "");
	cr_assert_eq(schema_check_kind("ConfigMap", o, 1, &err), -ENOENT);
	cr_assert_null(err);
}

Test(schema, strict_unknown_fields_in_order)
{
	expect_error("Pod",
		     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":"
		     "[{\"name\":\"a\",\"image\":\"b\",\"foo\":1}],\"bar\":true}}",
		     "strict decoding error: unknown field \"spec.containers[0].foo\", unknown field \"spec.bar\"");
	expect_error("Pod", "{\"metadata\":{\"name\":\"x\",\"lables\":{}},\"extra\":1}",
		     "strict decoding error: unknown field \"metadata.lables\", unknown field \"extra\"");
	expect_error("Pod",
		     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"ports\":[{\"containerPort\":1},"
		     "{\"port\":2}]}]}}",
		     "strict decoding error: unknown field \"spec.containers[1].ports[1].port\"");
	/* Field names are case-sensitive, as in Kubernetes. */
	expect_error("Service", "{\"spec\":{\"Ports\":[]}}", "strict decoding error: unknown field \"spec.Ports\"");
	expect_error("ReplicationController",
		     "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limit\":{}}}]}}}}",
		     "strict decoding error: unknown field \"spec.template.spec.containers[0].resources.limit\"");
}

Test(schema, not_strict_drops_unknown_fields)
{
	_cleanup_json_ json_object *o = parse(
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\",\"junk\":1},\"spec\":{\"containers\":"
		"[{\"name\":\"a\",\"image\":\"b\",\"foo\":1,\"bar\":2}],\"baz\":true},\"top\":{}}");
	_cleanup_free_ char *err = NULL;

	cr_assert_eq(schema_check_kind("Pod", o, 0, &err), 0);
	cr_assert_null(err);
	cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":"
			 "[{\"name\":\"a\",\"image\":\"b\"}]}}");
}

Test(schema, wrong_types_in_go_words)
{
	expect_error("Pod", "{\"spec\":{\"containers\":\"nginx\"}}",
		     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container");
	expect_error("Pod", "{\"spec\":{\"containers\":[\"nginx\"]}}",
		     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container");
	expect_error("Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":\"80\"}]}]}}",
		     "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort "
		     "of type int32");
	expect_error("Pod", "{\"metadata\":{\"labels\":{\"app\":1}}}",
		     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string");
	expect_error("Pod", "{\"metadata\":{\"labels\":[]}}",
		     "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string");
	expect_error("Pod", "{\"spec\":{\"hostNetwork\":\"true\"}}",
		     "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool");
	expect_error("Pod", "{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":true}}}]}}",
		     "json: cannot unmarshal bool into Go struct field ResourceRequirements.spec.containers.resources.limits "
		     "of type resource.Quantity");
	expect_error("Pod", "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"nfs\":\"server\"}]}}",
		     "json: cannot unmarshal string into Go struct field Volume.spec.volumes.nfs of type v1.NFSVolumeSource");
	expect_error("Service", "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":80.5}]}}",
		     "json: cannot unmarshal number 80.5 into Go struct field ServicePort.spec.ports.targetPort of type "
		     "intstr.IntOrString");
	expect_error("Pod", "[]", "json: cannot unmarshal array into Go value of type v1.Pod");
}

Test(schema, numbers_must_fit_integers)
{
	expect_error("ReplicationController", "{\"spec\":{\"replicas\":1.5}}",
		     "json: cannot unmarshal number 1.5 into Go struct field ReplicationControllerSpec.spec.replicas of "
		     "type int32");
	expect_error("ReplicationController", "{\"spec\":{\"replicas\":3000000000}}",
		     "json: cannot unmarshal number 3000000000 into Go struct field ReplicationControllerSpec.spec.replicas "
		     "of type int32");
	_cleanup_json_ json_object *o = parse("{\"spec\":{\"terminationGracePeriodSeconds\":3000000000}}");
	cr_assert_eq(schema_check_kind("Pod", o, 1, NULL), 0, "int64 field rejected a large value");
}

Test(schema, type_error_wins_over_unknown_fields)
{
	expect_error("Pod", "{\"spec\":{\"foo\":1,\"nodeName\":5}}",
		     "json: cannot unmarshal number into Go struct field PodSpec.spec.nodeName of type string");
}

Test(schema, nulls_and_opaque_sources_pass)
{
	_cleanup_json_ json_object *o = parse(
		"{\"metadata\":{\"labels\":null,\"creationTimestamp\":null},\"spec\":{\"containers\":[null,{\"name\":\"a\","
		"\"command\":null}],\"volumes\":[{\"name\":\"v\",\"rbd\":{\"monitors\":[\"1.2.3.4\"],\"anything\":{}}}],"
		"\"overhead\":{\"cpu\":1}},\"status\":null}");

	expect_valid("Pod", o);
}
