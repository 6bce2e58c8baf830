/* Server-side Tables: exact cells of Kubernetes' printers for representative objects,
 * and duration.HumanDuration's ages. */
#include <criterion/criterion.h>
#include <string.h>

#include <skiff/json.h>

#include "api/table.h"

#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

/* The one row's cells of a table over obj, as compact JSON. */
static char *cells_of(const char *res, const char *obj_json)
{
	_cleanup_json_ json_object *obj = parse(obj_json);
	_cleanup_json_ json_object *t = table_new(resource_by_name(res), &obj, 1, true, NULL, NOW);
	json_object *cells;

	cr_assert_not_null(t);
	cells = json_object_object_get(json_object_array_get_idx(json_object_object_get(t, "rows"), 0), "cells");
	cr_assert_not_null(cells);
	return strdup(json_object_to_json_string_ext(cells, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void assert_cells(const char *res, const char *obj_json, const char *want)
{
	char *got = cells_of(res, obj_json);

	cr_assert_str_eq(got, want);
	free(got);
}

static const char *age(time_t ago)
{
	static char buf[32];

	table_format_age(NOW - ago, NOW, buf, sizeof(buf));
	return buf;
}

Test(table, human_duration)
{
	cr_assert_str_eq(age(-5), "<invalid>");
	cr_assert_str_eq(age(-1), "0s");
	cr_assert_str_eq(age(0), "0s");
	cr_assert_str_eq(age(59), "59s");
	cr_assert_str_eq(age(119), "119s");
	cr_assert_str_eq(age(120), "2m");
	cr_assert_str_eq(age(123), "2m3s");
	cr_assert_str_eq(age(599), "9m59s");
	cr_assert_str_eq(age(600), "10m");
	cr_assert_str_eq(age(3 * 3600 - 1), "179m");
	cr_assert_str_eq(age(3 * 3600), "3h");
	cr_assert_str_eq(age(3 * 3600 + 25 * 60), "3h25m");
	cr_assert_str_eq(age(8 * 3600), "8h");
	cr_assert_str_eq(age(47 * 3600 + 59 * 60), "47h");
	cr_assert_str_eq(age(48 * 3600), "2d");
	cr_assert_str_eq(age(53 * 3600), "2d5h");
	cr_assert_str_eq(age(8 * 86400), "8d");
	cr_assert_str_eq(age(400 * 86400), "400d");
	cr_assert_str_eq(age(730 * 86400), "2y");
	cr_assert_str_eq(age(740 * 86400), "2y10d");
	cr_assert_str_eq(age(3000 * 86400), "8y");
}

Test(table, parse_time)
{
	time_t t;

	cr_assert_eq(table_parse_time("2023-11-14T22:13:20Z", &t), 0);
	cr_assert_eq(t, NOW);
	cr_assert_eq(table_parse_time("2023-11-14T22:13:20.123456Z", &t), 0);
	cr_assert_eq(t, NOW);
	cr_assert_eq(table_parse_time("2023-11-15T00:13:20+02:00", &t), 0);
	cr_assert_eq(t, NOW);
	cr_assert_lt(table_parse_time("yesterday", &t), 0);
	cr_assert_lt(table_parse_time("2023-11-14T22:13:20", &t), 0);
}

Test(table, frame_columns_and_row_object)
{
	_cleanup_json_ json_object *pod = parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u1\","
						"\"labels\":{\"app\":\"web\"},\"resourceVersion\":\"9\"}}");
	_cleanup_json_ json_object *lm = parse("{\"resourceVersion\":\"42\",\"continue\":\"\"}");
	_cleanup_json_ json_object *t = table_new(resource_by_name("pods"), &pod, 1, true, lm, NOW);
	json_object *cols = json_object_object_get(t, "columnDefinitions");
	json_object *row = json_object_array_get_idx(json_object_object_get(t, "rows"), 0);
	json_object *obj = json_object_object_get(row, "object");
	const char *names[] = { "Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node",
				"Readiness Gates" };

	cr_assert_str_eq(json_get_string(t, "kind"), "Table");
	cr_assert_str_eq(json_get_string(t, "apiVersion"), "meta.k8s.io/v1");
	cr_assert_str_eq(json_get_string(t, "metadata.resourceVersion"), "42");
	cr_assert_null(json_get_path(t, "metadata.continue"), "an empty continue token is left out");
	cr_assert_eq(json_object_array_length(cols), 9);
	for (size_t i = 0; i < 9; i++) {
		json_object *c = json_object_array_get_idx(cols, i);

		cr_assert_str_eq(json_get_string(c, "name"), names[i]);
		cr_assert_str_eq(json_get_string(c, "type"), "string");
		cr_assert_str_eq(json_get_string(c, "format"), i == 0 ? "name" : "");
		cr_assert_not_null(json_get_string(c, "description"));
		cr_assert_eq(json_object_get_int(json_object_object_get(c, "priority")), i >= 5 ? 1 : 0);
	}
	cr_assert_str_eq(json_get_string(obj, "kind"), "PartialObjectMetadata");
	cr_assert_str_eq(json_get_string(obj, "apiVersion"), "meta.k8s.io/v1");
	cr_assert_str_eq(json_get_string(obj, "metadata.labels.app"), "web");
	cr_assert_str_eq(json_get_string(obj, "metadata.uid"), "u1");
	cr_assert_null(json_object_object_get(obj, "spec"));
}

Test(table, watch_rows_without_columns)
{
	_cleanup_json_ json_object *pod = parse("{\"metadata\":{\"name\":\"web\"}}");
	_cleanup_json_ json_object *t = table_new(resource_by_name("pods"), &pod, 1, false, NULL, NOW);

	cr_assert_null(json_object_object_get(t, "columnDefinitions"));
	cr_assert_eq(json_object_array_length(json_object_object_get(t, "rows")), 1);
}

Test(table, pod_running_with_restarts)
{
	assert_cells("pods",
		     "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2023-11-14T22:11:17Z\"},"
		     "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
		     "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.0.5\",\"podIPs\":[{\"ip\":\"10.244.0.5\"}],"
		     "\"containerStatuses\":["
		     "{\"name\":\"a\",\"ready\":true,\"restartCount\":3,\"state\":{\"running\":{}},"
		     "\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":\"2023-11-14T22:08:20Z\"}}},"
		     "{\"name\":\"b\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}}]}}",
		     "[\"web\",\"2/2\",\"Running\",\"3 (5m ago)\",\"2m3s\",\"10.244.0.5\",\"n1\",\"<none>\",\"<none>\"]");
}

Test(table, pod_waiting_reason_and_pending)
{
	assert_cells("pods",
		     "{\"metadata\":{\"name\":\"w\",\"creationTimestamp\":\"2023-11-14T22:13:15Z\"},"
		     "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\",\"containerStatuses\":["
		     "{\"name\":\"a\",\"ready\":false,\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}}]}}",
		     "[\"w\",\"0/1\",\"ErrImagePull\",\"0\",\"5s\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
	assert_cells("pods", "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
		     "[\"p\",\"0/1\",\"\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
}

Test(table, pod_init_and_terminated)
{
	/* Second init container still running: Init:1/2. */
	assert_cells("pods",
		     "{\"metadata\":{\"name\":\"i\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],"
		     "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
		     "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":0}}},"
		     "{\"name\":\"i2\",\"state\":{\"running\":{}}}],"
		     "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}",
		     "[\"i\",\"0/1\",\"Init:1/2\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
	/* A failed init container without a reason. */
	assert_cells("pods",
		     "{\"metadata\":{\"name\":\"f\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],"
		     "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
		     "{\"name\":\"i1\",\"restartCount\":2,\"state\":{\"terminated\":{\"exitCode\":3}}}]}}",
		     "[\"f\",\"0/1\",\"Init:ExitCode:3\",\"2\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
	/* A container killed by a signal, and a completed one. */
	assert_cells("pods",
		     "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Failed\","
		     "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}",
		     "[\"s\",\"0/1\",\"Signal:9\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
	assert_cells("pods",
		     "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":"
		     "\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,"
		     "\"reason\":\"Completed\"}}}]}}",
		     "[\"c\",\"0/1\",\"Completed\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
}

Test(table, pod_terminating_and_gates)
{
	assert_cells("pods",
		     "{\"metadata\":{\"name\":\"t\",\"deletionTimestamp\":\"2023-11-14T22:13:00Z\"},"
		     "\"spec\":{\"containers\":[{\"name\":\"a\"}],\"readinessGates\":[{\"conditionType\":\"x/ok\"},"
		     "{\"conditionType\":\"x/lb\"}]},\"status\":{\"phase\":\"Running\",\"nominatedNodeName\":\"n2\","
		     "\"conditions\":[{\"type\":\"x/ok\",\"status\":\"True\"},{\"type\":\"x/lb\",\"status\":\"False\"}],"
		     "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
		     "[\"t\",\"1/1\",\"Terminating\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"n2\",\"1/2\"]");
}

Test(table, node)
{
	assert_cells("nodes",
		     "{\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"2023-11-12T17:13:20Z\",\"labels\":{"
		     "\"node-role.kubernetes.io/worker\":\"\",\"node-role.kubernetes.io/control-plane\":\"\","
		     "\"kubernetes.io/hostname\":\"n1\"}},\"spec\":{\"unschedulable\":true},"
		     "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
		     "{\"type\":\"Ready\",\"status\":\"True\"}],\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
		     "\"192.168.1.10\"},{\"type\":\"Hostname\",\"address\":\"n1\"}],\"nodeInfo\":{\"kubeletVersion\":"
		     "\"v1.32.0-skiff\",\"osImage\":\"Debian GNU/Linux 12 (bookworm)\",\"kernelVersion\":\"6.1.0\"}}}",
		     "[\"n1\",\"Ready,SchedulingDisabled\",\"control-plane,worker\",\"2d5h\",\"v1.32.0-skiff\","
		     "\"192.168.1.10\",\"<none>\",\"Debian GNU/Linux 12 (bookworm)\",\"6.1.0\",\"<unknown>\"]");
	assert_cells("nodes", "{\"metadata\":{\"name\":\"n2\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}",
		     "[\"n2\",\"NotReady\",\"<none>\",\"<unknown>\",\"\",\"<none>\",\"<none>\",\"<unknown>\",\"<unknown>\","
		     "\"<unknown>\"]");
	assert_cells("nodes", "{\"metadata\":{\"name\":\"n3\",\"labels\":{\"kubernetes.io/role\":\"edge\"}}}",
		     "[\"n3\",\"Unknown\",\"edge\",\"<unknown>\",\"\",\"<none>\",\"<none>\",\"<unknown>\",\"<unknown>\","
		     "\"<unknown>\"]");
}

Test(table, service)
{
	assert_cells("services",
		     "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2023-11-14T21:13:20Z\"},\"spec\":{\"type\":"
		     "\"NodePort\",\"clusterIP\":\"10.96.0.10\",\"clusterIPs\":[\"10.96.0.10\"],\"selector\":{\"tier\":"
		     "\"fe\",\"app\":\"x\"},\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"nodePort\":30080},"
		     "{\"port\":53,\"protocol\":\"UDP\"}]}}",
		     "[\"web\",\"NodePort\",\"10.96.0.10\",\"<none>\",\"80:30080/TCP,53/UDP\",\"60m\",\"app=x,tier=fe\"]");
	assert_cells("services",
		     "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"None\","
		     "\"clusterIPs\":[\"None\"],\"externalIPs\":[\"1.2.3.4\",\"5.6.7.8\"]}}",
		     "[\"h\",\"ClusterIP\",\"None\",\"1.2.3.4,5.6.7.8\",\"<none>\",\"<unknown>\",\"<none>\"]");
	assert_cells("services", "{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.11\","
				 "\"ports\":[{\"port\":443,\"protocol\":\"TCP\",\"nodePort\":31443}]}}",
		     "[\"lb\",\"LoadBalancer\",\"10.96.0.11\",\"<pending>\",\"443:31443/TCP\",\"<unknown>\",\"<none>\"]");
	assert_cells("services", "{\"metadata\":{\"name\":\"ext\"},\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"example.org\"}}",
		     "[\"ext\",\"ExternalName\",\"<none>\",\"example.org\",\"<none>\",\"<unknown>\",\"<none>\"]");
}

Test(table, endpoints)
{
	assert_cells("endpoints",
		     "{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}],"
		     "\"ports\":[{\"port\":80}]}]}",
		     "[\"web\",\"10.0.0.1:80,10.0.0.2:80\",\"<unknown>\"]");
	assert_cells("endpoints",
		     "{\"metadata\":{\"name\":\"big\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"},"
		     "{\"ip\":\"10.0.0.3\"}],\"ports\":[{\"port\":80},{\"port\":443}]},{\"addresses\":[{\"ip\":\"fd00::1\"}]}]}",
		     "[\"big\",\"10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 4 more...\",\"<unknown>\"]");
	assert_cells("endpoints", "{\"metadata\":{\"name\":\"v6\"},\"subsets\":[{\"addresses\":[{\"ip\":\"fd00::1\"}],"
				  "\"ports\":[{\"port\":8080}]}]}",
		     "[\"v6\",\"[fd00::1]:8080\",\"<unknown>\"]");
	assert_cells("endpoints", "{\"metadata\":{\"name\":\"none\"}}", "[\"none\",\"<none>\",\"<unknown>\"]");
}

Test(table, replicationcontroller)
{
	assert_cells("replicationcontrollers",
		     "{\"metadata\":{\"name\":\"rc1\",\"creationTimestamp\":\"2023-11-14T22:13:10Z\"},\"spec\":{\"replicas\":3,"
		     "\"selector\":{\"app\":\"x\"},\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
		     "\"busybox\"},{\"name\":\"b\",\"image\":\"nginx:1\"}]}}},\"status\":{\"replicas\":2,\"readyReplicas\":1}}",
		     "[\"rc1\",3,2,1,\"10s\",\"a,b\",\"busybox,nginx:1\",\"app=x\"]");
	assert_cells("replicationcontrollers", "{\"metadata\":{\"name\":\"rc0\"},\"spec\":{\"replicas\":0}}",
		     "[\"rc0\",0,0,0,\"<unknown>\",\"\",\"\",\"<none>\"]");
}

Test(table, namespace_and_event)
{
	assert_cells("namespaces",
		     "{\"metadata\":{\"name\":\"default\",\"creationTimestamp\":\"2023-11-14T22:13:20Z\"},"
		     "\"status\":{\"phase\":\"Active\"}}",
		     "[\"default\",\"Active\",\"0s\"]");
	assert_cells("events",
		     "{\"metadata\":{\"name\":\"web.17a\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web\","
		     "\"fieldPath\":\"spec.containers{a}\"},\"reason\":\"Pulled\",\"type\":\"Normal\",\"message\":"
		     "\" image pulled\\n\",\"source\":{\"component\":\"kubelet\",\"host\":\"n1\"},\"count\":4,"
		     "\"firstTimestamp\":\"2023-11-14T21:13:20Z\",\"lastTimestamp\":\"2023-11-14T22:12:20Z\"}",
		     "[\"60s\",\"Normal\",\"Pulled\",\"pod/web\",\"spec.containers{a}\",\"kubelet, n1\",\"image pulled\","
		     "\"60m\",4,\"web.17a\"]");
	assert_cells("events",
		     "{\"metadata\":{\"name\":\"e2\"},\"involvedObject\":{\"kind\":\"Node\"},\"reason\":\"R\",\"type\":"
		     "\"Warning\",\"message\":\"m\",\"reportingComponent\":\"skiff-control\","
		     "\"eventTime\":\"2023-11-14T22:13:17.000000Z\"}",
		     "[\"3s\",\"Warning\",\"R\",\"node\",\"\",\"skiff-control\",\"m\",\"3s\",1,\"e2\"]");
}

Test(table, labels_format)
{
	_cleanup_json_ json_object *m = parse("{\"b\":\"2\",\"a\":\"1\",\"c\":\"\"}");
	char *s = table_format_labels(m);

	cr_assert_str_eq(s, "a=1,b=2,c=");
	free(s);
	s = table_format_labels(NULL);
	cr_assert_str_eq(s, "<none>");
	free(s);
}
