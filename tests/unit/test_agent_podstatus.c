/* Pod status the agent posts: phase, conditions, IPs and container statuses from the runtime's
 * view (or Pending with a reason without one), and the diff against the server's copy. */
#include <criterion/criterion.h>
#include <string.h>

#include <skiff/json.h>

#include "node/podstatus.h"
#include "node/reconcile.h"

#define NOW "2026-11-28T10:00:00Z"

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

static const char *cond(json_object *status, const char *type, const char *field)
{
	json_object *a = json_get_path(status, "conditions");

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);

		if (strcmp(json_get_string(c, "type"), type) == 0)
			return json_get_string(c, field);
	}
	return NULL;
}

#define POD(extra)                                                                                         \
	"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"nodeName\":\"n1\"," \
	extra "\"containers\":[{\"name\":\"a\",\"image\":\"busybox\"},{\"name\":\"b\",\"image\":\"nginx\"}]}}"

Test(agent_podstatus, no_runtime_is_pending_with_the_reason)
{
	json_object *pod = parse(POD(""));
	json_object *st = pod_status_build(&(struct pod_status_input){ .pod = pod, .host_ip = "10.0.0.5",
									.wait_reason = "RuntimeUnavailable",
									.wait_message = "no runtime", .now = NOW });
	json_object *cs = json_get_path(st, "containerStatuses");

	cr_assert_str_eq(json_get_string(st, "phase"), "Pending");
	cr_assert_str_eq(json_get_string(st, "hostIP"), "10.0.0.5");
	cr_assert_null(json_get_path(st, "podIP"), "no pod IP before the network issue");
	cr_assert_str_eq(json_get_string(st, "startTime"), NOW);
	cr_assert_eq(json_object_array_length(cs), 2);
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(cs, 1), "name"), "b");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(cs, 1), "image"), "nginx");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(cs, 0), "state.waiting.reason"),
			 "RuntimeUnavailable");
	cr_assert_str_eq(cond(st, "PodScheduled", "status"), "True");
	cr_assert_str_eq(cond(st, "Initialized", "status"), "True");
	cr_assert_str_eq(cond(st, "ContainersReady", "status"), "False");
	cr_assert_str_eq(cond(st, "Ready", "status"), "False");
	cr_assert_str_eq(cond(st, "Ready", "reason"), "ContainersNotReady");
	cr_assert_str_eq(cond(st, "Ready", "message"), "containers with unready status: [a b]");
	json_object_put(st);
	json_object_put(pod);
}

Test(agent_podstatus, running_and_ready_from_the_runtime)
{
	json_object *pod = parse(POD(""));
	json_object *rt = parse("{\"phase\":\"Running\",\"podIP\":\"10.244.0.7\",\"startTime\":\"2026-11-28T09:00:00Z\","
				"\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":0,"
				"\"state\":{\"running\":{\"startedAt\":\"2026-11-28T09:00:01Z\"}}},"
				"{\"name\":\"b\",\"ready\":true,\"restartCount\":2,"
				"\"state\":{\"running\":{\"startedAt\":\"2026-11-28T09:00:01Z\"}}}]}");
	json_object *st = pod_status_build(
		&(struct pod_status_input){ .pod = pod, .runtime = rt, .host_ip = "10.0.0.5", .now = NOW });

	cr_assert_str_eq(json_get_string(st, "phase"), "Running");
	cr_assert_str_eq(json_get_string(st, "podIP"), "10.244.0.7");
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(json_get_path(st, "podIPs"), 0), "ip"),
			 "10.244.0.7");
	cr_assert_str_eq(json_get_string(st, "startTime"), "2026-11-28T09:00:00Z");
	cr_assert_str_eq(cond(st, "Ready", "status"), "True");
	cr_assert_str_eq(cond(st, "ContainersReady", "status"), "True");
	cr_assert_null(cond(st, "Ready", "reason"));
	cr_assert_eq(json_object_get_int(json_get_path(
			     json_object_array_get_idx(json_get_path(st, "containerStatuses"), 1), "restartCount")),
		     2);
	json_object_put(st);
	json_object_put(rt);
	json_object_put(pod);
}

Test(agent_podstatus, one_unready_container_and_completion)
{
	json_object *pod = parse(POD(""));
	json_object *rt = parse("{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":true},"
				"{\"name\":\"b\",\"ready\":false}]}");
	json_object *done = parse("{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false},"
				  "{\"name\":\"b\",\"ready\":false}]}");
	json_object *st = pod_status_build(&(struct pod_status_input){ .pod = pod, .runtime = rt, .now = NOW });
	json_object *st2 = pod_status_build(&(struct pod_status_input){ .pod = pod, .runtime = done, .now = NOW });

	cr_assert_str_eq(cond(st, "Ready", "status"), "False");
	cr_assert_str_eq(cond(st, "Ready", "message"), "containers with unready status: [b]");
	cr_assert_str_eq(json_get_string(st2, "phase"), "Succeeded");
	cr_assert_str_eq(cond(st2, "Ready", "reason"), "PodCompleted");
	cr_assert_null(json_get_path(st, "hostIP"), "no host IP known, none sent");
	json_object_put(st);
	json_object_put(st2);
	json_object_put(rt);
	json_object_put(done);
	json_object_put(pod);
}

Test(agent_podstatus, host_network_pods_get_the_host_ip)
{
	json_object *pod = parse(POD("\"hostNetwork\":true,"));
	json_object *st = pod_status_build(&(struct pod_status_input){ .pod = pod, .host_ip = "10.0.0.5", .now = NOW });

	cr_assert_str_eq(json_get_string(st, "podIP"), "10.0.0.5");
	json_object_put(st);
	json_object_put(pod);
}

Test(agent_podstatus, diff_against_the_server_copy)
{
	json_object *pod = parse(POD(""));
	json_object *a = pod_status_build(&(struct pod_status_input){ .pod = pod, .host_ip = "10.0.0.5", .now = NOW });
	json_object *b = pod_status_build(
		&(struct pod_status_input){ .pod = pod, .host_ip = "10.0.0.5", .now = "2026-11-28T10:05:00Z" });
	json_object *server = json_clone(a);

	/* The server adds fields the agent does not own (qosClass): they never cause a post. */
	json_object_object_add(server, "qosClass", json_object_new_string("BestEffort"));
	cr_assert(pod_status_differs(a, NULL));
	cr_assert_not(pod_status_differs(a, server));
	json_object_object_add(b, "startTime", json_object_new_string(NOW));
	cr_assert_not(pod_status_differs(b, server), "only transition times moved");
	json_object_object_add(server, "phase", json_object_new_string("Running"));
	cr_assert(pod_status_differs(a, server));

	pod_status_carry_transitions(b, a);
	cr_assert_str_eq(cond(b, "Ready", "lastTransitionTime"), NOW, "unchanged conditions keep their time");
	json_object_put(a);
	json_object_put(b);
	json_object_put(server);
	json_object_put(pod);
}

Test(agent_podstatus, grace_seconds)
{
	json_object *a = parse("{\"metadata\":{\"deletionGracePeriodSeconds\":7},\"spec\":{\"terminationGracePeriodSeconds\":40}}");
	json_object *b = parse("{\"metadata\":{},\"spec\":{\"terminationGracePeriodSeconds\":40}}");
	json_object *c = parse("{\"metadata\":{},\"spec\":{}}");

	cr_assert_eq(reconcile_grace_seconds(a), 7);
	cr_assert_eq(reconcile_grace_seconds(b), 40);
	cr_assert_eq(reconcile_grace_seconds(c), 30);
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
}
