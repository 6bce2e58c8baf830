/* Request paths and query parameters: the router, then list/watch (resourceVersion,
 * resourceVersionMatch, limit, timeoutSeconds, selectors), write and delete options (with a
 * DeleteOptions body). Input: "METHOD PATH?QUERY\nBODY". The harness answers libmicrohttpd's
 * query lookups itself (it defines MHD_lookup_connection_value, which the handlers call), so no
 * connection is needed. */
#include <microhttpd.h>

#include "api/handlers.h"
#include "api/router.h"
#include "fuzz.h"

#define MAX_ARGS 32

static struct {
	char *key[MAX_ARGS], *val[MAX_ARGS];
	size_t n;
} args;

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key)
{
	(void)c;
	if (kind != MHD_GET_ARGUMENT_KIND)
		return NULL;
	for (size_t i = 0; i < args.n; i++)
		if (strcmp(args.key[i], key) == 0)
			return args.val[i];
	return NULL;
}

static void split_query(char *q)
{
	char *save = NULL;

	args.n = 0;
	for (char *kv = strtok_r(q, "&", &save); kv && args.n < MAX_ARGS; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		args.key[args.n] = kv;
		args.val[args.n] = eq ? (*eq = '\0', eq + 1) : (char *)"";
		args.n++;
	}
}

static void options(const struct route *rt, const char *body, size_t body_len)
{
	struct api_request req = { .rt = rt, .body = body, .body_len = body_len };
	struct api_status st = { 0 };
	struct list_options lo;
	struct write_options wo;
	struct delete_options d;
	json_object *b = NULL;
	int timeout;

	handlers_list_options(&req, &lo, &timeout, &st);
	api_status_clear(&st);
	st = (struct api_status){ 0 };
	handlers_write_options(&req, &wo, &st);
	api_status_clear(&st);
	st = (struct api_status){ 0 };
	handlers_delete_options(&req, &d, &b, &st);
	json_object_put(b);
	api_status_clear(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *nl, *sp, *q, *body = "";
	struct api_status st = { 0 };
	struct route rt;
	bool watch;

	if (!s || size > FUZZ_MAX_INPUT)
		goto out;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		body = nl + 1;
	}
	sp = strchr(s, ' ');
	if (!sp)
		goto out;
	*sp = '\0';
	q = strchr(sp + 1, '?');
	if (q)
		*q++ = '\0';
	split_query(q ? q : (char *)"");
	watch = MHD_lookup_connection_value(NULL, MHD_GET_ARGUMENT_KIND, "watch") != NULL;
	if (router_match(s, sp + 1, watch, &rt, &st) == 0)
		options(&rt, body, strlen(body));
	api_status_clear(&st);
out:
	free(s);
	return 0;
}
