/* etcd's own write rate, the baseline the etcd store backend is measured against: N client
 * threads (keep-alive libcurl, one connection each) POST to etcd's v3 JSON gateway, either
 * plain puts or the create-if-absent txn the backend sends for a create (compare version 0,
 * put, a range on failure), over kept-alive connections or a new one per request.
 * Prints one key=value line for tests/bench/section_etcd.sh. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skiff/cleanup.h"
#include "store/etcd.h"
#include "bench_stats.h"

struct config {
	const char *endpoint; /* http://127.0.0.1:PORT */
	const char *prefix;   /* keys are PREFIX<i> */
	const char *mode;     /* put | txn */
	bool fresh;           /* a new connection per request (no keep-alive) */
	int clients;
	long count;
	size_t value_bytes;
	char *value_b64; /* one value for every key */
};

struct client {
	const struct config *cfg;
	pthread_barrier_t *start;
	long first, n;
	double *lat; /* n entries */
	long errors;
	long first_error;
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr, (void)ud;
	return size * nmemb;
}

/* A JSON-looking value of n bytes, so compression (none in etcd) or odd bytes play no part. */
static int make_value(struct config *c)
{
	_cleanup_free_ char *v = malloc(c->value_bytes + 1);
	static const char pat[] = "{\"metadata\":{\"name\":\"bench\",\"labels\":{\"app\":\"bench\"}},\"spec\":{}}";

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->value_bytes; i++)
		v[i] = pat[i % (sizeof(pat) - 1)];
	v[c->value_bytes] = '\0';
	return etcd_b64_encode(v, c->value_bytes, &c->value_b64);
}

/* The request body for key i: a put, or the backend's create txn. */
static char *body_for(const struct config *c, long i)
{
	_cleanup_free_ char *key = NULL, *k64 = NULL;
	char *body = NULL;
	int r;

	if (asprintf(&key, "%s%ld", c->prefix, i) < 0 || etcd_b64_encode(key, strlen(key), &k64) < 0)
		return NULL;
	if (strcmp(c->mode, "put") == 0)
		r = asprintf(&body, "{\"key\":\"%s\",\"value\":\"%s\"}", k64, c->value_b64);
	else
		r = asprintf(&body,
			     "{\"compare\":[{\"key\":\"%s\",\"target\":\"VERSION\",\"result\":\"EQUAL\",\"version\":\"0\"}],"
			     "\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\"}}],"
			     "\"failure\":[{\"request_range\":{\"key\":\"%s\"}}]}",
			     k64, k64, c->value_b64, k64);
	return r < 0 ? NULL : body;
}

static long post(CURL *e, const char *body)
{
	long code = 0;

	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(e) != CURLE_OK)
		return -1;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static CURL *client_new(const struct config *c, struct curl_slist **ret_h)
{
	char url[256];
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", c->endpoint, strcmp(c->mode, "put") == 0 ? "/v3/kv/put" : "/v3/kv/txn");
	*ret_h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *ret_h);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	if (c->fresh) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	}
	return e;
}

static void record(struct client *cl, long code)
{
	if (code == 200)
		return;
	if (!cl->errors)
		cl->first_error = code;
	cl->errors++;
}

static void *client_run(void *arg)
{
	struct client *cl = arg;
	struct curl_slist *h = NULL;
	CURL *e = client_new(cl->cfg, &h);
	char *body;

	/* The connection is opened by a warm-up write outside the timed part. */
	body = e ? body_for(cl->cfg, -1 - cl->first) : NULL;
	if (!body || post(e, body) != 200)
		cl->errors = cl->n;
	free(body);
	pthread_barrier_wait(cl->start);
	for (long i = 0; cl->errors < cl->n && i < cl->n; i++) {
		double t0 = now_ms();

		body = body_for(cl->cfg, cl->first + i);
		record(cl, body ? post(e, body) : -1);
		cl->lat[i] = now_ms() - t0;
		free(body);
	}
	if (e)
		curl_easy_cleanup(e);
	curl_slist_free_all(h);
	return NULL;
}

static int bench(const struct config *c)
{
	_cleanup_free_ struct client *cl = calloc(c->clients, sizeof(*cl));
	_cleanup_free_ pthread_t *th = calloc(c->clients, sizeof(*th));
	_cleanup_free_ double *lat = calloc(c->count, sizeof(*lat));
	pthread_barrier_t start;
	long errors = 0, first_error = 0, per = c->count / c->clients;
	double t0, secs;

	if (!cl || !th || !lat)
		return -ENOMEM;
	pthread_barrier_init(&start, NULL, c->clients + 1);
	for (int i = 0; i < c->clients; i++) {
		cl[i] = (struct client){ .cfg = c, .start = &start, .first = i * per, .n = per, .lat = lat + i * per };
		if (i == c->clients - 1)
			cl[i].n = c->count - i * per;
		pthread_create(&th[i], NULL, client_run, &cl[i]);
	}
	pthread_barrier_wait(&start);
	t0 = now_ms();
	for (int i = 0; i < c->clients; i++) {
		pthread_join(th[i], NULL);
		if (cl[i].errors && !errors)
			first_error = cl[i].first_error;
		errors += cl[i].errors;
	}
	secs = (now_ms() - t0) / 1e3;
	pthread_barrier_destroy(&start);
	qsort(lat, c->count, sizeof(*lat), cmp_double);
	printf("mode=%s fresh_connections=%d clients=%d writes=%ld value_bytes=%zu errors=%ld first_error=%ld seconds=%.3f rate=%.0f "
	       "p50_ms=%.3f p99_ms=%.3f\n",
	       c->mode, c->fresh, c->clients, c->count, c->value_bytes, errors, first_error, secs, (c->count - errors) / secs,
	       percentile_sorted(lat, c->count, 0.50), percentile_sorted(lat, c->count, 0.99));
	return errors ? -EIO : 0;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' }, { "prefix", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },     { "clients", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },    { "value-bytes", required_argument, NULL, 'v' },
		{ "fresh-connections", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'e': c->endpoint = optarg; break;
		case 'p': c->prefix = optarg; break;
		case 'm': c->mode = optarg; break;
		case 'c': c->clients = atoi(optarg); break;
		case 'n': c->count = atol(optarg); break;
		case 'v': c->value_bytes = strtoul(optarg, NULL, 10); break;
		case 'f': c->fresh = true; break;
		default: return -EINVAL;
		}
	}
	if (!c->endpoint || c->clients < 1 || c->count < c->clients || c->value_bytes < 1 ||
	    (strcmp(c->mode, "put") != 0 && strcmp(c->mode, "txn") != 0))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct config c = { .prefix = "/bench-raw/", .mode = "put", .clients = 16, .count = 10000, .value_bytes = 1024 };
	int r;

	if (parse_args(argc, argv, &c) < 0) {
		fprintf(stderr, "usage: bench_etcd --endpoint http://HOST:PORT [--mode put|txn] [--clients N] [--count N]\n"
				"                  [--value-bytes N] [--prefix /bench-raw/] [--fresh-connections]\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	r = make_value(&c);
	if (r == 0)
		r = bench(&c);
	free(c.value_b64);
	curl_global_cleanup();
	if (r < 0)
		fprintf(stderr, "bench_etcd: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
