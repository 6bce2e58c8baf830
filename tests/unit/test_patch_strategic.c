/* Strategic merge patch: tables of (kind, original, patch, expected) from Kubernetes'
 * semantics, including the patches kubectl apply, cordon and patch send. */
#include <criterion/criterion.h>

#include "api/patch.h"

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct smp_case {
	const char *name, *kind, *orig, *patch, *want;
};

static json_object *J(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert(o, "test JSON does not parse: %s", s);
	return o;
}

static const char *S(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static const struct smp_case cases[] = {
	{ "apply changes one image, $setElementOrder keeps the order", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:1\",\"ports\":[{\"containerPort\":80}]},"
	  "{\"name\":\"b\",\"image\":\"y\"}]}}",
	  "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
	  "\"containers\":[{\"name\":\"a\",\"image\":\"x:2\"}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:2\",\"ports\":[{\"containerPort\":80}]},"
	  "{\"name\":\"b\",\"image\":\"y\"}]}}" },
	{ "apply deletes a container with $patch: delete", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"y\"}]}}",
	  "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"}],"
	  "\"containers\":[{\"$patch\":\"delete\",\"name\":\"a\"}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"y\"}]}}" },
	{ "apply adds a container first, as $setElementOrder says", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
	  "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},{\"name\":\"b\"}],"
	  "\"containers\":[{\"name\":\"c\",\"image\":\"z\"}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"z\"},{\"name\":\"a\"},{\"name\":\"b\"}]}}" },
	{ "server-only container stays after new patch items", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"side\"}]}}",
	  "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"c\"}],"
	  "\"containers\":[{\"name\":\"c\"}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"c\"},{\"name\":\"side\"}]}}" },
	{ "$setElementOrder alone reorders", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"2\"}]}}",
	  "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"2\"},{\"name\":\"a\",\"image\":\"1\"}]}}" },
	{ "apply removes one env var and changes another", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
	  "{\"name\":\"B\",\"value\":\"2\"},{\"name\":\"C\",\"value\":\"3\"}]}]}}",
	  "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],\"containers\":[{\"name\":\"a\","
	  "\"$setElementOrder/env\":[{\"name\":\"A\"},{\"name\":\"C\"}],"
	  "\"env\":[{\"name\":\"C\",\"value\":\"9\"},{\"$patch\":\"delete\",\"name\":\"B\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
	  "{\"name\":\"C\",\"value\":\"9\"}]}]}}" },
	{ "change one env var", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
	  "{\"name\":\"B\",\"value\":\"2\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"B\",\"value\":\"3\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
	  "{\"name\":\"B\",\"value\":\"3\"}]}]}}" },
	{ "remove an env var's valueFrom with null", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\",\"valueFrom\":{}}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"valueFrom\":null}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}}" },
	{ "add a port with $setElementOrder/ports", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}]}]}}",
	  "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],\"containers\":[{\"name\":\"a\","
	  "\"$setElementOrder/ports\":[{\"containerPort\":80},{\"containerPort\":443}],"
	  "\"ports\":[{\"containerPort\":443}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"},"
	  "{\"containerPort\":443}]}]}}" },
	{ "volumeMounts merge by mountPath", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"volumeMounts\":[{\"mountPath\":\"/x\",\"readOnly\":true}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\","
	  "\"readOnly\":true}]}]}}" },
	{ "args and envFrom are atomic", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"1\",\"2\"],\"envFrom\":[{\"prefix\":\"P\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"3\"],\"envFrom\":[{\"prefix\":\"Q\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"3\"],\"envFrom\":[{\"prefix\":\"Q\"}]}]}}" },
	{ "initContainers merge by name", "Pod",
	  "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"1\",\"command\":[\"sh\"]}]}}",
	  "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"2\"}]}}",
	  "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"2\",\"command\":[\"sh\"]}]}}" },
	{ "tolerations are replaced whole", "Pod",
	  "{\"spec\":{\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}}",
	  "{\"spec\":{\"tolerations\":[{\"key\":\"b\",\"operator\":\"Exists\"}]}}",
	  "{\"spec\":{\"tolerations\":[{\"key\":\"b\",\"operator\":\"Exists\"}]}}" },
	{ "hostAliases merge by ip", "Pod",
	  "{\"spec\":{\"hostAliases\":[{\"ip\":\"10.0.0.1\",\"hostnames\":[\"a\"]},{\"ip\":\"10.0.0.2\",\"hostnames\":[\"b\"]}]}}",
	  "{\"spec\":{\"hostAliases\":[{\"ip\":\"10.0.0.2\",\"hostnames\":[\"c\"]}]}}",
	  "{\"spec\":{\"hostAliases\":[{\"ip\":\"10.0.0.1\",\"hostnames\":[\"a\"]},{\"ip\":\"10.0.0.2\",\"hostnames\":[\"c\"]}]}}" },
	{ "volumes with $retainKeys switch the volume source", "Pod",
	  "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}",
	  "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"$retainKeys\":[\"hostPath\",\"name\"],\"hostPath\":{\"path\":\"/x\"}}]}}",
	  "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":\"/x\"}}]}}" },
	{ "$patch: replace on a list", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\"}]}}",
	  "{\"spec\":{\"containers\":[{\"$patch\":\"replace\"},{\"name\":\"n\",\"image\":\"i\"}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"n\",\"image\":\"i\"}]}}" },
	{ "$patch: replace on a map", "Pod", "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
	  "{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"only\":\"this\"}}}",
	  "{\"metadata\":{\"labels\":{\"only\":\"this\"}}}" },
	{ "$patch: delete on a map empties it", "Pod", "{\"spec\":{\"securityContext\":{\"runAsUser\":1},\"x\":1}}",
	  "{\"spec\":{\"securityContext\":{\"$patch\":\"delete\"}}}", "{\"spec\":{\"securityContext\":{},\"x\":1}}" },
	{ "null deletes a label, others merge", "Pod", "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
	  "{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"}}}", "{\"metadata\":{\"labels\":{\"b\":\"2\",\"c\":\"3\"}}}" },
	{ "null for a missing field is ignored", "Pod", "{\"metadata\":{\"name\":\"p\"}}",
	  "{\"metadata\":{\"labels\":{\"a\":null}},\"spec\":null}", "{\"metadata\":{\"name\":\"p\",\"labels\":{}}}" },
	{ "finalizers merge as a set", "Pod", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	  "{\"metadata\":{\"finalizers\":[\"b\",\"c\"]}}", "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}" },
	{ "$deleteFromPrimitiveList/finalizers", "Pod", "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
	  "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}",
	  "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}" },
	{ "$setElementOrder/finalizers orders primitives", "Pod", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	  "{\"metadata\":{\"$setElementOrder/finalizers\":[\"b\",\"c\",\"a\"],\"finalizers\":[\"c\"]}}",
	  "{\"metadata\":{\"finalizers\":[\"b\",\"c\",\"a\"]}}" },
	{ "ownerReferences merge by uid", "Pod",
	  "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u1\",\"name\":\"rc\"}]}}",
	  "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u1\",\"controller\":true},{\"uid\":\"u2\",\"name\":\"x\"}]}}",
	  "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u1\",\"name\":\"rc\",\"controller\":true},"
	  "{\"uid\":\"u2\",\"name\":\"x\"}]}}" },
	{ "pod status conditions merge by type", "Pod",
	  "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}",
	  "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
	  "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}" },
	{ "kubectl cordon", "Node", "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.244.1.0/24\"}}",
	  "{\"spec\":{\"unschedulable\":true}}",
	  "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.244.1.0/24\",\"unschedulable\":true}}" },
	{ "node taints are atomic", "Node", "{\"spec\":{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}}",
	  "{\"spec\":{\"taints\":[{\"key\":\"b\",\"effect\":\"NoExecute\"}]}}",
	  "{\"spec\":{\"taints\":[{\"key\":\"b\",\"effect\":\"NoExecute\"}]}}" },
	/* Without $setElementOrder, items new to the server go before server-only ones (as upstream). */
	{ "node podCIDRs merge as primitives", "Node", "{\"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"]}}",
	  "{\"spec\":{\"podCIDRs\":[\"fd00::/64\"]}}", "{\"spec\":{\"podCIDRs\":[\"fd00::/64\",\"10.244.1.0/24\"]}}" },
	{ "new env var without $setElementOrder", "Pod",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\"},{\"name\":\"B\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"B\",\"value\":\"2\"},{\"name\":\"C\"}]}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\"},{\"name\":\"B\",\"value\":\"2\"},"
	  "{\"name\":\"C\"}]}]}}" },
	{ "node conditions and addresses merge by type", "Node",
	  "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
	  "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"},{\"type\":\"Hostname\",\"address\":\"n1\"}]}}",
	  "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	  "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}]}}",
	  "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	  "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"},{\"type\":\"Hostname\",\"address\":\"n1\"}]}}" },
	{ "service ports merge by port", "Service",
	  "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080},{\"port\":443}]}}",
	  "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}",
	  "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":443}]}}" },
	{ "endpoints subsets are atomic", "Endpoints",
	  "{\"subsets\":[{\"addresses\":[{\"ip\":\"10.244.0.5\"}]}]}",
	  "{\"subsets\":[{\"addresses\":[{\"ip\":\"10.244.0.6\"}]}]}",
	  "{\"subsets\":[{\"addresses\":[{\"ip\":\"10.244.0.6\"}]}]}" },
	{ "replication controller template containers merge by name", "ReplicationController",
	  "{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":80}]}]}}}}",
	  "{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"y\"}]}}}}",
	  "{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"y\",\"ports\":[{\"containerPort\":80}]}]}}}}" },
	{ "unknown kinds merge maps and replace lists", "ConfigMap", "{\"data\":{\"a\":\"1\"},\"list\":[1,2]}",
	  "{\"data\":{\"b\":\"2\"},\"list\":[3]}", "{\"data\":{\"a\":\"1\",\"b\":\"2\"},\"list\":[3]}" },
	{ "a new list in a patch has its directives processed", "Pod", "{\"spec\":{}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"gone\",\"$patch\":\"delete\"}]}}",
	  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}" },
	{ "a scalar replaced by a map", "Pod", "{\"spec\":{\"x\":\"s\"}}", "{\"spec\":{\"x\":{\"a\":1,\"b\":null}}}",
	  "{\"spec\":{\"x\":{\"a\":1}}}" },
};

/* Criterion runs parameterized tests in a fresh process, where pointers in a parameter
 * table do not survive: the tables are walked in one test each instead. */
static void check_case(const struct smp_case *c)
{
	_cleanup_json_ json_object *orig = J(c->orig), *patch = J(c->patch), *want = J(c->want);
	_cleanup_json_ json_object *got = NULL;
	_cleanup_free_ char *before = strdup(S(orig));
	char *err = NULL;
	int r = patch_strategic(c->kind, orig, patch, &got, &err);

	cr_assert_eq(r, 0, "%s: failed: %s", c->name, err ? err : "?");
	cr_expect(json_object_equal(got, want), "%s:\n got  %s\n want %s", c->name, S(got), S(want));
	cr_expect_str_eq(S(orig), before, "%s: the original was modified", c->name);
	free(err);
}

struct smp_error {
	const char *orig, *patch, *want_err;
};

static const struct smp_error error_cases[] = {
	{ "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}", "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}",
	  "does not contain declared merge key: name" },
	{ "{\"metadata\":{}}", "{\"metadata\":{\"$patch\":\"bogus\"}}", "unknown patch type" },
	{ "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}", "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"merge\"}]}}",
	  "merging lists cannot yet be specified in the patch" },
	{ "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}", "{\"spec\":{\"containers\":[{\"$patch\":\"delete\"}]}}",
	  "does not contain declared merge key: name" },
	{ "{\"spec\":{}}", "{\"spec\":{\"$retainKeys\":\"name\"}}", "retainKeys" },
	{ "{\"spec\":{\"a\":1}}", "{\"spec\":{\"$retainKeys\":[\"a\"],\"b\":2}}", "retainKeys" },
	{ "{\"spec\":{}}", "{\"spec\":{\"$setElementOrder/containers\":{\"name\":\"a\"}}}", "$setElementOrder" },
	{ "{\"metadata\":{\"finalizers\":[\"a\"]}}", "{\"metadata\":{\"finalizers\":[1]}}", "not identical" },
	{ "{\"metadata\":{}}", "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":\"a\"}}",
	  "$deleteFromPrimitiveList" },
	{ "{}", "[1]", "must be JSON objects" },
};

Test(patch_strategic, table)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		check_case(&cases[i]);
}

static void check_error(const struct smp_error *c)
{
	_cleanup_json_ json_object *orig = J(c->orig), *patch = J(c->patch);
	json_object *got = NULL;
	char *err = NULL;
	int r = patch_strategic("Pod", orig, patch, &got, &err);

	cr_assert_eq(r, -EINVAL, "patch %s: expected an error, got %d (%s)", c->patch, r, got ? S(got) : "");
	cr_assert_null(got);
	cr_assert(err && strstr(err, c->want_err), "patch %s: error \"%s\" lacks \"%s\"", c->patch,
		  err ? err : "(none)", c->want_err);
	free(err);
}

Test(patch_strategic, errors)
{
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++)
		check_error(&error_cases[i]);
}

Test(patch_strategic, result_is_independent_of_the_patch)
{
	_cleanup_json_ json_object *orig = J("{\"spec\":{}}");
	json_object *patch = J("{\"spec\":{\"tolerations\":[{\"key\":\"a\"}],\"x\":\"y\"}}");
	_cleanup_json_ json_object *got = NULL;
	char *err = NULL;

	cr_assert_eq(patch_strategic("Pod", orig, patch, &got, &err), 0);
	json_object_put(patch);
	cr_expect_str_eq(S(got), "{\"spec\":{\"tolerations\":[{\"key\":\"a\"}],\"x\":\"y\"}}");
}
