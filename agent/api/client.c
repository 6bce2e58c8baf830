/* Requests to the API servers through one libcurl easy handle kept alive between calls, and
 * the switch to the next server when the current one gives no answer. */
#include "api/client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

/* What the clients of one cluster share (api_client_dup): immutable after creation but for the
 * current server, which any client's request may move. */
struct api_shared {
	atomic_uint refs;
	char **servers;
	size_t n;
	atomic_size_t cur;     /* index of the current server */
	atomic_uint gen;       /* bumped on every change of cur */
	atomic_bool all_down;  /* the last request found no server answering (logged once) */
	char *auth_header;     /* "Authorization: Bearer ..." or NULL */
	int ca_fd;             /* memfd with the CA PEM, -1 for the system store */
	char ca_path[64];      /* /proc/self/fd/N: GnuTLS-built libcurl takes no CA blob */
};

struct api_client {
	struct api_shared *sh;
	long timeout_s;
	pthread_mutex_t lock;
	CURL *h;
};

struct buf {
	char *data;
	size_t len;
};

/* A dead server must cost a request seconds, not the 30 of the request limit: a node whose
 * heartbeat stalls on it goes NotReady (node-monitor-grace-period 20 s) while another answers.
 * One server keeps the patient limit: there is nowhere else to go. */
#define CONNECT_TIMEOUT_ONE_S 5L
#define CONNECT_TIMEOUT_MANY_S 2L
#define REQUEST_TIMEOUT_S 30L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int ca_memfd(const char *pem, int *ret_fd)
{
	_cleanup_close_ int fd = memfd_create("skiff-api-ca", MFD_CLOEXEC);
	size_t len = strlen(pem), off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, pem + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

void api_server_list_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* One entry of the list, trimmed, without a trailing slash (it would double up with every
 * path's leading one). */
static char *server_entry(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len && s[len - 1] == '/')
		len--;
	if (!len) {
		errno = EINVAL;
		return NULL;
	}
	return strndup(s, len);
}

int api_server_list_parse(const char *list, char ***ret, size_t *ret_n)
{
	char **out = NULL;
	size_t n = 0;

	if (!list || !*list)
		return -EINVAL;
	for (const char *p = list;; p++) {
		const char *end = strchrnul(p, ',');
		char **grown = realloc(out, (n + 2) * sizeof(*out));

		if (!grown) {
			api_server_list_free(out);
			return -ENOMEM;
		}
		out = grown;
		out[n] = server_entry(p, (size_t)(end - p));
		if (!out[n]) {
			int r = -errno;

			api_server_list_free(out);
			return r;
		}
		out[++n] = NULL;
		if (!*end)
			break;
		p = end;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static void shared_unref(struct api_shared *sh)
{
	if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	if (sh->ca_fd >= 0)
		close(sh->ca_fd);
	if (sh->auth_header)
		explicit_bzero(sh->auth_header, strlen(sh->auth_header));
	free(sh->auth_header);
	api_server_list_free(sh->servers);
	free(sh);
}

static int shared_new(const char *server, const char *ca_pem, const char *token, struct api_shared **ret)
{
	struct api_shared *sh = calloc(1, sizeof(*sh));
	int r;

	if (!sh)
		return -ENOMEM;
	atomic_init(&sh->refs, 1);
	sh->ca_fd = -1;
	r = api_server_list_parse(server, &sh->servers, &sh->n);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	if (token && *token && asprintf(&sh->auth_header, "Authorization: Bearer %s", token) < 0) {
		sh->auth_header = NULL;
		goto fail;
	}
	if (ca_pem) {
		r = ca_memfd(ca_pem, &sh->ca_fd);
		if (r < 0)
			goto fail;
		snprintf(sh->ca_path, sizeof(sh->ca_path), "/proc/self/fd/%d", sh->ca_fd);
	}
	*ret = sh;
	return 0;
fail:
	shared_unref(sh);
	return r;
}

static struct api_client *client_on(struct api_shared *sh)
{
	struct api_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sh = sh;
	c->timeout_s = REQUEST_TIMEOUT_S;
	pthread_mutex_init(&c->lock, NULL);
	c->h = curl_easy_init();
	if (!c->h) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

struct api_client *api_client_new(const char *server, const char *ca_pem, const char *token)
{
	struct api_shared *sh = NULL;
	struct api_client *c;
	int r;

	pthread_once(&curl_once, curl_init_once);
	r = shared_new(server, ca_pem, token, &sh);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	c = client_on(sh);
	if (!c)
		shared_unref(sh);
	return c;
}

struct api_client *api_client_dup(struct api_client *c)
{
	struct api_client *d;

	atomic_fetch_add(&c->sh->refs, 1);
	d = client_on(c->sh);
	if (!d) {
		shared_unref(c->sh);
		return NULL;
	}
	d->timeout_s = c->timeout_s;
	return d;
}

void api_client_free(struct api_client *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	shared_unref(c->sh);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void api_client_set_timeout(struct api_client *c, long seconds)
{
	pthread_mutex_lock(&c->lock);
	c->timeout_s = seconds > 0 ? seconds : REQUEST_TIMEOUT_S;
	pthread_mutex_unlock(&c->lock);
}

unsigned api_client_generation(struct api_client *c)
{
	return atomic_load(&c->sh->gen);
}

/* A server cut off mid-request (its host gone, a partition) leaves sent bytes unacknowledged:
 * the kernel drops the connection after this long instead of retransmitting for minutes. */
#define TCP_USER_TIMEOUT_MS 10000

static int set_user_timeout(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	unsigned ms = TCP_USER_TIMEOUT_MS;

	(void)ud;
	if (purpose == CURLSOCKTYPE_IPCXN)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
	return CURL_SOCKOPT_OK;
}

/* With somewhere else to go, dead connections are noticed: keepalive probes on idle ones (a
 * watch stream), a bound on unacknowledged data on busy ones. */
static void detect_dead_peers(CURL *h)
{
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, set_user_timeout);
}

/* Points h at servers[idx]. */
static int setup_at(struct api_client *c, size_t idx, CURL *h, const char *path, struct curl_slist **ret_headers)
{
	const struct api_shared *sh = c->sh;
	_cleanup_free_ char *url = NULL;
	struct curl_slist *hdrs = NULL, *t;

	if (asprintf(&url, "%s%s", sh->servers[idx], path) < 0)
		return -ENOMEM;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK)
		return -EINVAL;
	/* The cluster CA alone: without CAPATH NULL, GnuTLS also loads the ~300 system roots for every
	 * connection (about 18 MB and 35 ms of CPU each). */
	if (sh->ca_fd >= 0) {
		curl_easy_setopt(h, CURLOPT_CAINFO, sh->ca_path);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, sh->n > 1 ? CONNECT_TIMEOUT_MANY_S : CONNECT_TIMEOUT_ONE_S);
	if (sh->n > 1)
		detect_dead_peers(h);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skiff-agent/v1.32.0-skiff");
	t = curl_slist_append(hdrs, "Accept: application/json");
	if (t && sh->auth_header)
		t = curl_slist_append(t, sh->auth_header);
	if (!t) {
		curl_slist_free_all(hdrs);
		return -ENOMEM;
	}
	*ret_headers = t;
	return 0;
}

int api_client_setup(struct api_client *c, CURL *h, const char *path, struct curl_slist **ret_headers)
{
	return setup_at(c, atomic_load(&c->sh->cur), h, path, ret_headers);
}
static size_t buf_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	char *nd = realloc(b->data, b->len + n + 1);

	if (!nd)
		return 0;
	memcpy(nd + b->len, ptr, n);
	b->len += n;
	nd[b->len] = '\0';
	b->data = nd;
	return n;
}

static int curl_to_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPROTO;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

/* No answer from that server, or a gateway's "not this one now": another may answer. The
 * request's own faults (-ENOMEM, -EINVAL) would fail anywhere. */
static bool try_next(int r)
{
	if (r < 0)
		return r != -ENOMEM && r != -EINVAL;
	return r == 502 || r == 503 || r == 504;
}

/* One attempt on servers[idx], on the shared handle with the lock held. why (a failed attempt's
 * reason, for the log) is filled when no status came or the status was a 5xx. */
static int perform(struct api_client *c, size_t idx, const char *method, const char *path,
		   const char *content_type, const char *payload, json_object **ret_body, char *why, size_t why_len)
{
	struct curl_slist *hdrs = NULL, *t;
	_cleanup_free_ char *ctype = NULL;
	struct buf b = { 0 };
	long code = 0;
	CURLcode cc;
	int r;

	curl_easy_reset(c->h);
	r = setup_at(c, idx, c->h, path, &hdrs);
	if (r < 0)
		return r;
	if (content_type && asprintf(&ctype, "Content-Type: %s", content_type) < 0) {
		ctype = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (ctype) {
		if (!(t = curl_slist_append(hdrs, ctype))) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = t;
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, c->timeout_s);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &b);
	if (payload) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	}
	cc = curl_easy_perform(c->h);
	if (cc != CURLE_OK) {
		log_debug("api: %s %s%s: %s", method, c->sh->servers[idx], path, curl_easy_strerror(cc));
		snprintf(why, why_len, "%s", curl_easy_strerror(cc));
		r = curl_to_errno(cc);
		goto out;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	r = (int)code;
	if (r >= 500)
		snprintf(why, why_len, "HTTP %d", r);
	if (ret_body)
		*ret_body = b.data ? json_tokener_parse(b.data) : NULL;
out:
	curl_slist_free_all(hdrs);
	free(b.data);
	return r;
}

/* After a request that started on servers[from] got its answer from servers[to]. Only the
 * client that moves cur logs, so each switch is one line however many threads saw it. */
static void note_answer(struct api_shared *sh, size_t from, size_t to, const char *why)
{
	size_t expect = from;

	if (atomic_exchange(&sh->all_down, false))
		log_info("api server %s answers again", sh->servers[to]);
	if (from == to || !atomic_compare_exchange_strong(&sh->cur, &expect, to))
		return;
	atomic_fetch_add(&sh->gen, 1);
	log_warn("api server %s unreachable (%s), using %s", sh->servers[from], why, sh->servers[to]);
}

/* Once per outage: callers retry (heartbeats every few seconds, watches with back-off). */
static void note_all_down(struct api_shared *sh, size_t from, const char *why)
{
	if (atomic_exchange(&sh->all_down, true))
		return;
	if (sh->n == 1)
		log_warn("api server %s unreachable (%s)", sh->servers[0], why);
	else
		log_warn("none of the %zu api servers answers (%s: %s, ...)", sh->n, sh->servers[from], why);
}

int api_request(struct api_client *c, const char *method, const char *path, const char *content_type,
		json_object *body, json_object **ret_body)
{
	struct api_shared *sh = c->sh;
	const char *payload = NULL;
	char why[2][128] = { "", "" };
	size_t from, idx = 0, i;
	int r = -EIO;

	if (body)
		payload = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (ret_body)
		*ret_body = NULL;
	pthread_mutex_lock(&c->lock);
	from = atomic_load(&sh->cur);
	for (i = 0; i < sh->n; i++) {
		idx = (from + i) % sh->n;
		if (ret_body) {
			json_object_put(*ret_body); /* the answer of a server we leave */
			*ret_body = NULL;
		}
		/* why[0] keeps the first server's reason: the switch line names why it was left. */
		r = perform(c, idx, method, path, body ? (content_type ?: "application/json") : NULL, payload, ret_body,
			    why[i > 0], sizeof(why[0]));
		if (!try_next(r))
			break;
	}
	pthread_mutex_unlock(&c->lock);
	if (i < sh->n)
		note_answer(sh, from, idx, why[0]);
	else if (r != -ENOMEM)
		note_all_down(sh, from, why[0]);
	return r;
}

int api_get(struct api_client *c, const char *path, json_object **ret_body)
{
	return api_request(c, "GET", path, NULL, NULL, ret_body);
}

int api_create(struct api_client *c, const char *path, json_object *obj, json_object **ret_body)
{
	return api_request(c, "POST", path, "application/json", obj, ret_body);
}

int api_update(struct api_client *c, const char *path, json_object *obj, json_object **ret_body)
{
	return api_request(c, "PUT", path, "application/json", obj, ret_body);
}

int api_patch(struct api_client *c, const char *path, enum api_patch_type type, json_object *patch,
	      json_object **ret_body)
{
	static const char *const types[] = {
		[API_PATCH_MERGE] = "application/merge-patch+json",
		[API_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
		[API_PATCH_JSON] = "application/json-patch+json",
	};

	if ((unsigned)type >= ELEMENTSOF(types))
		return -EINVAL;
	return api_request(c, "PATCH", path, types[type], patch, ret_body);
}

int api_delete(struct api_client *c, const char *path, json_object *options, json_object **ret_body)
{
	return api_request(c, "DELETE", path, "application/json", options, ret_body);
}

const char *api_error_message(json_object *body)
{
	const char *m = json_get_string(body, "message");

	return m ? m : "no Status message in the response";
}
