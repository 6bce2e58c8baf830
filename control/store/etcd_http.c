/* The etcd v3 JSON gateway client: base64 keys with GnuTLS, unary POSTs with libcurl and
 * json-c that fail over to the next endpoint, and the chunked watch stream read by lines. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "store/etcd.h"

/* The gateway refuses requests over 1.5 MiB; answers are bounded by the same kind of limit. */
#define ETCD_MAX_ANSWER (64u << 20)
#define ETCD_CONNECT_TIMEOUT_MS 2000L

int etcd_b64_encode(const char *p, size_t n, char **ret)
{
	gnutls_datum_t in = { .data = (unsigned char *)(uintptr_t)p, .size = (unsigned)n }, out = { 0 };
	char *s;

	if (gnutls_base64_encode2(&in, &out) < 0)
		return -ENOMEM;
	s = malloc(out.size + 1);
	if (s) {
		memcpy(s, out.data, out.size);
		s[out.size] = '\0';
	}
	gnutls_free(out.data);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int etcd_b64_decode(const char *b64, char **ret, size_t *ret_len)
{
	gnutls_datum_t in = { .data = (unsigned char *)(uintptr_t)(b64 ? b64 : ""), .size = 0 }, out = { 0 };
	char *s;

	in.size = (unsigned)strlen((const char *)in.data);
	if (in.size > 0 && gnutls_base64_decode2(&in, &out) < 0)
		return -EIO;
	s = malloc(out.size + 1);
	if (s) {
		if (out.size)
			memcpy(s, out.data, out.size);
		s[out.size] = '\0';
	}
	gnutls_free(out.data);
	if (!s)
		return -ENOMEM;
	*ret = s;
	if (ret_len)
		*ret_len = out.size;
	return 0;
}

static json_object *b64_json(const char *p, size_t n)
{
	_cleanup_free_ char *s = NULL;

	if (etcd_b64_encode(p, n, &s) < 0)
		return NULL;
	return json_object_new_string(s);
}

json_object *etcd_key_json(struct etcd *e, const char *key, bool after)
{
	size_t klen = strlen(key), n = e->plen + klen + (after ? 1 : 0);
	_cleanup_free_ char *k = malloc(n + 1);

	if (!k)
		return NULL;
	memcpy(k, e->prefix, e->plen);
	memcpy(k + e->plen, key, klen);
	k[e->plen + klen] = '\0'; /* with after: the NUL is part of the key */
	return b64_json(k, n);
}

json_object *etcd_range_end_json(struct etcd *e, const char *key)
{
	size_t n = e->plen + strlen(key);
	_cleanup_free_ char *k = malloc(n + 1);

	if (!k)
		return NULL;
	memcpy(k, e->prefix, e->plen);
	strcpy(k + e->plen, key);
	/* The prefix's end: its last byte below 0xff incremented, the rest cut. */
	while (n > 0 && (unsigned char)k[n - 1] == 0xff)
		n--;
	if (n == 0)
		return b64_json("", 1); /* "\0": to the end of the keyspace */
	k[n - 1]++;
	return b64_json(k, n);
}

int64_t etcd_i64(json_object *o, const char *field)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, field, &v))
		return 0;
	return json_object_get_int64(v); /* parses strings too */
}

json_object *etcd_i64_json(int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	return json_object_new_string(b);
}

struct answer {
	char *buf;
	size_t len;
	bool sent; /* the request was handed to a connection (new or reused) */
};

static size_t answer_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *b;

	if (a->len + n > ETCD_MAX_ANSWER)
		return 0;
	b = realloc(a->buf, a->len + n + 1);
	if (!b)
		return 0;
	memcpy(b + a->len, p, n);
	a->len += n;
	b[a->len] = '\0';
	a->buf = b;
	return n;
}

/* Only a request that never reached the endpoint may go to the next: a write that did
 * could have been applied, and sending it again would answer wrongly. */
static bool connect_failed(CURL *h, CURLcode rc)
{
	curl_off_t connected = 0;

	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return true;
	return rc == CURLE_OPERATION_TIMEDOUT && curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected) == CURLE_OK &&
	       connected == 0;
}

/* Called once a connection is ready, just before the request goes out on it. */
static int answer_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct answer *a = arg;

	(void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
	a->sent = true;
	return CURL_PREREQFUNC_OK;
}

/* Sets a request's common options on a new or reset handle. */
static int easy_setup(CURL *h, const char *endpoint, const char *path, const char *body, struct curl_slist *hdrs)
{
	_cleanup_free_ char *url = NULL;

	if (asprintf(&url, "%s%s", endpoint, path) < 0)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, url); /* copied by curl */
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	return 0;
}

static CURL *easy_new(const char *endpoint, const char *path, const char *body, struct curl_slist *hdrs)
{
	CURL *h = curl_easy_init();

	if (h && easy_setup(h, endpoint, path, body, hdrs) < 0) {
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

/* A pooled handle for one unary request: curl_easy_reset keeps the handle's connection
 * cache, so requests reuse open connections instead of a connect (and a TIME-WAIT socket)
 * each. Only ever used by one thread at a time. */
static CURL *pool_get(struct etcd *e)
{
	CURL *h = NULL;

	pthread_mutex_lock(&e->pool_lock);
	if (e->n_pool > 0)
		h = e->pool[--e->n_pool];
	pthread_mutex_unlock(&e->pool_lock);
	if (h) {
		curl_easy_reset(h);
		return h;
	}
	return curl_easy_init();
}

/* Beyond ETCD_POOL_MAX idle handles (a burst of more concurrent requests) the handle and
 * its connections are closed. */
static void pool_put(struct etcd *e, CURL *h)
{
	pthread_mutex_lock(&e->pool_lock);
	if (e->n_pool < ETCD_POOL_MAX) {
		e->pool[e->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&e->pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

int etcd_pool_init(struct etcd *e)
{
	int r = pthread_mutex_init(&e->pool_lock, NULL);

	if (r != 0)
		return -r;
	e->pool_ready = true;
	/* Expect: off: a body over curl's threshold would otherwise wait for 100 Continue. */
	e->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (e->headers)
		e->headers = curl_slist_append(e->headers, "Expect:");
	return e->headers ? 0 : -ENOMEM;
}

void etcd_pool_free(struct etcd *e)
{
	if (!e->pool_ready)
		return;
	for (size_t i = 0; i < e->n_pool; i++)
		curl_easy_cleanup(e->pool[i]);
	e->n_pool = 0;
	curl_slist_free_all(e->headers);
	e->headers = NULL;
	pthread_mutex_destroy(&e->pool_lock);
	e->pool_ready = false;
}

/* Maps a gateway error answer to an errno. */
static int answer_error(json_object *o, long status)
{
	const char *msg = json_get_string(o, "error");

	if (msg && strstr(msg, "required revision has been compacted"))
		return -ERANGE;
	if (msg && strstr(msg, "required revision is a future revision"))
		return -EAGAIN;
	if (msg && strstr(msg, "duplicate key"))
		return -EINVAL;
	if (msg && (strstr(msg, "too many operations") || strstr(msg, "request is too large") ||
		    strstr(msg, "larger than max")))
		return -E2BIG;
	log_debug("etcd: HTTP %ld: %s", status, msg ? msg : "(no message)");
	return -EIO;
}

/* One request on one endpoint: 1 = could not connect (try the next), 0 or -errno. */
static int post_one(struct etcd *e, const char *endpoint, const char *path, const char *body, json_object **ret)
{
	struct answer a = { 0 };
	long status = 0;
	bool failover;
	CURLcode rc;
	CURL *h;
	int r;

	h = pool_get(e);
	if (!h)
		return -ENOMEM;
	r = easy_setup(h, endpoint, path, body, e->headers);
	if (r < 0) {
		pool_put(e, h);
		return r;
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, answer_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, answer_prereq);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, &a);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	/* On a reused connection curl reports no connect time: whether the request went out
	 * is known from the prereq callback instead. Never sent: the next endpoint may take it. */
	failover = rc != CURLE_OK && !a.sent;
	/* curl drops a connection that failed; a healthy one stays cached for the next request. */
	pool_put(e, h);
	if (rc != CURLE_OK) {
		log_debug("etcd %s%s: %s", endpoint, path, curl_easy_strerror(rc));
		r = failover ? 1 : -EIO;
		goto out;
	}
	*ret = json_tokener_parse(a.buf ? a.buf : "");
	if (!*ret) {
		r = -EIO;
		goto out;
	}
	r = 0;
	if (status != 200) {
		r = answer_error(*ret, status);
		json_object_put(*ret);
		*ret = NULL;
	}
out:
	free(a.buf);
	return r;
}

int etcd_post(struct etcd *e, const char *path, json_object *req, json_object **ret)
{
	const char *body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t first = atomic_load(&e->good);

	for (size_t k = 0; k < e->n_endpoints; k++) {
		size_t i = (first + k) % e->n_endpoints;
		int r = post_one(e, e->endpoints[i], path, body, ret);
		if (r <= 0) {
			if (r == 0)
				atomic_store(&e->good, i);
			return r;
		}
	}
	return -ECONNREFUSED;
}

struct stream {
	struct answer line;
	int (*on_msg)(void *arg, json_object *msg);
	void *arg;
	atomic_bool *stop;
	int r; /* on_msg's verdict once nonzero */
	bool got_data;
};

/* Hands over every complete line; keeps the partial one. */
static size_t stream_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct stream *st = arg;
	size_t n = size * nmemb;
	char *nl;

	st->got_data = true;
	if (answer_write(p, 1, n, &st->line) != n)
		return 0;
	while ((nl = memchr(st->line.buf, '\n', st->line.len))) {
		size_t used = (size_t)(nl - st->line.buf) + 1;
		json_object *msg;

		*nl = '\0';
		msg = json_tokener_parse(st->line.buf);
		memmove(st->line.buf, nl + 1, st->line.len - used + 1);
		st->line.len -= used;
		if (!msg) {
			st->r = -EIO;
			return 0;
		}
		st->r = st->on_msg(st->arg, msg);
		json_object_put(msg);
		if (st->r != 0)
			return 0;
	}
	return n;
}

/* Polled about once a second by curl, also while the stream is idle: ends it on stop. */
static int stream_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct stream *st = arg;

	(void)a, (void)b, (void)c, (void)d;
	return st->stop && atomic_load(st->stop) ? 1 : 0;
}

static int stream_one(const char *endpoint, const char *body, struct stream *st)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	bool failover;
	CURLcode rc;
	CURL *h;

	h = hdrs ? easy_new(endpoint, "/v3/watch", body, hdrs) : NULL;
	if (!h) {
		curl_slist_free_all(hdrs);
		return -ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stream_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, st);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	/* An idle stream to a vanished peer is noticed and resumed on another endpoint. */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
	rc = curl_easy_perform(h);
	failover = connect_failed(h, rc) && !st->got_data;
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (st->r != 0)
		return st->r > 0 ? 0 : st->r;
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return 0; /* stopped */
	if (failover)
		return 1;
	log_debug("etcd watch %s: %s", endpoint, rc == CURLE_OK ? "stream ended" : curl_easy_strerror(rc));
	return -ECONNRESET;
}

int etcd_stream(struct etcd *e, json_object *req, int (*on_msg)(void *arg, json_object *msg), void *arg,
		atomic_bool *stop)
{
	const char *body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t first = atomic_load(&e->good);
	int r = -ECONNREFUSED;

	for (size_t k = 0; k < e->n_endpoints; k++) {
		size_t i = (first + k) % e->n_endpoints;
		struct stream st = { .on_msg = on_msg, .arg = arg, .stop = stop };

		r = stream_one(e->endpoints[i], body, &st);
		free(st.line.buf);
		if (r <= 0) {
			if (st.got_data)
				atomic_store(&e->good, i);
			return r;
		}
	}
	return -ECONNREFUSED;
}
