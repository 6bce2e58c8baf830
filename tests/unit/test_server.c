/* The HTTPS server end to end over loopback, against a fake registry defined here (so the
 * real registry.o is never linked): auth, routing errors, body limits, patch types,
 * Table negotiation, and watch streams that end when their client leaves. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <gnutls/x509.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <skiff/json.h>

#include "api/auth.h"
#include "api/registry.h"
#include "api/server.h"
#include "api/watch_event.h"

#define TOKEN "test-token-0123"

/* ---- fake registry: fixed answers, records what it was asked ---- */

static atomic_int watches_freed;
static char last_patch_type[128];

struct registry_watch {
	int fd;
	int sent;
};

static json_object *pod(const char *name)
{
	json_object *o = json_tokener_parse("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"namespace\":"
					    "\"default\",\"resourceVersion\":\"5\",\"creationTimestamp\":"
					    "\"2024-01-01T00:00:00Z\"},\"spec\":{\"containers\":[]},\"status\":{}}");

	json_object_object_add(json_object_object_get(o, "metadata"), "name", json_object_new_string(name));
	return o;
}

struct store *registry_store(struct registry *reg)
{
	(void)reg;
	return NULL;
}

int64_t store_revision(struct store *s)
{
	(void)s;
	return 50;
}

int64_t store_compacted_revision(struct store *s)
{
	(void)s;
	return 42;
}

/* join.c's store-held tokens: a stand-in keeps the real store (and its store_revision) out of
 * this binary, whose registry is the fake above. No test here joins a node. */
int node_token_issue_in(struct store *s, const char *node, char **ret_token, char *ret_hash)
{
	(void)s, (void)node, (void)ret_token, (void)ret_hash;
	return -EOPNOTSUPP;
}

int bootstrap_token_consume_in(struct store *s, const char *token, const char **ret_reason)
{
	(void)s, (void)token, (void)ret_reason;
	return -EOPNOTSUPP;
}

int registry_get(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		 const char *subresource, json_object **ret, struct api_status *st)
{
	(void)reg, (void)ns, (void)subresource;
	if (strcmp(name, "p1") != 0) {
		api_status_not_found(st, r->name, name);
		return -ENOENT;
	}
	*ret = pod(name);
	return 0;
}

int registry_list(struct registry *reg, const struct resource *r, const char *ns, const struct list_options *lo,
		  json_object **ret, struct api_status *st)
{
	json_object *l = json_tokener_parse("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
					    "{\"resourceVersion\":\"9\"},\"items\":[]}");

	(void)reg, (void)r, (void)ns, (void)st;
	json_object_array_add(json_object_object_get(l, "items"), pod(lo->label_selector ? lo->label_selector : "p1"));
	*ret = l;
	return 0;
}

int registry_create(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const char *subresource, json_object *body, const struct write_options *wo, json_object **ret,
		    struct api_status *st)
{
	(void)reg, (void)r, (void)ns, (void)name, (void)subresource, (void)wo, (void)st;
	*ret = json_object_get(body);
	return 0;
}

int registry_update(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const char *subresource, json_object *body, const struct write_options *wo, json_object **ret,
		    bool *ret_created, struct api_status *st)
{
	(void)reg, (void)r, (void)ns, (void)name, (void)subresource, (void)wo, (void)st;
	*ret = json_object_get(body);
	*ret_created = false;
	return 0;
}

int registry_patch(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		   const char *subresource, const char *content_type, const char *body, size_t body_len,
		   const struct write_options *wo, json_object **ret, bool *ret_created, struct api_status *st)
{
	(void)reg, (void)r, (void)ns, (void)subresource, (void)body, (void)body_len, (void)wo, (void)st;
	snprintf(last_patch_type, sizeof(last_patch_type), "%s", content_type);
	*ret = pod(name);
	*ret_created = false;
	return 0;
}

int registry_delete(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const struct delete_options *dopts, json_object **ret, int *ret_code, struct api_status *st)
{
	(void)reg, (void)r, (void)ns, (void)st;
	*ret = pod(name);
	json_object_object_add(*ret, "propagation",
			       json_object_new_string(dopts->propagation_policy ? dopts->propagation_policy : ""));
	*ret_code = 200;
	return 0;
}

int registry_delete_collection(struct registry *reg, const struct resource *r, const char *ns,
			       const struct list_options *lo, const struct delete_options *dopts, json_object **ret,
			       struct api_status *st)
{
	(void)dopts;
	return registry_list(reg, r, ns, lo, ret, st);
}

int registry_watch_new(struct registry *reg, const struct resource *r, const char *ns, const struct list_options *lo,
		       struct registry_watch **ret, struct api_status *st)
{
	(void)reg, (void)r, (void)ns, (void)st;
	if (lo->resource_version && strcmp(lo->resource_version, "1") == 0)
		return -ERANGE;
	*ret = calloc(1, sizeof(**ret));
	(*ret)->fd = eventfd(0, EFD_CLOEXEC);
	return 0;
}

/* One ADDED event, then nothing ever again: the stream must end by timeout or hang-up. */
int registry_watch_next(struct registry_watch *w, const char **ret_type, json_object **ret_obj, int timeout_ms)
{
	(void)timeout_ms;
	if (w->sent++)
		return -ETIMEDOUT;
	*ret_type = "ADDED";
	*ret_obj = pod("p1");
	return 0;
}

/* The streams' form of the watch: the fake's events as objects (no shared store events). */
int registry_watch_next_event(struct registry_watch *w, struct registry_watch_event *ret, int timeout_ms)
{
	*ret = (struct registry_watch_event){ 0 };
	return registry_watch_next(w, &ret->type, &ret->obj, timeout_ms);
}

void registry_watch_event_clear(struct registry_watch_event *e)
{
	json_object_put(e->obj);
	*e = (struct registry_watch_event){ 0 };
}

int registry_watch_fd(struct registry_watch *w)
{
	return w->fd;
}

void registry_watch_cancel(struct registry_watch *w)
{
	(void)w;
}

void registry_watch_free(struct registry_watch *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w);
	atomic_fetch_add(&watches_freed, 1);
}

/* ---- server and client ---- */

static struct server *srv;
static struct auth *auth;
static char *cert_pem, *key_pem;
static char base[64];

static char *export_pem(int (*fn)(void *, gnutls_x509_crt_fmt_t, gnutls_datum_t *), void *obj)
{
	gnutls_datum_t d = { 0 };
	char *s;

	cr_assert_eq(fn(obj, GNUTLS_X509_FMT_PEM, &d), 0);
	s = strndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static void make_cert(void)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	time_t now = time(NULL);

	cr_assert_eq(gnutls_x509_privkey_init(&key), 0);
	cr_assert_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	cr_assert_eq(gnutls_x509_crt_init(&crt), 0);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, "\x01", 1);
	gnutls_x509_crt_set_activation_time(crt, now - 60);
	gnutls_x509_crt_set_expiration_time(crt, now + 3600);
	gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9);
	gnutls_x509_crt_set_key(crt, key);
	cr_assert_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	cert_pem = export_pem((int (*)(void *, gnutls_x509_crt_fmt_t, gnutls_datum_t *))gnutls_x509_crt_export2, crt);
	key_pem = export_pem((int (*)(void *, gnutls_x509_crt_fmt_t, gnutls_datum_t *))gnutls_x509_privkey_export2,
			     key);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void setup(void)
{
	make_cert();
	auth = auth_new(TOKEN);
	srv = server_start(&(struct server_config){ .host = "127.0.0.1", .port = 0, .cert_pem = cert_pem,
						    .key_pem = key_pem, .auth = auth, .reg = NULL,
						    .connection_limit = 64, .idle_timeout_s = 30,
						    .max_body_bytes = 1024, .thread_stack_bytes = 512 * 1024 });
	cr_assert_not_null(srv, "server_start: %s", strerror(errno));
	server_set_ready(srv, true);
	snprintf(base, sizeof(base), "https://127.0.0.1:%u", server_port(srv));
}

static void teardown(void)
{
	server_stop(srv);
	auth_free(auth);
	free(cert_pem);
	free(key_pem);
}

struct reply {
	long code;
	char *body;
	size_t len;
	char ctype[160];
	size_t stop_after; /* abort the transfer after this many bytes (0: never) */
};

static size_t on_data(char *p, size_t sz, size_t n, void *cls)
{
	struct reply *r = cls;

	r->body = realloc(r->body, r->len + sz * n + 1);
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	if (r->stop_after && r->len >= r->stop_after)
		return 0;
	return sz * n;
}

static void request(const char *method, const char *path, const char *token, const char *ctype,
		    const char *accept, const char *body, size_t body_len, struct reply *ret)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512], line[256];
	char *ct = NULL;

	snprintf(url, sizeof(url), "%s%s", base, path);
	if (token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (ctype) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
	}
	if (accept) {
		snprintf(line, sizeof(line), "Accept: %s", accept);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ret);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->code);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(ret->ctype, sizeof(ret->ctype), "%s", ct ? ct : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static json_object *get_json(const char *method, const char *path, const char *token, const char *ctype,
			     const char *accept, const char *body, long want_code)
{
	struct reply r = { 0 };
	json_object *o;

	request(method, path, token, ctype, accept, body, body ? strlen(body) : 0, &r);
	cr_assert_eq(r.code, want_code, "%s %s: code %ld, want %ld: %s", method, path, r.code, want_code,
		     r.body ? r.body : "");
	cr_assert(strncmp(r.ctype, "application/json", 16) == 0, "%s %s: content type %s", method, path, r.ctype);
	o = json_tokener_parse(r.body ? r.body : "");
	cr_assert_not_null(o, "%s %s: not JSON: %s", method, path, r.body ? r.body : "");
	free(r.body);
	return o;
}

TestSuite(server, .init = setup, .fini = teardown);

Test(server, health_is_public_and_plain)
{
	struct reply r = { 0 };

	request("GET", "/healthz", NULL, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "ok");
	free(r.body);
	r = (struct reply){ 0 };
	request("GET", "/readyz", NULL, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 200);
	free(r.body);
	server_set_ready(srv, false);
	r = (struct reply){ 0 };
	request("GET", "/readyz", NULL, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 500);
	free(r.body);
}

Test(server, auth_required)
{
	_cleanup_json_ json_object *a = get_json("GET", "/api/v1/namespaces/default/pods", NULL, NULL, NULL, NULL, 401);
	_cleanup_json_ json_object *b = get_json("GET", "/api/v1/namespaces/default/pods", "wrong", NULL, NULL, NULL,
						 401);
	_cleanup_json_ json_object *c = get_json("GET", "/nope", NULL, NULL, NULL, NULL, 401);

	cr_assert_str_eq(json_get_string(a, "kind"), "Status");
	cr_assert_str_eq(json_get_string(a, "reason"), "Unauthorized");
	cr_assert_str_eq(json_get_string(b, "reason"), "Unauthorized");
	cr_assert_str_eq(json_get_string(c, "reason"), "Unauthorized");
}

Test(server, routing_errors_are_status)
{
	_cleanup_json_ json_object *a = get_json("GET", "/apis/apps/v1", TOKEN, NULL, NULL, NULL, 404);
	_cleanup_json_ json_object *b = get_json("POST", "/api/v1/namespaces/default/pods/p1", TOKEN,
						 "application/json", NULL, "{}", 405);
	_cleanup_json_ json_object *c = get_json("GET", "/api/v1/namespaces/default/pods/zz", TOKEN, NULL, NULL, NULL,
						 404);
	_cleanup_json_ json_object *d = get_json("GET", "/api/v1/namespaces/default/pods?limit=x", TOKEN, NULL, NULL,
						 NULL, 400);

	cr_assert_str_eq(json_get_string(a, "message"), "the server could not find the requested resource");
	cr_assert_str_eq(json_get_string(b, "reason"), "MethodNotAllowed");
	cr_assert_str_eq(json_get_string(c, "message"), "pods \"zz\" not found");
	cr_assert_str_eq(json_get_string(d, "reason"), "BadRequest");
}

Test(server, bodies)
{
	char big[2048];
	struct reply r = { 0 };
	_cleanup_json_ json_object *created = get_json("POST", "/api/v1/namespaces/default/pods", TOKEN,
						       "application/json", NULL,
						       "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}", 201);
	_cleanup_json_ json_object *nokind = get_json("POST", "/api/v1/namespaces/default/pods", TOKEN,
						      "application/json", NULL, "{\"metadata\":{}}", 400);
	_cleanup_json_ json_object *broken = get_json("POST", "/api/v1/namespaces/default/pods", TOKEN,
						      "application/json", NULL, "{\"kind\":", 400);
	_cleanup_json_ json_object *big_status = NULL;

	cr_assert_str_eq(json_get_string(created, "metadata.name"), "a");
	cr_assert_str_eq(json_get_string(nokind, "message"), "Object 'Kind' is missing in '{\"metadata\":{}}'");
	cr_assert(strstr(json_get_string(broken, "message"), "couldn't get version/kind; json parse error") != NULL);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	request("POST", "/api/v1/namespaces/default/pods", TOKEN, "application/json", NULL, big, sizeof(big), &r);
	cr_assert_eq(r.code, 413);
	big_status = json_tokener_parse(r.body);
	cr_assert_str_eq(json_get_string(big_status, "reason"), "RequestEntityTooLarge");
	free(r.body);
}

/* What `kubectl create namespace team-a --dry-run` style typed clients send: runtime.Unknown
 * {typeMeta{v1, Namespace}, raw: Namespace{metadata{name, labels{a: b}}}}. */
Test(server, protobuf_namespace_body)
{
	static const char body[] = "k8s\0"
				   "\x0a\x0f\x0a\x02v1\x12\x09Namespace"
				   "\x12\x12\x0a\x10\x0a\x06team-a\x5a\x06\x0a\x01" "a\x12\x01" "b";
	struct reply r = { 0 };
	_cleanup_json_ json_object *o = NULL;

	request("POST", "/api/v1/namespaces", TOKEN, "application/vnd.kubernetes.protobuf", NULL, body,
		sizeof(body) - 1, &r);
	cr_assert_eq(r.code, 201, "%ld %s", r.code, r.body);
	o = json_tokener_parse(r.body);
	cr_assert_str_eq(json_get_string(o, "kind"), "Namespace");
	cr_assert_str_eq(json_get_string(o, "metadata.name"), "team-a");
	cr_assert_str_eq(json_get_string(o, "metadata.labels.a"), "b");
	free(r.body);
	r = (struct reply){ 0 };
	request("POST", "/api/v1/namespaces", TOKEN, "application/vnd.kubernetes.protobuf", NULL, "k8s\0\x0a\x05", 6,
		&r);
	cr_assert_eq(r.code, 400);
	free(r.body);
}

Test(server, patch_types)
{
	_cleanup_json_ json_object *ok = get_json("PATCH", "/api/v1/namespaces/default/pods/p1", TOKEN,
						  "application/strategic-merge-patch+json", NULL, "{}", 200);
	_cleanup_json_ json_object *bad = get_json("PATCH", "/api/v1/namespaces/default/pods/p1", TOKEN, "text/plain",
						   NULL, "{}", 415);
	_cleanup_json_ json_object *apply = get_json("PATCH", "/api/v1/namespaces/default/pods/p1", TOKEN,
						     "application/apply-patch+yaml", NULL, "{}", 400);

	cr_assert_str_eq(last_patch_type, "application/strategic-merge-patch+json");
	cr_assert_str_eq(json_get_string(bad, "reason"), "UnsupportedMediaType");
	cr_assert(strstr(json_get_string(apply, "message"), "fieldManager") != NULL);
}

Test(server, delete_options_from_body)
{
	_cleanup_json_ json_object *o = get_json("DELETE", "/api/v1/namespaces/default/pods/p1", TOKEN,
						 "application/json", NULL, "{\"propagationPolicy\":\"Foreground\"}", 200);

	cr_assert_str_eq(json_get_string(o, "propagation"), "Foreground");
}

Test(server, table_negotiation)
{
	const char *accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
	_cleanup_json_ json_object *t = get_json("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb",
						 TOKEN, NULL, accept, NULL, 200);
	_cleanup_json_ json_object *plain = get_json("GET", "/api/v1/namespaces/default/pods", TOKEN, NULL,
						     "application/json", NULL, 200);
	_cleanup_json_ json_object *one = get_json("GET", "/api/v1/namespaces/default/pods/p1", TOKEN, NULL, accept,
						   NULL, 200);

	cr_assert_str_eq(json_get_string(t, "kind"), "Table");
	/* The fake names its item after the selector: MHD decoded the query value. */
	cr_assert_str_eq(json_get_string(json_object_array_get_idx(json_get_path(t, "rows"), 0),
					 "object.metadata.name"), "app=web");
	cr_assert_str_eq(json_get_string(plain, "kind"), "PodList");
	cr_assert_str_eq(json_get_string(one, "kind"), "Table");
	cr_assert_eq(json_object_array_length(json_get_path(one, "rows")), 1);
}

Test(server, watch_ends_on_timeout)
{
	struct reply r = { 0 };
	_cleanup_json_ json_object *ev = NULL;

	request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1", TOKEN, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 200);
	cr_assert_not_null(r.body);
	cr_assert_eq(r.body[r.len - 1], '\n');
	ev = json_tokener_parse(r.body);
	cr_assert_str_eq(json_get_string(ev, "type"), "ADDED");
	cr_assert_str_eq(json_get_string(ev, "object.metadata.name"), "p1");
	free(r.body);
}

Test(server, watch_gone_is_410_event)
{
	struct reply r = { 0 };
	_cleanup_json_ json_object *ev = NULL;

	request("GET", "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1", TOKEN, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 200);
	ev = json_tokener_parse(r.body);
	cr_assert_str_eq(json_get_string(ev, "type"), "ERROR");
	cr_assert_eq(json_object_get_int(json_get_path(ev, "object.code")), 410);
	cr_assert_str_eq(json_get_string(ev, "object.reason"), "Expired");
	cr_assert_str_eq(json_get_string(ev, "object.message"), "too old resource version: 1 (42)");
	free(r.body);
}

Test(server, watch_freed_when_client_leaves)
{
	struct reply r = { .stop_after = 1 };
	int before = atomic_load(&watches_freed);

	/* No timeout: only the client's hang-up can end this stream. */
	request("GET", "/api/v1/namespaces/default/pods?watch=true", TOKEN, NULL,
		"application/json;as=Table;v=v1;g=meta.k8s.io", NULL, 0, &r);
	cr_assert(strstr(r.body, "\"columnDefinitions\"") != NULL);
	for (int i = 0; i < 500 && atomic_load(&watches_freed) == before; i++)
		usleep(10000);
	cr_assert_eq(atomic_load(&watches_freed), before + 1, "watch not freed after the client left");
	free(r.body);
}

/* Per-identity bounds: with one watch allowed, a second concurrent watch of the same identity
 * gets 429 with Retry-After, and a watch is admitted again once the first has ended. */
struct held_watch {
	struct reply r;
};

static void *hold_watch(void *ud)
{
	struct held_watch *h = ud;

	/* Long enough that a loaded machine still sees the second watch while this one is held. */
	request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=8", TOKEN, NULL, NULL, NULL, 0, &h->r);
	return NULL;
}

static void limits_setup(void)
{
	make_cert();
	auth = auth_new(TOKEN);
	srv = server_start(&(struct server_config){ .host = "127.0.0.1", .port = 0, .cert_pem = cert_pem,
						    .key_pem = key_pem, .auth = auth, .reg = NULL,
						    .connection_limit = 64, .idle_timeout_s = 30,
						    .max_body_bytes = 1024, .thread_stack_bytes = 512 * 1024,
						    .max_requests_inflight = 8, .max_watches_inflight = 1 });
	cr_assert_not_null(srv, "server_start: %s", strerror(errno));
	server_set_ready(srv, true);
	snprintf(base, sizeof(base), "https://127.0.0.1:%u", server_port(srv));
}

Test(server_limits, second_watch_gets_429, .init = limits_setup, .fini = teardown)
{
	struct held_watch h = { 0 };
	struct reply r = { 0 };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, hold_watch, &h), 0);
	/* Admitted once its first event (the stored p1) arrived: only then is the slot surely its. */
	for (int i = 0; i < 1000 && __atomic_load_n(&h.r.len, __ATOMIC_ACQUIRE) == 0; i++)
		usleep(10000);
	cr_assert_gt(__atomic_load_n(&h.r.len, __ATOMIC_ACQUIRE), 0, "the first watch got no event");
	request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1", TOKEN, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 429, "no 429 while a watch was held: %ld %s", r.code, r.body ? r.body : "");
	cr_assert(strstr(r.body, "\"reason\":\"TooManyRequests\"") != NULL, "%s", r.body);
	free(r.body);
	r = (struct reply){ 0 };
	request("GET", "/api/v1/namespaces/default/pods", TOKEN, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 200, "plain requests have their own bound: %ld", r.code);
	free(r.body);
	pthread_join(t, NULL);
	cr_assert_eq(h.r.code, 200);
	free(h.r.body);
	r = (struct reply){ 0 };
	request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1", TOKEN, NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.code, 200, "the bound is released when the watch ends: %ld %s", r.code, r.body ? r.body : "");
	free(r.body);
}
