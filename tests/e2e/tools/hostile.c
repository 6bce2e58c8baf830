/* A load of malformed, oversized, deeply nested, wrongly typed and truncated requests, with and
 * without credentials, against a live skiff-control. Every answer must be a 4xx carrying a
 * Status; anything else (a 2xx, a 5xx, a dropped connection, a body that is no Status) is
 * counted and shown. Deterministic for a seed. Usage: hostile URL TOKEN CAFILE COUNT [SEED]
 * Prints "hostile: N requests, M bad" and exits 1 when M > 0. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (3 * 1024 * 1024 + 4096)

struct req {
	const char *method;
	char path[512];
	const char *ctype;
	char *body;
	size_t len;
	bool auth;
	const char *token; /* when auth: NULL = the right one */
};

struct reply {
	char *buf;
	size_t len;
};

static unsigned long long rng;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

static const char *const collections[] = {
	"/api/v1/namespaces/default/pods", "/api/v1/namespaces/default/services",
	"/api/v1/namespaces/default/replicationcontrollers", "/api/v1/nodes", "/api/v1/namespaces",
	"/api/v1/namespaces/default/endpoints", "/api/v1/namespaces/default/events",
	"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
};

static const char *const objects[] = {
	"/api/v1/namespaces/default/pods/hostile-pod", "/api/v1/namespaces/default/services/hostile-svc",
	"/api/v1/namespaces/default/replicationcontrollers/hostile-rc", "/api/v1/nodes/hostile-node",
};

static const char *const wrong_types[] = {
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":5},\"spec\":{\"containers\":[]}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":\"c\"}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":[{\"name\":1,\"image\":[]}]}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"replicas\":\"three\"}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"ports\":[{\"port\":99999999}]}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"ports\":[{\"port\":-1}],\"clusterIP\":\"300.1.1.1\"}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"UPPER_case\"}}",
	"{\"apiVersion\":\"v2\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Banana\",\"metadata\":{\"name\":\"x\"}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":7}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"lots\"}}}]}}",
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}],\"unknownField\":1}}",
	"[1,2,3]", "null", "\"a string\"", "42", "true", "{}",
};

/* Each is refused on a list or watch (parameters a GET ignores, as Kubernetes does, are not here). */
static const char *const bad_list_queries[] = {
	"?watch=maybe", "?limit=abc", "?resourceVersion=abc&watch=true", "?labelSelector=!!!",
	"?fieldSelector=spec.bogus=1", "?timeoutSeconds=-5&watch=1", "?resourceVersionMatch=Exact",
	"?continue=%%%%garbage", "?labelSelector=a%20in%20(", "?fieldSelector=metadata.name",
	"?resourceVersion=1&resourceVersionMatch=Bogus",
};

/* Each is refused on a DELETE of an object, so nothing is deleted. */
static const char *const bad_delete_queries[] = {
	"?dryRun=Maybe", "?gracePeriodSeconds=-7", "?propagationPolicy=Sideways", "?gracePeriodSeconds=soon",
};

static char *dup_len(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static void nested(struct req *r)
{
	size_t depth = 2000 + rnd(20000);

	/* Arrays nest without keys: [[[[...]]]] as deep as a 3 MiB body allows and more. */
	r->body = malloc(2 * depth + 1);
	memset(r->body, '[', depth);
	memset(r->body + depth, ']', depth);
	r->len = 2 * depth;
	r->body[r->len] = '\0';
}

static void garbage(struct req *r)
{
	r->len = 1 + rnd(4096);
	r->body = malloc(r->len + 1);
	for (size_t i = 0; i < r->len; i++)
		r->body[i] = (char)rnd(256);
	r->body[r->len] = '\0';
}

static void make(struct req *r)
{
	const char *w = wrong_types[rnd(sizeof(wrong_types) / sizeof(wrong_types[0]))];
	const char *coll = collections[rnd(sizeof(collections) / sizeof(collections[0]))];

	*r = (struct req){ .method = "POST", .ctype = "application/json", .auth = true };
	/* Strict, as kubectl asks: an unknown field is an error, not a dropped field. */
	snprintf(r->path, sizeof(r->path), "%s?fieldValidation=Strict", coll);
	/* Oversized bodies are 3 MiB each: one request in a hundred is enough to prove the limit. */
	switch (rnd(100) == 0 ? 3 : rnd(10)) {
	case 0: /* truncated */
		r->len = rnd((unsigned)strlen(w));
		r->body = dup_len(w, r->len);
		break;
	case 1:
		nested(r);
		break;
	case 2:
		garbage(r);
		break;
	case 3: /* oversized (drawn above, or here) */
		r->len = BIG;
		r->body = malloc(BIG + 1);
		memset(r->body, 'x', BIG);
		r->body[0] = '{';
		r->body[BIG] = '\0';
		break;
	case 4: /* no or wrong credentials */
		r->body = dup_len(w, strlen(w));
		r->len = strlen(w);
		r->auth = rnd(2);
		r->token = "not-the-token";
		break;
	case 5: /* bad parameters on lists, watches and deletes */
		if (rnd(2)) {
			r->method = "GET";
			snprintf(r->path, sizeof(r->path), "%s%s", coll,
				 bad_list_queries[rnd(sizeof(bad_list_queries) / sizeof(bad_list_queries[0]))]);
		} else if (rnd(2)) {
			r->method = "DELETE";
			snprintf(r->path, sizeof(r->path), "%s%s", objects[rnd(4)],
				 bad_delete_queries[rnd(sizeof(bad_delete_queries) / sizeof(bad_delete_queries[0]))]);
		} else {
			static const char opts[] = "{\"kind\":\"DeleteOptions\",\"gracePeriodSeconds\":\"x\"}";

			r->method = "DELETE";
			snprintf(r->path, sizeof(r->path), "%s", objects[rnd(4)]);
			r->body = dup_len(opts, sizeof(opts) - 1);
			r->len = sizeof(opts) - 1;
		}
		break;
	case 6: { /* malformed patches of every type */
		static const char *const types[] = { "application/merge-patch+json", "application/json-patch+json",
						     "application/strategic-merge-patch+json", "application/apply-patch+yaml" };
		/* Wrong for every type (an op list is no object, an object no op list), or wrongly typed. */
		static const char *const bodies[] = { "[{\"op\":\"explode\",\"path\":\"/x\"}]", "{\"spec\":{\"containers\":7}}",
						      "{\"metadata\":{\"$patch\":\"nonsense\"}}", "::: not yaml :::",
						      "[{\"op\":\"remove\",\"path\":\"/spec/no/such/path\"}]",
						      "{\"spec\":{\"$setElementOrder/containers\":5}}", "{\"metadata\":{\"name\":[1]}}" };
		const char *b = bodies[rnd(sizeof(bodies) / sizeof(bodies[0]))];

		r->method = "PATCH";
		r->ctype = types[rnd(4)];
		/* Strict, as kubectl asks: an unknown field is an error, not a warning. */
		snprintf(r->path, sizeof(r->path), "%s?fieldValidation=Strict%s", objects[rnd(4)],
			 strcmp(r->ctype, "application/apply-patch+yaml") == 0 ? "&fieldManager=hostile" : "");
		r->body = dup_len(b, strlen(b));
		r->len = strlen(b);
		break;
	}
	case 7: /* unknown paths, methods and content types */
		r->method = rnd(2) ? "PUT" : "POST";
		snprintf(r->path, sizeof(r->path), "%s", rnd(2) ? "/api/v1/namespaces/default/bananas" : "/api/v1/../../etc/passwd");
		r->ctype = rnd(2) ? "text/plain" : "application/x-unknown";
		r->body = dup_len(w, strlen(w));
		r->len = strlen(w);
		break;
	default: /* wrongly typed or invalid objects */
		r->body = dup_len(w, strlen(w));
		r->len = strlen(w);
		if (rnd(3) == 0)
			r->ctype = "application/yaml";
		break;
	}
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	struct reply *rp = ud;

	if (rp->len < 65536) {
		size_t take = sz * n < 65536 - rp->len ? sz * n : 65536 - rp->len;

		rp->buf = realloc(rp->buf, rp->len + take + 1);
		memcpy(rp->buf + rp->len, p, take);
		rp->len += take;
		rp->buf[rp->len] = '\0';
	}
	return sz * n;
}

/* 1 when the answer is a 4xx Status. */
static int send_one(CURL *h, const char *url, const char *token, const struct req *r, long *ret_code)
{
	struct curl_slist *hd = NULL;
	struct reply rp = { 0 };
	char full[1024], line[512];
	CURLcode cc;
	int ok;

	snprintf(full, sizeof(full), "%s%s", url, r->path);
	if (r->auth) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", r->token ? r->token : token);
		hd = curl_slist_append(hd, line);
	}
	snprintf(line, sizeof(line), "Content-Type: %s", r->ctype);
	hd = curl_slist_append(hd, line);
	hd = curl_slist_append(hd, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &rp);
	if (r->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
		curl_easy_setopt(h, CURLOPT_HTTPGET, strcmp(r->method, "GET") == 0 ? 1L : 0L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	cc = curl_easy_perform(h);
	*ret_code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, ret_code);
	ok = cc == CURLE_OK && *ret_code >= 400 && *ret_code < 500 && rp.buf && strstr(rp.buf, "\"kind\":\"Status\"");
	if (!ok)
		fprintf(stderr, "hostile: %s %s (%zu bytes, %s) -> %ld %s: %.200s\n", r->method, r->path, r->len, r->ctype,
			*ret_code, cc == CURLE_OK ? "" : curl_easy_strerror(cc), rp.buf ? rp.buf : "");
	curl_slist_free_all(hd);
	free(rp.buf);
	return ok;
}

int main(int argc, char **argv)
{
	long counts[600] = { 0 }, code;
	unsigned long n, bad = 0;
	CURL *h;

	if (argc < 5) {
		fprintf(stderr, "usage: hostile URL TOKEN CAFILE COUNT [SEED]\n");
		return 2;
	}
	n = strtoul(argv[4], NULL, 10);
	rng = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_CAINFO, argv[3]);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	for (unsigned long i = 0; i < n; i++) {
		struct req r;

		make(&r);
		if (!send_one(h, argv[1], argv[2], &r, &code))
			bad++;
		counts[code >= 0 && code < 600 ? code : 0]++;
		free(r.body);
	}
	curl_easy_cleanup(h);
	curl_global_cleanup();
	printf("hostile: %lu requests, %lu bad; codes:", n, bad);
	for (int c = 0; c < 600; c++)
		if (counts[c])
			printf(" %d=%ld", c, counts[c]);
	printf("\n");
	return bad ? 1 : 0;
}
