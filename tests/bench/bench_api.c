/* Benchmarks skiff-control from the outside over HTTPS (libcurl, keep-alive): pod create
 * throughput/latency with N clients, and watch delivery latency with M watchers (all on
 * a few epoll loops, so the client does not need a thread per watch).
 * Prints one line of key=value pairs that tests/bench/run.sh turns into RESULTS.md. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "skiff/cleanup.h"
#include "bench_stats.h"

struct config {
	const char *url;   /* https://127.0.0.1:PORT */
	const char *ca;    /* CA file */
	char auth[512];    /* "Authorization: Bearer ..." */
	const char *mode;  /* create | watch */
	const char *prefix;
	int clients;
	long count;
	int watchers;
	int samples;
	int watch_threads; /* epoll loops the watchers are spread over */
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

struct buf {
	char *data;
	size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	char *n = realloc(b->data, b->len + size * nmemb + 1);

	if (!n)
		return 0;
	memcpy(n + b->len, ptr, size * nmemb);
	b->data = n;
	b->len += size * nmemb;
	b->data[b->len] = '\0';
	return size * nmemb;
}

/* An easy handle with TLS, auth and JSON headers set; the caller sets URL and body. */
static CURL *client_new(const struct config *c, struct curl_slist **ret_headers)
{
	struct curl_slist *h = NULL;
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	h = curl_slist_append(h, c->auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	*ret_headers = h;
	return e;
}

/* POSTs one small pod; returns the HTTP code or a negative curl error. */
static long create_pod(CURL *e, const struct config *c, const char *name)
{
	char url[512], body[512];
	long code = 0;
	CURLcode r;

	snprintf(url, sizeof(url), "%s/api/v1/namespaces/default/pods", c->url);
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
		 "\"labels\":{\"bench\":\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
		 "\"image\":\"busybox:1.36\"}]}}",
		 name, c->prefix);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	r = curl_easy_perform(e);
	if (r != CURLE_OK)
		return -(long)r;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* Opens the keep-alive connection (TLS handshake) outside the timed part. */
static int warm_up(CURL *e, const struct config *c)
{
	char url[512];

	snprintf(url, sizeof(url), "%s/readyz", c->url);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	return curl_easy_perform(e) == CURLE_OK ? 0 : -EIO;
}

/* ---- create throughput ---- */

struct creator {
	const struct config *cfg;
	pthread_barrier_t *start;
	long first, n;
	double *lat; /* n entries */
	long errors;
	long first_error;
};

static void *creator_run(void *arg)
{
	struct creator *cr = arg;
	struct curl_slist *h = NULL;
	CURL *e = client_new(cr->cfg, &h);
	char name[128];

	if (!e || warm_up(e, cr->cfg) < 0)
		cr->errors = cr->n;
	pthread_barrier_wait(cr->start);
	for (long i = 0; e && cr->errors < cr->n && i < cr->n; i++) {
		double t0 = now_ms();
		long code;

		snprintf(name, sizeof(name), "%s-%ld", cr->cfg->prefix, cr->first + i);
		code = create_pod(e, cr->cfg, name);
		cr->lat[i] = now_ms() - t0;
		if (code != 201) {
			if (!cr->errors)
				cr->first_error = code;
			cr->errors++;
		}
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	return NULL;
}

static int bench_create(const struct config *c)
{
	_cleanup_free_ struct creator *cr = calloc(c->clients, sizeof(*cr));
	_cleanup_free_ pthread_t *th = calloc(c->clients, sizeof(*th));
	_cleanup_free_ double *lat = calloc(c->count, sizeof(*lat));
	pthread_barrier_t start;
	long errors = 0, first_error = 0, per = c->count / c->clients;
	double t0, secs;

	if (!cr || !th || !lat)
		return -ENOMEM;
	pthread_barrier_init(&start, NULL, c->clients + 1);
	for (int i = 0; i < c->clients; i++) {
		cr[i] = (struct creator){ .cfg = c, .start = &start, .first = i * per, .n = per, .lat = lat + i * per };
		if (i == c->clients - 1)
			cr[i].n = c->count - i * per;
		pthread_create(&th[i], NULL, creator_run, &cr[i]);
	}
	pthread_barrier_wait(&start);
	t0 = now_ms();
	for (int i = 0; i < c->clients; i++) {
		pthread_join(th[i], NULL);
		if (cr[i].errors && !errors)
			first_error = cr[i].first_error;
		errors += cr[i].errors;
	}
	secs = (now_ms() - t0) / 1e3;
	pthread_barrier_destroy(&start);
	qsort(lat, c->count, sizeof(*lat), cmp_double);
	printf("mode=create clients=%d creates=%ld errors=%ld first_error=%ld seconds=%.3f rate=%.0f "
	       "p50_ms=%.3f p99_ms=%.3f\n",
	       c->clients, c->count, errors, first_error, secs, (c->count - errors) / secs,
	       percentile_sorted(lat, c->count, 0.50), percentile_sorted(lat, c->count, 0.99));
	return errors ? -EIO : 0;
}

/* ---- watch delivery latency ---- */

struct watch_shared {
	const struct config *cfg;
	char marker[64]; /* "<prefix>- : opens the name, whose suffix is the sample index */
	char rv[32];     /* the list's resourceVersion every watch starts from */
	atomic_bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int *seen; /* per sample index: watchers that got it (index 0 is the warm-up) */
	int dead;  /* watchers whose stream ended before stop: nobody waits for them */
};

struct watcher {
	struct watch_shared *sh;
	CURL *e;
	struct curl_slist *h;
	int fd;        /* its socket, -1 before curl opened it */
	double ready;  /* when epoll last said its socket is readable */
	double *recv;  /* per sample index: arrival (epoll readiness of the bytes completing the event) */
	double *done;  /* per sample index: when this client had parsed it (an upper bound) */
	char *line;
	size_t len, cap;
	int failed;
};

/* The sample index of an ADDED event of this run, or -1. */
static long event_index(const struct watch_shared *sh, const char *line)
{
	const char *p = strstr(line, sh->marker);
	long k;

	if (!p || !strstr(line, "\"ADDED\""))
		return -1;
	k = strtol(p + strlen(sh->marker), NULL, 10);
	return k >= 0 && k <= sh->cfg->samples ? k : -1;
}

static void watcher_line(struct watcher *w, const char *line)
{
	long k = event_index(w->sh, line);

	if (k < 0 || w->recv[k] != 0)
		return;
	/* Bytes read outside their socket's own wake-up get the later, processed time. */
	w->recv[k] = w->ready ? w->ready : now_ms();
	w->done[k] = now_ms();
	pthread_mutex_lock(&w->sh->lock);
	if (++w->sh->seen[k] + w->sh->dead >= w->sh->cfg->watchers)
		pthread_cond_broadcast(&w->sh->cond);
	pthread_mutex_unlock(&w->sh->lock);
}

static size_t watcher_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct watcher *w = ud;
	size_t n = size * nmemb;
	char *nl;

	if (w->len + n + 1 > w->cap) {
		size_t cap = (w->len + n + 1) * 2;
		char *b = realloc(w->line, cap);

		if (!b)
			return 0;
		w->line = b;
		w->cap = cap;
	}
	memcpy(w->line + w->len, ptr, n);
	w->len += n;
	w->line[w->len] = '\0';
	while ((nl = memchr(w->line, '\n', w->len))) {
		*nl = '\0';
		watcher_line(w, w->line);
		w->len -= (size_t)(nl + 1 - w->line);
		memmove(w->line, nl + 1, w->len + 1);
	}
	return n;
}

/* One epoll loop driving a share of the watchers through a curl multi handle. */
struct wloop {
	struct watch_shared *sh;
	struct watcher *w;
	int n;
	CURLM *m;
	int ep;
	long timeout_ms; /* what curl last asked for; -1 none */
	pthread_t th;
};

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct wloop *l = userp;
	struct watcher *w = NULL;
	struct epoll_event ev = { 0 };

	(void)socketp;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&w);
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	w->fd = s;
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	ev.data.ptr = w;
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, s, &ev) < 0 && errno == ENOENT)
		epoll_ctl(l->ep, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	((struct wloop *)userp)->timeout_ms = timeout_ms;
	return 0;
}

/* A stream that ended before stop: nobody waits for that watcher any more. */
static void reap(struct wloop *l)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(l->m, &left))) {
		struct watcher *w = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
		curl_multi_remove_handle(l->m, msg->easy_handle);
		w->failed = 1;
		pthread_mutex_lock(&w->sh->lock);
		w->sh->dead++;
		pthread_cond_broadcast(&w->sh->cond);
		pthread_mutex_unlock(&w->sh->lock);
	}
}

static void *wloop_run(void *arg)
{
	struct wloop *l = arg;
	struct epoll_event evs[256];
	int running = 0;

	curl_multi_socket_action(l->m, CURL_SOCKET_TIMEOUT, 0, &running);
	while (!atomic_load(&l->sh->stop)) {
		/* Short waits: the stop flag is looked at at least every 100 ms. */
		int t = l->timeout_ms < 0 || l->timeout_ms > 100 ? 100 : (int)l->timeout_ms;
		int n = epoll_wait(l->ep, evs, 256, t);
		/* Every socket of this wake-up had its bytes by now: that is their arrival time. */
		double ready = now_ms();

		if (n <= 0) {
			curl_multi_socket_action(l->m, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		for (int i = 0; i < n; i++) {
			struct watcher *w = evs[i].data.ptr;
			int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

			w->ready = ready;
			curl_multi_socket_action(l->m, w->fd, flags, &running);
			w->ready = 0;
		}
		reap(l);
	}
	return NULL;
}

static int wloop_add(struct wloop *l, struct watcher *w)
{
	const struct config *c = l->sh->cfg;
	char url[1024];

	snprintf(url, sizeof(url),
		 "%s/api/v1/namespaces/default/pods?watch=1&labelSelector=bench%%3D%s&resourceVersion=%s"
		 "&timeoutSeconds=1800",
		 c->url, c->prefix, l->sh->rv);
	curl_easy_setopt(w->e, CURLOPT_URL, url);
	curl_easy_setopt(w->e, CURLOPT_WRITEFUNCTION, watcher_data);
	curl_easy_setopt(w->e, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->e, CURLOPT_PRIVATE, w);
	return curl_multi_add_handle(l->m, w->e) == CURLM_OK ? 0 : -ENOMEM;
}

/* The resourceVersion of an (empty) list of this run's pods: watches start there. */
static int list_rv(CURL *e, const struct config *c, char *rv, size_t rv_size)
{
	struct buf b = { 0 };
	char url[512];
	json_object *list = NULL, *meta, *v;
	int r = -EIO;

	snprintf(url, sizeof(url), "%s/api/v1/namespaces/default/pods?labelSelector=bench%%3D%s", c->url,
		 c->prefix);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(e) != CURLE_OK || !b.data)
		goto out;
	list = json_tokener_parse(b.data);
	if (json_object_object_get_ex(list, "metadata", &meta) &&
	    json_object_object_get_ex(meta, "resourceVersion", &v)) {
		snprintf(rv, rv_size, "%s", json_object_get_string(v));
		r = 0;
	}
out:
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	json_object_put(list);
	free(b.data);
	return r;
}

/* Creates the pod for sample k and waits up to wait_s until every watcher has it.
 * Returns the time the create was acknowledged, or a negative value on failure. */
static double watch_sample(CURL *e, struct watch_shared *sh, int k, int wait_s)
{
	char name[128];
	struct timespec deadline;
	double ack;

	snprintf(name, sizeof(name), "%s-%d", sh->cfg->prefix, k);
	if (create_pod(e, sh->cfg, name) != 201)
		return -1;
	ack = now_ms();
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_s;
	pthread_mutex_lock(&sh->lock);
	while (sh->seen[k] + sh->dead < sh->cfg->watchers)
		if (pthread_cond_timedwait(&sh->cond, &sh->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&sh->lock);
	return ack;
}

/* Spreads the watchers over the loops and starts them; *ret_started loops must be stopped. */
static int watchers_start(struct watch_shared *sh, struct watcher *w, struct wloop *l, int nl, int *ret_started)
{
	const struct config *c = sh->cfg;
	int per = (c->watchers + nl - 1) / nl;

	*ret_started = 0;
	for (int i = 0; i < nl; i++) {
		l[i] = (struct wloop){ .sh = sh, .w = w + i * per, .timeout_ms = -1 };
		l[i].n = i == nl - 1 ? c->watchers - i * per : per;
		l[i].m = curl_multi_init();
		l[i].ep = epoll_create1(EPOLL_CLOEXEC);
		if (!l[i].m || l[i].ep < 0)
			return -ENOMEM;
		curl_multi_setopt(l[i].m, CURLMOPT_SOCKETFUNCTION, sock_cb);
		curl_multi_setopt(l[i].m, CURLMOPT_SOCKETDATA, &l[i]);
		curl_multi_setopt(l[i].m, CURLMOPT_TIMERFUNCTION, timer_cb);
		curl_multi_setopt(l[i].m, CURLMOPT_TIMERDATA, &l[i]);
		for (int j = 0; j < l[i].n; j++) {
			struct watcher *x = &l[i].w[j];

			*x = (struct watcher){ .sh = sh, .fd = -1, .recv = calloc(c->samples + 1, sizeof(double)),
					       .done = calloc(c->samples + 1, sizeof(double)) };
			x->e = client_new(c, &x->h);
			if (!x->recv || !x->done || !x->e)
				return -ENOMEM;
			if (wloop_add(&l[i], x) < 0)
				return -ENOMEM;
		}
		if (pthread_create(&l[i].th, NULL, wloop_run, &l[i]) != 0)
			return -ENOMEM;
		(*ret_started)++;
	}
	return 0;
}

/* Latencies from ack to each watcher's stamp (arrival or done); 0 when the event beat the
 * create's response to the client. Sorted; returns how many, *ret_missing the rest. */
static size_t latencies(const struct watch_shared *sh, const struct watcher *w, const double *ack, bool done,
			double *lat, size_t *ret_missing)
{
	const struct config *c = sh->cfg;
	size_t n = 0, missing = 0;

	for (int i = 0; i < c->watchers; i++)
		for (int k = 1; k <= c->samples; k++) {
			double t = done ? w[i].done[k] : w[i].recv[k];

			if (ack[k] < 0 || w[i].recv[k] == 0) {
				missing++;
				continue;
			}
			lat[n++] = t > ack[k] ? t - ack[k] : 0;
		}
	qsort(lat, n, sizeof(*lat), cmp_double);
	*ret_missing = missing;
	return n;
}

static void watch_report(const struct watch_shared *sh, const struct watcher *w, const double *ack)
{
	const struct config *c = sh->cfg;
	_cleanup_free_ double *lat = calloc((size_t)c->watchers * c->samples, sizeof(double));
	_cleanup_free_ double *dlat = calloc((size_t)c->watchers * c->samples, sizeof(double));
	size_t n, missing, failed = 0;

	if (!lat || !dlat)
		return;
	for (int i = 0; i < c->watchers; i++)
		failed += w[i].failed;
	(void)latencies(sh, w, ack, true, dlat, &missing);
	n = latencies(sh, w, ack, false, lat, &missing);
	printf("mode=watch watchers=%d samples=%d delivered=%zu missing=%zu failed_watchers=%zu "
	       "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f parsed_p50_ms=%.3f parsed_p99_ms=%.3f parsed_max_ms=%.3f\n",
	       c->watchers, c->samples, n, missing, failed, percentile_sorted(lat, n, 0.50), percentile_sorted(lat, n, 0.99),
	       n ? lat[n - 1] : -1.0, percentile_sorted(dlat, n, 0.50), percentile_sorted(dlat, n, 0.99), n ? dlat[n - 1] : -1.0);
}

static int bench_watch(const struct config *c)
{
	struct watch_shared sh = { .cfg = c, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	_cleanup_free_ struct watcher *w = calloc(c->watchers, sizeof(*w));
	_cleanup_free_ struct wloop *l = calloc(c->watch_threads, sizeof(*l));
	_cleanup_free_ double *ack = calloc(c->samples + 1, sizeof(double));
	_cleanup_free_ int *seen = calloc(c->samples + 1, sizeof(int));
	struct curl_slist *h = NULL;
	CURL *e = client_new(c, &h);
	int started = 0, nl = c->watch_threads < c->watchers ? c->watch_threads : c->watchers, r;

	if (!w || !l || !ack || !seen || !e)
		return -ENOMEM;
	sh.seen = seen;
	snprintf(sh.marker, sizeof(sh.marker), "\"%s-", c->prefix);
	r = list_rv(e, c, sh.rv, sizeof(sh.rv));
	if (r < 0) {
		fprintf(stderr, "bench_api: could not list pods for a resourceVersion\n");
		goto out;
	}
	r = watchers_start(&sh, w, l, nl, &started);
	/* The warm-up event proves every watch is connected before anything is timed; 1,000
	 * TLS handshakes at once can take a while on a small machine. */
	if (r == 0 && (watch_sample(e, &sh, 0, 120) < 0 || seen[0] < c->watchers)) {
		fprintf(stderr, "bench_api: only %d of %d watchers got the warm-up event (%d streams ended early)\n",
			seen[0], c->watchers, sh.dead);
		r = -ETIMEDOUT;
	}
	for (int k = 1; r == 0 && k <= c->samples; k++)
		ack[k] = watch_sample(e, &sh, k, 10);
	if (r == 0)
		watch_report(&sh, w, ack);
out:
	atomic_store(&sh.stop, true);
	for (int i = 0; i < started; i++)
		pthread_join(l[i].th, NULL);
	for (int i = 0; i < nl; i++) {
		for (int j = 0; j < l[i].n && l[i].w; j++) {
			struct watcher *x = &l[i].w[j];

			if (x->e) {
				curl_multi_remove_handle(l[i].m, x->e);
				curl_easy_cleanup(x->e);
			}
			curl_slist_free_all(x->h);
			free(x->recv);
			free(x->done);
			free(x->line);
		}
		if (l[i].m)
			curl_multi_cleanup(l[i].m);
		if (l[i].ep > 0)
			close(l[i].ep);
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	return r;
}

static int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },     { "ca", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' }, { "mode", required_argument, NULL, 'm' },
		{ "prefix", required_argument, NULL, 'p' },  { "clients", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },   { "watchers", required_argument, NULL, 'w' },
		{ "samples", required_argument, NULL, 's' }, { "watch-threads", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	char token[400] = "";
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'u': c->url = optarg; break;
		case 'a': c->ca = optarg; break;
		case 'm': c->mode = optarg; break;
		case 'p': c->prefix = optarg; break;
		case 'c': c->clients = atoi(optarg); break;
		case 'n': c->count = atol(optarg); break;
		case 'w': c->watchers = atoi(optarg); break;
		case 's': c->samples = atoi(optarg); break;
		case 'T': c->watch_threads = atoi(optarg); break;
		case 't': {
			_cleanup_fclose_ FILE *f = fopen(optarg, "re");

			if (!f || !fgets(token, sizeof(token), f))
				return -errno ?: -EINVAL;
			token[strcspn(token, "\r\n")] = '\0';
			break;
		}
		default: return -EINVAL;
		}
	}
	snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", token);
	if (!c->url || !c->ca || !*token || !c->mode || c->clients < 1 || c->count < c->clients ||
	    c->watchers < 1 || c->samples < 1 || c->watch_threads < 1)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct config c = { .prefix = "bench", .clients = 1, .count = 1000, .watchers = 1, .samples = 100,
			  .watch_threads = 1 };
	int r;

	if (parse_args(argc, argv, &c) < 0) {
		fprintf(stderr, "usage: bench_api --url https://HOST:PORT --ca CA --token-file FILE\n"
				"         --mode create [--clients N] [--count N] [--prefix P]\n"
				"         --mode watch [--watchers N] [--samples N] [--watch-threads N] [--prefix P]\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	if (strcmp(c.mode, "create") == 0)
		r = bench_create(&c);
	else if (strcmp(c.mode, "watch") == 0)
		r = bench_watch(&c);
	else
		r = -EINVAL;
	curl_global_cleanup();
	if (r < 0)
		fprintf(stderr, "bench_api: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
