/* Content negotiation: Table and aggregated-discovery Accept headers as kubectl sends them. */
#include <criterion/criterion.h>

#include <skiff/json.h>

#include "api/encode.h"

Test(encode, table_accept)
{
	cr_assert(encode_wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
				     "g=meta.k8s.io,application/json"));
	cr_assert(encode_wants_table("application/json; as=Table; v=v1; g=meta.k8s.io"));
	cr_assert_not(encode_wants_table("application/json"));
	cr_assert_not(encode_wants_table(NULL));
	cr_assert_not(encode_wants_table("*/*"));
	cr_assert_not(encode_wants_table("application/json;as=TableX;g=meta.k8s.io"));
	cr_assert_not(encode_wants_table("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"));
}

Test(encode, aggregated_accept)
{
	cr_assert(encode_wants_aggregated("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
					  "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
					  "application/json"));
	cr_assert_not(encode_wants_aggregated("application/json, */*"));
	cr_assert_not(encode_wants_aggregated("application/json;as=Table;v=v1;g=meta.k8s.io"));
}

Test(encode, plain_watch_event)
{
	_cleanup_json_ json_object *obj = json_tokener_parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}");
	_cleanup_json_ json_object *ev = encode_watch_event(resource_by_name("pods"), "ADDED", obj, false, false, 0);
	size_t len;

	cr_assert_str_eq(encode_json(ev, &len),
			 "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}}");
}

Test(encode, table_watch_event_and_list)
{
	_cleanup_json_ json_object *obj = json_tokener_parse(
		"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
		"\"resourceVersion\":\"7\",\"creationTimestamp\":\"2024-01-01T00:00:00Z\"},\"spec\":{}}");
	_cleanup_json_ json_object *list = json_tokener_parse(
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[]}");
	_cleanup_json_ json_object *ev = encode_watch_event(resource_by_name("pods"), "MODIFIED", obj, true, true, 0);
	_cleanup_json_ json_object *one = encode_object_table(resource_by_name("pods"), obj, 0);
	_cleanup_json_ json_object *t = NULL;

	json_object_array_add(json_object_object_get(list, "items"), json_object_get(obj));
	t = encode_list_table(resource_by_name("pods"), list, 0);
	cr_assert_str_eq(json_get_string(ev, "type"), "MODIFIED");
	cr_assert_str_eq(json_get_string(ev, "object.kind"), "Table");
	cr_assert_str_eq(json_get_string(one, "kind"), "Table");
	cr_assert_str_eq(json_get_string(one, "metadata.resourceVersion"), "7");
	cr_assert_eq(json_object_array_length(json_get_path(one, "rows")), 1);
	cr_assert_str_eq(json_get_string(t, "metadata.resourceVersion"), "9");
	cr_assert_eq(json_object_array_length(json_get_path(t, "rows")), 1);
	cr_assert_gt(json_object_array_length(json_get_path(t, "columnDefinitions")), 0);
}
