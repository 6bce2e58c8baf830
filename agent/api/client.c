/* Requests to the API server through one libcurl easy handle kept alive between calls. */
#include "api/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

struct api_client {
	char *server;
	char *auth_header; /* "Authorization: Bearer ..." or NULL */
	int ca_fd;         /* memfd with the CA PEM, -1 for the system store */
	char ca_path[64];  /* /proc/self/fd/N: GnuTLS-built libcurl takes no CA blob */
	pthread_mutex_t lock;
	CURL *h;
};

struct buf {
	char *data;
	size_t len;
};

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

struct api_client *api_client_new(const char *server, const char *ca_pem, const char *token)
{
	struct api_client *c;
	int r = -ENOMEM;

	if (!server || !*server) {
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&curl_once, curl_init_once);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ca_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	/* A trailing slash would double up with every path's leading one. */
	c->server = strndup(server, strlen(server) - (server[strlen(server) - 1] == '/'));
	if (!c->server)
		goto fail;
	if (token && *token && asprintf(&c->auth_header, "Authorization: Bearer %s", token) < 0) {
		c->auth_header = NULL;
		goto fail;
	}
	if (ca_pem) {
		r = ca_memfd(ca_pem, &c->ca_fd);
		if (r < 0)
			goto fail;
		snprintf(c->ca_path, sizeof(c->ca_path), "/proc/self/fd/%d", c->ca_fd);
	}
	c->h = curl_easy_init();
	if (!c->h) {
		r = -ENOMEM;
		goto fail;
	}
	return c;
fail:
	api_client_free(c);
	errno = -r;
	return NULL;
}

void api_client_free(struct api_client *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	if (c->ca_fd >= 0)
		close(c->ca_fd);
	if (c->auth_header)
		explicit_bzero(c->auth_header, strlen(c->auth_header));
	free(c->auth_header);
	free(c->server);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int api_client_setup(struct api_client *c, CURL *h, const char *path, struct curl_slist **ret_headers)
{
	_cleanup_free_ char *url = NULL;
	struct curl_slist *hdrs = NULL, *t;

	if (asprintf(&url, "%s%s", c->server, path) < 0)
		return -ENOMEM;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK)
		return -EINVAL;
	/* The cluster CA alone: without CAPATH NULL, GnuTLS also loads the ~300 system roots for every
	 * connection (about 18 MB and 35 ms of CPU each). */
	if (c->ca_fd >= 0) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_path);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skiff-agent/v1.32.0-skiff");
	t = curl_slist_append(hdrs, "Accept: application/json");
	if (t && c->auth_header)
		t = curl_slist_append(t, c->auth_header);
	if (!t) {
		curl_slist_free_all(hdrs);
		return -ENOMEM;
	}
	*ret_headers = t;
	return 0;
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
	default:
		return -EIO;
	}
}

/* Runs on the shared handle with the lock held. */
static int perform(struct api_client *c, const char *method, const char *path, const char *content_type,
		   const char *payload, json_object **ret_body)
{
	struct curl_slist *hdrs = NULL, *t;
	_cleanup_free_ char *ctype = NULL;
	struct buf b = { 0 };
	long code = 0;
	CURLcode cc;
	int r;

	curl_easy_reset(c->h);
	r = api_client_setup(c, c->h, path, &hdrs);
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
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &b);
	if (payload) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	}
	cc = curl_easy_perform(c->h);
	if (cc != CURLE_OK) {
		log_debug("api: %s %s: %s", method, path, curl_easy_strerror(cc));
		r = curl_to_errno(cc);
		goto out;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	r = (int)code;
	if (ret_body)
		*ret_body = b.data ? json_tokener_parse(b.data) : NULL;
out:
	curl_slist_free_all(hdrs);
	free(b.data);
	return r;
}

int api_request(struct api_client *c, const char *method, const char *path, const char *content_type,
		json_object *body, json_object **ret_body)
{
	const char *payload = NULL;
	int r;

	if (body)
		payload = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	pthread_mutex_lock(&c->lock);
	r = perform(c, method, path, body ? (content_type ?: "application/json") : NULL, payload, ret_body);
	pthread_mutex_unlock(&c->lock);
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
