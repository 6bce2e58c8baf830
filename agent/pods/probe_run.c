/* Running one tcpSocket or httpGet probe inside the pod's network namespace: a short-lived
 * thread joins the namespace (setns is per thread) and connects there, so the agent's own
 * threads never leave the host's. Exec probes are in probe_exec.c. */
#include "pods/probe.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skiff/cleanup.h>

struct net_job {
	const struct probe_spec *spec;
	const struct probe_target *t;
	const char *host;
	char *msg;
	size_t msg_size;
	int result;
};

static int tcp_connect(struct net_job *j)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)j->spec->port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)j->spec->port) };
	bool v6 = strchr(j->host, ':') != NULL;
	struct pollfd p = { .events = POLLOUT };
	_cleanup_close_ int fd = -1;
	int err = 0;
	socklen_t len = sizeof(err);

	if (v6 ? inet_pton(AF_INET6, j->host, &a6.sin6_addr) != 1 : inet_pton(AF_INET, j->host, &a4.sin_addr) != 1) {
		snprintf(j->msg, j->msg_size, "dial tcp %s:%d: not an IP address", j->host, j->spec->port);
		return -EINVAL;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4, v6 ? sizeof(a6) : sizeof(a4)) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
		} else {
			p.fd = fd;
			if (poll(&p, 1, j->spec->timeout_s * 1000) == 0)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
		}
	}
	if (err == 0)
		return 1;
	snprintf(j->msg, j->msg_size, "dial tcp %s:%d: connect: %s", j->host, j->spec->port, strerror(err));
	return 0;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

static int http_get(struct net_job *j)
{
	const struct probe_spec *s = j->spec;
	bool v6 = strchr(j->host, ':') != NULL;
	struct curl_slist *hdrs = NULL;
	char url[2048];
	long code = 0;
	CURLcode cr;
	CURL *h;

	snprintf(url, sizeof(url), "http://%s%s%s:%d%s%s", v6 ? "[" : "", j->host, v6 ? "]" : "", s->port,
		 s->path[0] == '/' ? "" : "/", s->path);
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	for (char **p = s->headers; p && *p; p++)
		hdrs = curl_slist_append(hdrs, *p);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_s * 1000);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kube-probe/1.32");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	/* The kubelet follows no redirect to another host either; a 3xx is already a success. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	cr = curl_easy_perform(h);
	if (cr == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (cr != CURLE_OK) {
		snprintf(j->msg, j->msg_size, "Get \"%s\": %s", url, curl_easy_strerror(cr));
		return 0;
	}
	if (code >= 200 && code < 400)
		return 1;
	snprintf(j->msg, j->msg_size, "HTTP probe failed with statuscode: %ld", code);
	return 0;
}

static void *net_thread(void *ud)
{
	struct net_job *j = ud;

	/* This thread alone moves; it ends with the probe, so the namespace goes with it. */
	if (setns(j->t->netns_fd, CLONE_NEWNET) < 0) {
		j->result = -errno;
		snprintf(j->msg, j->msg_size, "entering the pod's network namespace: %s", strerror(errno));
		return NULL;
	}
	j->result = j->spec->kind == PROBE_TCP ? tcp_connect(j) : http_get(j);
	return NULL;
}

static int net_probe(const struct probe_spec *spec, const struct probe_target *t, char *msg, size_t msg_size)
{
	struct net_job j = { spec, t, spec->host ? spec->host : (t->pod_ip && *t->pod_ip ? t->pod_ip : "127.0.0.1"),
			     msg, msg_size, -EIO };
	pthread_t th;
	int r;

	if (t->netns_fd < 0) {
		snprintf(msg, msg_size, "the pod has no network namespace");
		return -EBADF;
	}
	r = pthread_create(&th, NULL, net_thread, &j);
	if (r != 0) {
		snprintf(msg, msg_size, "starting the probe thread: %s", strerror(r));
		return -r;
	}
	pthread_join(th, NULL);
	return j.result;
}

int probe_run(const struct probe_spec *spec, const struct probe_target *t, char *msg, size_t msg_size)
{
	msg[0] = '\0';
	switch (spec->kind) {
	case PROBE_TCP:
	case PROBE_HTTP:
		return net_probe(spec, t, msg, msg_size);
	case PROBE_EXEC:
		return probe_exec_run(spec, t, msg, msg_size);
	default:
		snprintf(msg, msg_size, "no probe handler");
		return -EINVAL;
	}
}
