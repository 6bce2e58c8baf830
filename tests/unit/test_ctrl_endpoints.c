/* The endpoints controller's pure part: port resolution (numbers, container port names,
 * protocols) and the subsets built from pods. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>

#include <skiff/json.h>

#include "controllers/endpoints.h"

static json_object *J(const char *s)
{
	const char *err;
	json_object *o = json_parse_buffer(s, strlen(s), &err);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

#define POD_PORTS                                                                                              \
	"\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":["                                  \
	"{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},"                                        \
	"{\"name\":\"dns\",\"containerPort\":5353,\"protocol\":\"UDP\"}]}]}"

static json_object *pod(const char *name, const char *ip, bool ready)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"u-%s\"}," POD_PORTS ","
		 "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
		 name, name, ip, ready ? "True" : "False");
	return J(buf);
}

Test(endpoints_port, number_name_and_protocol)
{
	json_object *p = pod("a", "10.244.1.5", true);
	json_object *num = J("{\"port\":80,\"targetPort\":9090}"), *named = J("{\"port\":80,\"targetPort\":\"http\"}");
	json_object *udp = J("{\"port\":53,\"protocol\":\"UDP\",\"targetPort\":\"dns\"}");
	json_object *wrong_proto = J("{\"port\":53,\"protocol\":\"TCP\",\"targetPort\":\"dns\"}");
	json_object *missing = J("{\"port\":80,\"targetPort\":\"metrics\"}"), *none = J("{\"port\":81}");
	int64_t v = 0;

	cr_expect_eq(endpoints_resolve_port(num, p, &v), 0);
	cr_expect_eq(v, 9090);
	cr_expect_eq(endpoints_resolve_port(named, p, &v), 0);
	cr_expect_eq(v, 8080);
	cr_expect_eq(endpoints_resolve_port(udp, p, &v), 0);
	cr_expect_eq(v, 5353);
	cr_expect_eq(endpoints_resolve_port(wrong_proto, p, &v), -ENOENT, "a name matches only its protocol");
	cr_expect_eq(endpoints_resolve_port(missing, p, &v), -ENOENT);
	cr_expect_eq(endpoints_resolve_port(none, p, &v), 0);
	cr_expect_eq(v, 81, "no targetPort: the service port");
	json_object_put(p), json_object_put(num), json_object_put(named), json_object_put(udp);
	json_object_put(wrong_proto), json_object_put(missing), json_object_put(none);
}

Test(endpoints_subsets, ready_not_ready_and_ports)
{
	json_object *svc = J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"ports\":["
			     "{\"name\":\"web\",\"port\":80,\"protocol\":\"TCP\",\"targetPort\":\"http\"}]}}");
	json_object *pods[] = { pod("b", "10.244.1.10", true), pod("a", "10.244.1.9", true),
				pod("c", "10.244.2.3", false), pod("d", "", true) };
	json_object *subsets, *s, *addr, *port;

	json_object_object_add(json_get_path(pods[1], "metadata"), "deletionTimestamp",
			       json_object_new_string("2026-01-01T00:00:00Z"));
	subsets = endpoints_subsets(svc, pods, ELEMENTSOF(pods));
	cr_assert_not_null(subsets);
	cr_assert_eq(json_object_array_length(subsets), 1);
	s = json_object_array_get_idx(subsets, 0);
	cr_assert_eq(json_object_array_length(json_get_path(s, "addresses")), 1);
	addr = json_object_array_get_idx(json_get_path(s, "addresses"), 0);
	cr_expect_str_eq(json_get_string(addr, "ip"), "10.244.1.10");
	cr_expect_str_eq(json_get_string(addr, "nodeName"), "n1");
	cr_expect_str_eq(json_get_string(addr, "targetRef.kind"), "Pod");
	cr_expect_str_eq(json_get_string(addr, "targetRef.name"), "b");
	cr_expect_str_eq(json_get_string(addr, "targetRef.uid"), "u-b");
	/* A pod being deleted is not ready; numeric IP order (.9 before .10 would fail as text). */
	cr_assert_eq(json_object_array_length(json_get_path(s, "notReadyAddresses")), 2);
	cr_expect_str_eq(json_get_string(json_object_array_get_idx(json_get_path(s, "notReadyAddresses"), 0), "ip"),
			 "10.244.1.9");
	cr_expect_str_eq(json_get_string(json_object_array_get_idx(json_get_path(s, "notReadyAddresses"), 1), "ip"),
			 "10.244.2.3");
	port = json_object_array_get_idx(json_get_path(s, "ports"), 0);
	cr_expect_str_eq(json_get_string(port, "name"), "web");
	cr_expect_eq(json_object_get_int(json_get_path(port, "port")), 8080);
	cr_expect_str_eq(json_get_string(port, "protocol"), "TCP");
	json_object_put(subsets);
	json_object_put(svc);
	for (size_t i = 0; i < ELEMENTSOF(pods); i++)
		json_object_put(pods[i]);
}

Test(endpoints_subsets, unresolvable_port_skips_pod_and_groups_by_ports)
{
	json_object *svc = J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"ports\":["
			     "{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":\"http\"}]}}");
	json_object *pods[] = { pod("a", "10.244.1.2", true), pod("b", "10.244.1.3", true) };
	json_object *subsets;

	/* b names its port differently: it serves nothing through this Service. */
	json_object_object_add(json_object_array_get_idx(json_get_path(json_object_array_get_idx(
									     json_get_path(pods[1], "spec.containers"), 0),
								     "ports"),
							 0),
			       "name", json_object_new_string("other"));
	subsets = endpoints_subsets(svc, pods, 2);
	cr_assert_eq(json_object_array_length(subsets), 1);
	cr_expect_eq(json_object_array_length(json_get_path(json_object_array_get_idx(subsets, 0), "addresses")), 1);
	cr_expect_null(json_get_path(json_object_array_get_idx(json_get_path(json_object_array_get_idx(subsets, 0),
									   "ports"),
							       0),
				     "name"),
		       "an unnamed service port gives an unnamed endpoint port");
	json_object_put(subsets);
	json_object_put(svc);
	json_object_put(pods[0]);
	json_object_put(pods[1]);
}

Test(endpoints_subsets, no_pods_no_subsets)
{
	json_object *svc = J("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"ports\":[{\"port\":80}]}}");
	json_object *subsets = endpoints_subsets(svc, NULL, 0);

	cr_assert_not_null(subsets);
	cr_expect_eq(json_object_array_length(subsets), 0);
	json_object_put(subsets);
	json_object_put(svc);
}
