/* Resolving a pod to its agent and streaming requests to it (see pod_proxy.h). */
#include "api/pod_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/agent_proto.h>
#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/certs.h"
#include "api/resources.h"

#define AGENT_DEFAULT_PORT 10250
#define PAUSE_ABOVE (1u << 20) /* bytes buffered before a transfer waits for its reader */

static pthread_mutex_t client_lock = PTHREAD_MUTEX_INITIALIZER;
static char *client_crt, *client_key; /* paths; NULL until pod_proxy_init */

static int write_new(const char *path, const char *pem)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(pem);

	if (fd < 0)
		return -errno;
	return write(fd, pem, len) == (ssize_t)len ? 0 : -EIO;
}

int pod_proxy_init(const char *data_dir)
{
	_cleanup_free_ char *crt = NULL, *key = NULL, *crt_pem = NULL, *key_pem = NULL;
	int r = 0;

	if (asprintf(&crt, "%s/apiserver-kubelet-client.crt", data_dir) < 0 ||
	    asprintf(&key, "%s/apiserver-kubelet-client.key", data_dir) < 0)
		return -ENOMEM;
	if (access(crt, R_OK) < 0 || access(key, R_OK) < 0) {
		r = certs_issue_client(data_dir, AGENT_PROTO_CLIENT_CN, "system:masters", &crt_pem, &key_pem);
		if (r >= 0)
			r = write_new(key, key_pem);
		if (r >= 0)
			r = write_new(crt, crt_pem);
		if (r < 0)
			return log_error_errno(r, "agents' client certificate %s: %m", crt);
	}
	pthread_mutex_lock(&client_lock);
	free(client_crt);
	free(client_key);
	client_crt = TAKE_PTR(crt);
	client_key = TAKE_PTR(key);
	pthread_mutex_unlock(&client_lock);
	return 0;
}

void pod_target_done(struct pod_target *t)
{
	free(t->base);
	free(t->uid);
	free(t->container);
	json_object_put(t->pod);
	*t = (struct pod_target){ 0 };
}

/* "[a b]" of the containers' names. */
static void names_list(json_object *containers, char *buf, size_t size)
{
	size_t off = (size_t)snprintf(buf, size, "[");

	for (size_t i = 0; containers && i < json_object_array_length(containers) && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? " " : "",
					json_get_string(json_object_array_get_idx(containers, i), "name") ?: "");
	if (off < size)
		snprintf(buf + off, size - off, "]");
}

static bool has_container(json_object *pod, const char *name)
{
	static const char *const lists[] = { "spec.containers", "spec.initContainers" };

	for (size_t l = 0; l < 2; l++) {
		json_object *arr = json_get_path(pod, lists[l]);

		for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
			if (strcmp(json_get_string(json_object_array_get_idx(arr, i), "name") ?: "", name) == 0)
				return true;
	}
	return false;
}

/* The container asked for, else the only one, else the default-container annotation. */
static int pick_container(json_object *pod, const char *name, const char *container, char **ret,
			  struct api_status *st)
{
	json_object *cs = json_get_path(pod, "spec.containers");
	json_object *ann = json_get_path(pod, "metadata.annotations"), *d = NULL;
	const char *dflt = json_object_object_get_ex(ann, "kubectl.kubernetes.io/default-container", &d)
				   ? json_object_get_string(d)
				   : NULL;
	char names[1024];

	if (!container || !*container) {
		if (cs && json_object_array_length(cs) == 1)
			container = json_get_string(json_object_array_get_idx(cs, 0), "name");
		else if (dflt && has_container(pod, dflt))
			container = dflt;
	}
	if (!container || !*container) {
		names_list(cs, names, sizeof(names));
		api_status_bad_request(st, "a container name must be specified for pod %s, choose one of: %s", name, names);
		return -EINVAL;
	}
	if (!has_container(pod, container)) {
		api_status_bad_request(st, "container %s is not valid for pod %s", container, name);
		return -EINVAL;
	}
	*ret = strdup(container);
	return *ret ? 0 : -ENOMEM;
}

/* https://InternalIP:port of the node's agent. */
static int node_base(struct registry *reg, const char *node_name, char **ret, struct api_status *st)
{
	_cleanup_json_ json_object *node = NULL;
	struct api_status ignored = { 0 };
	json_object *addrs, *port;
	const char *ip = NULL;
	int r;

	r = registry_get(reg, resource_by_name("nodes"), NULL, node_name, NULL, &node, &ignored);
	api_status_clear(&ignored);
	if (r < 0) {
		api_status_set(st, 503, "ServiceUnavailable", "node %s of the pod is not registered", node_name);
		return -EHOSTUNREACH;
	}
	addrs = json_get_path(node, "status.addresses");
	for (size_t i = 0; addrs && i < json_object_array_length(addrs); i++) {
		json_object *a = json_object_array_get_idx(addrs, i);

		if (strcmp(json_get_string(a, "type") ?: "", "InternalIP") == 0)
			ip = json_get_string(a, "address");
	}
	if (!ip || !*ip) {
		api_status_set(st, 503, "ServiceUnavailable", "node %s has no InternalIP address to reach its agent at",
			       node_name);
		return -EHOSTUNREACH;
	}
	port = json_get_path(node, "status.daemonEndpoints.kubeletEndpoint.Port");
	if (asprintf(ret, strchr(ip, ':') ? "https://[%s]:%d" : "https://%s:%d", ip,
		     port && json_object_get_int(port) > 0 ? json_object_get_int(port) : AGENT_DEFAULT_PORT) < 0)
		return -ENOMEM;
	return 0;
}

int pod_proxy_resolve(struct registry *reg, const char *ns, const char *name, const char *container,
		      struct pod_target *ret, struct api_status *st)
{
	struct pod_target t = { 0 };
	const char *node;
	bool ready;
	int r;

	pthread_mutex_lock(&client_lock);
	ready = client_crt != NULL;
	pthread_mutex_unlock(&client_lock);
	r = registry_get(reg, resource_by_name("pods"), ns, name, NULL, &t.pod, st);
	if (r < 0)
		return r;
	r = pick_container(t.pod, name, container, &t.container, st);
	if (r < 0)
		goto fail;
	node = json_get_string(t.pod, "spec.nodeName");
	if (!node || !*node) {
		api_status_bad_request(st, "pod %s does not have a host assigned", name);
		r = -EINVAL;
		goto fail;
	}
	if (!ready) {
		api_status_set(st, 503, "ServiceUnavailable", "this API server has no client certificate for agents");
		r = -EHOSTUNREACH;
		goto fail;
	}
	r = node_base(reg, node, &t.base, st);
	if (r < 0)
		goto fail;
	t.uid = strdup(json_get_string(t.pod, "metadata.uid") ?: "");
	if (!t.uid) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	if (r == -ENOMEM)
		api_status_internal(st, r, "pod proxy");
	pod_target_done(&t);
	return r;
}

/* --- streaming requests ------------------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct proxy_stream *ps = ud;
	size_t len = size * n;

	if (ps->len >= PAUSE_ABOVE) {
		ps->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (ps->len + len > ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16384;
		char *b;

		while (cap < ps->len + len)
			cap *= 2;
		b = realloc(ps->buf, cap);
		if (!b)
			return 0;
		ps->buf = b;
		ps->cap = cap;
	}
	memcpy(ps->buf + ps->len, data, len);
	ps->len += len;
	return len;
}

int proxy_stream_start(struct proxy_stream *ps, const char *url, const char *body, size_t body_len)
{
	*ps = (struct proxy_stream){ 0 };
	ps->multi = curl_multi_init();
	ps->easy = curl_easy_init();
	if (!ps->multi || !ps->easy)
		return -ENOMEM;
	curl_easy_setopt(ps->easy, CURLOPT_URL, url);
	curl_easy_setopt(ps->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ps->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(ps->easy, CURLOPT_ERRORBUFFER, ps->error);
	curl_easy_setopt(ps->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(ps->easy, CURLOPT_WRITEDATA, ps);
	/* Agents serve a self-signed certificate (kube-apiserver without
	 * --kubelet-certificate-authority does not check kubelets' either); ours is what counts. */
	curl_easy_setopt(ps->easy, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(ps->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	pthread_mutex_lock(&client_lock);
	curl_easy_setopt(ps->easy, CURLOPT_SSLCERT, client_crt);
	curl_easy_setopt(ps->easy, CURLOPT_SSLKEY, client_key);
	pthread_mutex_unlock(&client_lock);
	curl_easy_setopt(ps->easy, CURLOPT_SSLCERTTYPE, "PEM");
	if (body) {
		ps->headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
		curl_easy_setopt(ps->easy, CURLOPT_HTTPHEADER, ps->headers);
		curl_easy_setopt(ps->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(ps->easy, CURLOPT_COPYPOSTFIELDS, body_len ? body : "");
	}
	if (curl_multi_add_handle(ps->multi, ps->easy) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

static void check_done(struct proxy_stream *ps)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(ps->multi, &left)))
		if (m->msg == CURLMSG_DONE) {
			ps->done = true;
			ps->result = m->data.result;
		}
}

int proxy_stream_pump(struct proxy_stream *ps, int timeout_ms, int extra_fd, bool *ret_extra)
{
	struct curl_waitfd extra = { .fd = extra_fd, .events = CURL_WAIT_POLLIN };
	size_t before = ps->len;
	int running, n;

	if (ret_extra)
		*ret_extra = false;
	if (ps->paused && ps->len < PAUSE_ABOVE) {
		ps->paused = false;
		curl_easy_pause(ps->easy, CURLPAUSE_CONT);
	}
	if (curl_multi_perform(ps->multi, &running) != CURLM_OK)
		return -EIO;
	check_done(ps);
	if (ps->done || ps->len > before)
		return 0;
	if (curl_multi_poll(ps->multi, extra_fd >= 0 ? &extra : NULL, extra_fd >= 0 ? 1 : 0, timeout_ms, &n) !=
	    CURLM_OK)
		return -EIO;
	if (extra_fd >= 0 && extra.revents && ret_extra)
		*ret_extra = true;
	if (curl_multi_perform(ps->multi, &running) != CURLM_OK)
		return -EIO;
	check_done(ps);
	return 0;
}

void proxy_stream_consume(struct proxy_stream *ps, size_t n)
{
	if (n > ps->len)
		n = ps->len;
	memmove(ps->buf, ps->buf + n, ps->len - n);
	ps->len -= n;
}

long proxy_stream_code(struct proxy_stream *ps)
{
	long code = 0;

	curl_easy_getinfo(ps->easy, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

void proxy_stream_done(struct proxy_stream *ps)
{
	if (ps->multi && ps->easy)
		curl_multi_remove_handle(ps->multi, ps->easy);
	if (ps->easy)
		curl_easy_cleanup(ps->easy);
	if (ps->multi)
		curl_multi_cleanup(ps->multi);
	curl_slist_free_all(ps->headers);
	free(ps->buf);
	*ps = (struct proxy_stream){ 0 };
}
