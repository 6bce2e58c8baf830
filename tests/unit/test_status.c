/* Status objects: Kubernetes' wording and wire form. */
#include <criterion/criterion.h>
#include <string.h>

#include <skiff/json.h>

#include "api/status.h"

Test(status, not_found_wire_form)
{
	struct api_status st = { 0 };
	_cleanup_json_ json_object *o = NULL;

	api_status_not_found(&st, "pods", "x");
	o = api_status_to_json(&st);
	cr_assert_str_eq(json_get_string(o, "kind"), "Status");
	cr_assert_str_eq(json_get_string(o, "apiVersion"), "v1");
	cr_assert_str_eq(json_get_string(o, "status"), "Failure");
	cr_assert_str_eq(json_get_string(o, "message"), "pods \"x\" not found");
	cr_assert_str_eq(json_get_string(o, "reason"), "NotFound");
	cr_assert_str_eq(json_get_string(o, "details.name"), "x");
	cr_assert_str_eq(json_get_string(o, "details.kind"), "pods");
	cr_assert_eq(json_object_get_int(json_get_path(o, "code")), 404);
	cr_assert(json_object_is_type(json_get_path(o, "metadata"), json_type_object));
	api_status_clear(&st);
	cr_assert_null(st.message);
	cr_assert_eq(st.code, 0);
}

Test(status, already_exists_and_conflict)
{
	struct api_status st = { 0 };

	api_status_already_exists(&st, "services", "web");
	cr_assert_eq(st.code, 409);
	cr_assert_str_eq(st.reason, "AlreadyExists");
	cr_assert_str_eq(st.message, "services \"web\" already exists");
	/* Setting again replaces, never leaks or appends. */
	api_status_conflict(&st, "pods", "p");
	cr_assert_eq(st.code, 409);
	cr_assert_str_eq(st.reason, "Conflict");
	cr_assert_str_eq(st.message, "Operation cannot be fulfilled on pods \"p\": the object has been modified; "
				     "please apply your changes to the latest version and try again");
	api_status_clear(&st);
}

Test(status, bad_request_and_internal)
{
	struct api_status st = { 0 };
	_cleanup_json_ json_object *o = NULL;

	api_status_bad_request(&st, "invalid limit %s", "x");
	cr_assert_eq(st.code, 400);
	cr_assert_str_eq(st.reason, "BadRequest");
	cr_assert_str_eq(st.message, "invalid limit x");
	api_status_internal(&st, -5, "store");
	cr_assert_eq(st.code, 500);
	cr_assert_str_eq(st.reason, "InternalError");
	cr_assert(strstr(st.message, "store") != NULL);
	o = api_status_to_json(&st);
	cr_assert_null(json_get_path(o, "details"));
	cr_assert_eq(json_object_get_int(json_get_path(o, "code")), 500);
	api_status_clear(&st);
}

Test(status, reason_left_out_when_absent)
{
	struct api_status st = { 0 };
	_cleanup_json_ json_object *o = NULL;

	api_status_set(&st, 422, NULL, "bad %d", 1);
	o = api_status_to_json(&st);
	cr_assert_null(json_get_path(o, "reason"));
	cr_assert_str_eq(json_get_string(o, "message"), "bad 1");
	api_status_clear(&st);
}

Test(status, success_for_deletes)
{
	_cleanup_json_ json_object *o = api_status_success("pods", "p", "u-1");

	cr_assert_str_eq(json_get_string(o, "status"), "Success");
	cr_assert_str_eq(json_get_string(o, "details.name"), "p");
	cr_assert_str_eq(json_get_string(o, "details.kind"), "pods");
	cr_assert_str_eq(json_get_string(o, "details.uid"), "u-1");
	cr_assert_null(json_get_path(o, "code"));
}
