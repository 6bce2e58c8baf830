/* registry_bind_many: many bindings in one txn, each with the binding subresource's checks
 * and wording; a pod whose compare fails inside the txn (here: the same pod twice) falls
 * back to a lone bind and the others still commit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/registry_bind.h"
#include "lib/registry_kit.h"

static void setup(void)
{
	kit_setup("registry_bind", NULL);
}

TestSuite(registry_bind, .init = setup, .fini = kit_teardown);

static const char *node_of(const char *name)
{
	static char buf[64];
	_cleanup_json_ json_object *pod = NULL;

	cr_assert_eq(registry_get(kit_reg, kit_res("pods"), "default", name, NULL, &pod, &kit_st), 0, "%s", name);
	snprintf(buf, sizeof(buf), "%s", kit_str(pod, "spec.nodeName") ?: "");
	return buf;
}

static bool scheduled_condition(const char *name)
{
	_cleanup_json_ json_object *pod = NULL;
	json_object *conds;

	cr_assert_eq(registry_get(kit_reg, kit_res("pods"), "default", name, NULL, &pod, &kit_st), 0);
	conds = json_get_path(pod, "status.conditions");
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (strcmp(kit_str(c, "type") ?: "", "PodScheduled") == 0)
			return strcmp(kit_str(c, "status") ?: "", "True") == 0;
	}
	return false;
}

Test(registry_bind, many_in_one_txn)
{
	struct registry_binding b[3] = { { "default", "a", "n1", 1 }, { "default", "b", "n2", 1 },
					 { "default", "c", "n1", 1 } };

	json_object_put(kit_create("pods", "default", KIT_POD("a", "")));
	json_object_put(kit_create("pods", "default", KIT_POD("b", "")));
	json_object_put(kit_create("pods", "default", KIT_POD("c", "")));
	cr_assert_eq(registry_bind_many(kit_reg, b, 3, &kit_wo), 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(b[i].rc, 0);
		cr_assert_str_eq(node_of(b[i].name), b[i].node);
		cr_assert(scheduled_condition(b[i].name), "%s", b[i].name);
	}
}

Test(registry_bind, conflicts_fail_alone)
{
	struct delete_options d = { .grace_period_seconds = -1 };
	_cleanup_json_ json_object *marked = NULL;
	int code = 0;
	/* "dup" twice: both read the same revision, so the second's compare fails in the txn,
	 * and its lone retry finds the pod bound by the first. */
	struct registry_binding b[6] = {
		{ "default", "free", "n1", 1 },	    { "default", "bound", "n2", 1 }, { "default", "missing", "n1", 1 },
		{ "default", "dup", "n1", 1 },	    { "default", "dup", "n2", 1 },   { "default", "dying", "n1", 1 },
	};

	json_object_put(kit_create("pods", "default", KIT_POD("free", "")));
	json_object_put(kit_create("pods", "default", KIT_POD("dup", "")));
	json_object_put(kit_create("pods", "default",
				   "{\"metadata\":{\"name\":\"bound\"},\"spec\":{\"nodeName\":\"n9\",\"containers\":"
				   "[{\"name\":\"c\",\"image\":\"i\"}]}}"));
	json_object_put(kit_create("pods", "default",
				   "{\"metadata\":{\"name\":\"dying\",\"finalizers\":[\"example.com/hold\"]},\"spec\":"
				   "{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}"));
	cr_assert_eq(registry_delete(kit_reg, kit_res("pods"), "default", "dying", &d, &marked, &code, &kit_st), 0,
		     "%s", kit_st.message);
	api_status_clear(&kit_st);

	cr_assert_eq(registry_bind_many(kit_reg, b, 6, &kit_wo), 2);
	cr_assert_eq(b[0].rc, 0);
	cr_assert_eq(b[1].rc, -EEXIST);
	cr_assert_eq(b[2].rc, -ENOENT);
	cr_assert_eq(b[3].rc, 0);
	cr_assert_eq(b[4].rc, -EEXIST);
	cr_assert_eq(b[5].rc, -EEXIST);
	cr_assert_str_eq(node_of("free"), "n1");
	cr_assert_str_eq(node_of("bound"), "n9");
	cr_assert_str_eq(node_of("dup"), "n1");
	cr_assert_str_eq(node_of("dying"), "");
}

Test(registry_bind, apply_wording_matches_the_subresource)
{
	_cleanup_json_ json_object *pod = kit_json("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"n1\"}}");

	cr_assert_eq(registry_bind_apply(pod, "p", "n2", &kit_st), -EEXIST);
	cr_assert_eq(kit_st.code, 409);
	cr_assert(strstr(kit_st.message, "pod p is already assigned to node \"n1\""), "%s", kit_st.message);
	api_status_clear(&kit_st);
}
