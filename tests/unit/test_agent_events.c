/* The agent's event recorder against a real in-process skiff-control HTTPS server: an event
 * becomes a core/v1 Event (involvedObject with fieldPath, source component and host), repeats
 * count up the same Event, another message is another Event, one deleted on the server is made
 * again, and a server nobody answers for never blocks emit or free. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/auth.h"
#include "api/certs.h"
#include "api/client.h"
#include "api/server.h"
#include "lib/registry_kit.h"
#include "node/events.h"

static char certdir[64];
static struct control_credentials creds;
static struct auth *auth;
static struct server *srv;
static struct api_client *api;

static void setup(void)
{
	const char *hosts[] = { "127.0.0.1", "localhost" };
	char url[64];

	kit_setup("agentevents", NULL);
	snprintf(certdir, sizeof(certdir), "/tmp/skiff-test-evcerts-XXXXXX");
	cr_assert_not_null(mkdtemp(certdir));
	cr_assert_eq(certs_ensure(certdir, hosts, 2, "https://127.0.0.1:1", &creds), 0);
	auth = auth_new(creds.admin_token);
	cr_assert_not_null(auth);
	srv = server_start(&(struct server_config){ .host = "127.0.0.1", .port = 0, .cert_pem = creds.server_cert_pem,
						    .key_pem = creds.server_key_pem, .auth = auth, .reg = kit_reg,
						    .connection_limit = 64, .idle_timeout_s = 30,
						    .max_body_bytes = 1 << 20, .thread_stack_bytes = 512 * 1024 });
	cr_assert_not_null(srv, "server_start: %s", strerror(errno));
	server_set_ready(srv, true);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", server_port(srv));
	api = api_client_new(url, creds.ca_pem, creds.admin_token);
	cr_assert_not_null(api);
}

static void teardown(void)
{
	api_client_free(api);
	server_stop(srv);
	auth_free(auth);
	control_credentials_clear(&creds);
	kit_teardown();
	kit_rm_tree(certdir);
}

TestSuite(agent_events, .init = setup, .fini = teardown, .timeout = 60);

static const struct runtime_event unhealthy = {
	.ns = "default", .pod_name = "web-1", .pod_uid = "uid-web-1", .field_path = "spec.containers{web}",
	.type = "Warning", .reason = "Unhealthy", .message = "Readiness probe failed: HTTP probe failed with statuscode: 500",
};

/* The events of namespace default, a new list. */
static json_object *list_events(void)
{
	json_object *list = NULL;
	int st = api_get(api, "/api/v1/namespaces/default/events", &list);

	cr_assert(api_status_ok(st), "GET events: %d %s", st, api_error_message(list));
	return list;
}

static json_object *find_reason(json_object *list, const char *reason, int *ret_n)
{
	json_object *items = json_get_path(list, "items"), *found = NULL;

	*ret_n = 0;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *e = json_object_array_get_idx(items, i);

		if (strcmp(json_get_string(e, "reason") ?: "", reason) == 0) {
			found = e;
			(*ret_n)++;
		}
	}
	return found;
}

Test(agent_events, posted_as_core_v1_event)
{
	struct event_recorder *rec = event_recorder_new(api, "node-a");
	_cleanup_json_ json_object *list = NULL;
	json_object *e;
	int n;

	cr_assert_not_null(rec);
	event_recorder_emit(rec, &unhealthy);
	cr_assert_eq(event_recorder_flush(rec, 10000), 0);
	list = list_events();
	e = find_reason(list, "Unhealthy", &n);
	cr_assert_eq(n, 1, "%s", json_object_to_json_string(list));
	cr_expect_str_eq(json_get_string(e, "type"), "Warning");
	cr_expect_str_eq(json_get_string(e, "message"), unhealthy.message);
	cr_expect_str_eq(json_get_string(e, "involvedObject.kind"), "Pod");
	cr_expect_str_eq(json_get_string(e, "involvedObject.name"), "web-1");
	cr_expect_str_eq(json_get_string(e, "involvedObject.namespace"), "default");
	cr_expect_str_eq(json_get_string(e, "involvedObject.uid"), "uid-web-1");
	cr_expect_str_eq(json_get_string(e, "involvedObject.fieldPath"), "spec.containers{web}");
	cr_expect_str_eq(json_get_string(e, "source.component"), "skiff-agent");
	cr_expect_str_eq(json_get_string(e, "source.host"), "node-a");
	cr_expect_eq(json_object_get_int(json_get_path(e, "count")), 1);
	cr_expect_not_null(json_get_string(e, "firstTimestamp"));
	event_recorder_free(rec);
}

Test(agent_events, repeats_count_up_one_event)
{
	struct event_recorder *rec = event_recorder_new(api, "node-a");
	struct runtime_event other = unhealthy;
	_cleanup_json_ json_object *list = NULL, *again = NULL, *third = NULL;
	_cleanup_free_ char *path = NULL;
	json_object *e;
	int n;

	cr_assert_not_null(rec);
	for (int i = 0; i < 5; i++)
		event_recorder_emit(rec, &unhealthy);
	cr_assert_eq(event_recorder_flush(rec, 10000), 0);
	list = list_events();
	e = find_reason(list, "Unhealthy", &n);
	cr_assert_eq(n, 1, "one Event for five of the same: %s", json_object_to_json_string(list));
	cr_expect_eq(json_object_get_int(json_get_path(e, "count")), 5);

	other.message = "Readiness probe failed: HTTP probe failed with statuscode: 503";
	event_recorder_emit(rec, &other);
	cr_assert_eq(event_recorder_flush(rec, 10000), 0);
	again = list_events();
	find_reason(again, "Unhealthy", &n);
	cr_expect_eq(n, 2, "another message is another Event");

	/* Gone on the server (expired or deleted): the next repeat makes it anew. */
	cr_assert(asprintf(&path, "/api/v1/namespaces/default/events/%s", json_get_string(e, "metadata.name")) > 0);
	cr_assert(api_status_ok(api_delete(api, path, NULL, NULL)));
	event_recorder_emit(rec, &unhealthy);
	cr_assert_eq(event_recorder_flush(rec, 10000), 0);
	event_recorder_emit(rec, &unhealthy);
	cr_assert_eq(event_recorder_flush(rec, 10000), 0);
	third = list_events();
	e = find_reason(third, "Unhealthy", &n);
	cr_expect_eq(n, 2, "%s", json_object_to_json_string(third));
	event_recorder_free(rec);
}

Test(agent_events, unreachable_server_never_blocks)
{
	struct api_client *dead = api_client_new("https://127.0.0.1:1", creds.ca_pem, creds.admin_token);
	struct event_recorder *rec;

	cr_assert_not_null(dead);
	rec = event_recorder_new(dead, "node-a");
	cr_assert_not_null(rec);
	/* More distinct events than the table holds: the extra ones are dropped, none waits. */
	for (int i = 0; i < 600; i++) {
		char msg[32];
		struct runtime_event ev = unhealthy;

		snprintf(msg, sizeof(msg), "failure %d", i);
		ev.message = msg;
		event_recorder_emit(rec, &ev);
	}
	event_recorder_free(rec);
	api_client_free(dead);
}
