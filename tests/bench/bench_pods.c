/* Pod start latency through the whole path (API, scheduler, agent, sandbox, container) from the
 * outside, and the kernel's own floor (unshare + chroot + /bin/true) for comparison. Prints one
 * key=value line that tests/bench/section_pods.sh turns into its table.
 *   bench_pods --mode floor --rootfs DIR [--count N]
 *   bench_pods --mode cmd [--count N] -- COMMAND ARG...       (any command, timed fork to exit)
 *   bench_pods --mode runtime --image NAME [--count N] -- AGENT-FLAGS...
 *              (the agent's runtime alone, as skiff-agent assembles it from those flags: a pod
 *              running /bin/true started, run to its exit, stopped)
 *   bench_pods --mode single|burst --url URL --ca FILE --token-file FILE --image NAME --ts-dir DIR
 *              [--count N] [--clients N] [--agent-pid PID] [--prefix P]
 * "proc" = the container's own first command (`: > /ts/NAME`) created its file in the hostPath
 * DIR, seen through inotify; "running" / "ready" = a watch event with the container running /
 * the Ready condition True; all measured from the moment the create request was sent. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/client.h"
#include "api/kubeconfig.h"
#include "api/watch.h"
#include "node/config.h"
#include "node/runtime_pods.h"
#include "bench_stats.h"

#define WAIT_ALL_MS 120000

struct opts {
	const char *mode, *url, *ca, *token_file, *image, *ts_dir, *rootfs, *prefix;
	int count, clients;
	long agent_pid;
};

struct pod_times {
	double create, proc, running, ready; /* ms on CLOCK_MONOTONIC, 0 = not yet */
	bool gone;
};

struct bench {
	struct opts o;
	char *ca_pem, *token;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pod_times *t;
	bool listed;
	atomic_bool stop;
	atomic_int next; /* burst: the next pod index a client creates */
	int create_errors;
};

/* ---- the floor: what the kernel alone needs for the same namespaces and rootfs ---- */

static int time_argv(char **argv, double *ret_ms)
{
	double t0 = now_ms();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	*ret_ms = now_ms() - t0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* Runs argv count times; prints mode=NAME n= p50_ms= p99_ms=. */
static int run_argv(const char *mode, int count, char **argv)
{
	_cleanup_free_ double *v = calloc(count, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		r = time_argv(argv, &v[i]);
		if (r < 0) {
			fprintf(stderr, "bench_pods: %s ... failed (run %d)\n", argv[0], i);
			return r;
		}
	}
	printf("mode=%s n=%d p50_ms=%.2f p99_ms=%.2f\n", mode, count, percentile(v, count, 0.5),
	       percentile(v, count, 0.99));
	return 0;
}

static int run_floor(const struct opts *o)
{
	char *argv[] = { "unshare", "--fork", "--pid", "--mount", "--net", "--uts", "--ipc", "chroot",
			 (char *)o->rootfs, "/bin/true", NULL };

	return run_argv("floor", o->count, argv);
}

/* ---- the runtime alone ---- */

static json_object *runtime_pod(const char *image, int i)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"rt-%d\",\"namespace\":\"default\","
		 "\"uid\":\"00000000-0000-4000-8000-%012d\"},\"spec\":{\"restartPolicy\":\"Never\",\"containers\":"
		 "[{\"name\":\"c\",\"image\":\"%s\",\"imagePullPolicy\":\"Never\",\"command\":[\"/bin/true\"]}]}}",
		 i, i, image);
	return json_tokener_parse(buf);
}

/* Until the runtime reports the container terminated with exit code 0 (polled each ms, 10 s). */
static int wait_exited(const struct reconcile_runtime *ops, const char *uid)
{
	for (int k = 0; k < 10000; k++) {
		_cleanup_json_ json_object *st = NULL;
		json_object *cs;

		if (ops->status(ops->rt, uid, &st) < 0)
			return -EIO;
		cs = json_object_array_get_idx(json_get_path(st, "containerStatuses"), 0);
		if (cs && json_get_path(cs, "state.terminated"))
			return json_object_get_int(json_get_path(cs, "state.terminated.exitCode")) == 0 ? 0 : -ECHILD;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return -ETIMEDOUT;
}

/* One pod: start (sandbox + container exec'd), run to its exit, stop; the three ends in ms. */
static int runtime_cycle(const struct reconcile_runtime *ops, const char *image, int i, double ret[3])
{
	_cleanup_json_ json_object *pod = runtime_pod(image, i);
	const char *uid = json_get_string(pod, "metadata.uid");
	double t0 = now_ms();
	int r = pod ? ops->start(ops->rt, pod) : -ENOMEM;

	ret[0] = now_ms() - t0;
	if (r >= 0)
		r = wait_exited(ops, uid);
	ret[1] = now_ms() - t0;
	if (pod && ops->stop(ops->rt, uid, 0) < 0 && r >= 0)
		r = -EIO;
	ret[2] = now_ms() - t0;
	if (r < 0)
		fprintf(stderr, "bench_pods: runtime pod %d: %s\n", i, strerror(-r));
	return r;
}

static int run_runtime(const struct opts *o, int argc, char **argv)
{
	struct agent_config c;
	struct agent_runtime *ar = NULL;
	struct reconcile_runtime ops;
	_cleanup_free_ double *v = calloc(3 * (size_t)o->count, sizeof(*v));
	_cleanup_free_ char *err = NULL;
	const char *key[3] = { "start", "exited", "cycle" };
	int r = v ? agent_config_init(&c) : -ENOMEM;

	if (r < 0)
		return r;
	r = agent_config_load(&c, argc, argv, stderr, &err);
	if (r == 0 && !(ar = agent_runtime_new(&c, c.pause_binary, "127.0.0.1")))
		r = -errno;
	if (r != 0)
		fprintf(stderr, "bench_pods: the runtime from the agent flags: %s\n", err ? err : strerror(-r));
	for (int i = 0; ar && i < o->count && r >= 0; i++) {
		double t[3];

		agent_runtime_ops(ar, &ops);
		r = runtime_cycle(&ops, o->image, i, t);
		for (int k = 0; k < 3; k++)
			v[k * o->count + i] = t[k];
	}
	if (ar && r >= 0) {
		printf("mode=runtime n=%d", o->count);
		for (int k = 0; k < 3; k++)
			printf(" %s_p50_ms=%.2f %s_p99_ms=%.2f", key[k], percentile(v + k * o->count, o->count, 0.5), key[k],
			       percentile(v + k * o->count, o->count, 0.99));
		printf("\n");
	}
	agent_runtime_free(ar);
	agent_config_done(&c);
	return r < 0 ? r : 0;
}

/* ---- observers: the watch (status) and inotify (the container's own write) ---- */

/* The pod index from a name "<prefix>-<i>", or -1. */
static int pod_index(struct bench *b, const char *name)
{
	size_t pl = strlen(b->o.prefix);
	char *end;
	long i;

	if (!name || strncmp(name, b->o.prefix, pl) != 0 || name[pl] != '-')
		return -1;
	i = strtol(name + pl + 1, &end, 10);
	return *end || i < 0 || i >= b->o.count ? -1 : (int)i;
}

static bool container_running(json_object *pod)
{
	json_object *cs = json_get_path(pod, "status.containerStatuses");
	json_object *c0 = cs && json_object_is_type(cs, json_type_array) ? json_object_array_get_idx(cs, 0) : NULL;

	return c0 && json_get_path(c0, "state.running");
}

static bool pod_ready(json_object *pod)
{
	json_object *conds = json_get_path(pod, "status.conditions");

	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = json_get_string(c, "type"), *st = json_get_string(c, "status");

		if (type && st && strcmp(type, "Ready") == 0 && strcmp(st, "True") == 0)
			return true;
	}
	return false;
}

static void note_pod(struct bench *b, const char *type, json_object *pod, double t)
{
	int i = pod_index(b, json_get_string(pod, "metadata.name"));

	if (i < 0)
		return;
	pthread_mutex_lock(&b->lock);
	if (strcmp(type, "DELETED") == 0)
		b->t[i].gone = true;
	if (!b->t[i].running && container_running(pod))
		b->t[i].running = t;
	if (!b->t[i].ready && pod_ready(pod))
		b->t[i].ready = t;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static int on_relist(void *ud, json_object *items)
{
	struct bench *b = ud;
	double t = now_ms();

	for (size_t i = 0; i < json_object_array_length(items); i++)
		note_pod(b, "ADDED", json_object_array_get_idx(items, i), t);
	pthread_mutex_lock(&b->lock);
	b->listed = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int on_event(void *ud, const char *type, json_object *pod)
{
	note_pod(ud, type, pod, now_ms());
	return 0;
}

static const struct api_watch_ops watch_ops = { .relist = on_relist, .event = on_event };

static void *watch_thread(void *ud)
{
	struct bench *b = ud;
	_cleanup_free_ char *query = NULL;
	struct api_client *c = api_client_new(b->o.url, b->ca_pem, b->token);

	if (!c || asprintf(&query, "labelSelector=bench%%3D%s", b->o.prefix) < 0) {
		fprintf(stderr, "bench_pods: watch client: %m\n");
		api_client_free(c);
		return NULL;
	}
	api_watch_run(c, "/api/v1/pods", query, &watch_ops, b, &b->stop, NULL);
	api_client_free(c);
	return NULL;
}

static void inotify_drain(struct bench *b, int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	double t = now_ms();
	ssize_t n = read(fd, buf, sizeof(buf));

	for (char *p = buf; n > 0 && p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;
		int i = ev->len ? pod_index(b, ev->name) : -1;

		if (i >= 0) {
			pthread_mutex_lock(&b->lock);
			if (!b->t[i].proc)
				b->t[i].proc = t;
			pthread_cond_broadcast(&b->cond);
			pthread_mutex_unlock(&b->lock);
		}
		p += sizeof(*ev) + ev->len;
	}
}

static void *inotify_thread(void *ud)
{
	struct bench *b = ud;
	_cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (fd < 0 || inotify_add_watch(fd, b->o.ts_dir, IN_CREATE) < 0) {
		fprintf(stderr, "bench_pods: inotify on %s: %m\n", b->o.ts_dir);
		return NULL;
	}
	while (!atomic_load(&b->stop)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) > 0)
			inotify_drain(b, fd);
	}
	return NULL;
}

/* ---- creating and deleting the pods ---- */

static json_object *pod_object(struct bench *b, int i)
{
	char name[128], cmd[256], buf[2048];

	snprintf(name, sizeof(name), "%s-%d", b->o.prefix, i);
	snprintf(cmd, sizeof(cmd), "trap 'exit 0' TERM; : > /ts/%s; sleep 3600 & wait", name);
	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"bench\":\"%s\"}},"
		 "\"spec\":{\"terminationGracePeriodSeconds\":2,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
		 "\"imagePullPolicy\":\"Never\",\"command\":[\"/bin/sh\",\"-c\",\"%s\"],"
		 "\"volumeMounts\":[{\"name\":\"ts\",\"mountPath\":\"/ts\"}]}],"
		 "\"volumes\":[{\"name\":\"ts\",\"hostPath\":{\"path\":\"%s\"}}]}}",
		 name, b->o.prefix, b->o.image, cmd, b->o.ts_dir);
	return json_tokener_parse(buf);
}

static int create_pod(struct bench *b, struct api_client *c, int i)
{
	_cleanup_json_ json_object *pod = pod_object(b, i), *resp = NULL;
	double t0 = now_ms();
	int st;

	pthread_mutex_lock(&b->lock);
	b->t[i].create = t0;
	pthread_mutex_unlock(&b->lock);
	st = pod ? api_create(c, "/api/v1/namespaces/default/pods", pod, &resp) : -ENOMEM;
	if (api_status_ok(st))
		return 0;
	fprintf(stderr, "bench_pods: create %s-%d: %s\n", b->o.prefix, i, st < 0 ? strerror(-st) : api_error_message(resp));
	pthread_mutex_lock(&b->lock);
	b->create_errors++;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return -EIO;
}

static int delete_pod(struct bench *b, struct api_client *c, int i)
{
	_cleanup_json_ json_object *resp = NULL;
	char path[256];
	int st;

	snprintf(path, sizeof(path), "/api/v1/namespaces/default/pods/%s-%d", b->o.prefix, i);
	st = api_delete(c, path, NULL, &resp);
	return api_status_ok(st) || st == 404 ? 0 : -EIO;
}

/* Waits (lock held) until pods [from, to) all satisfy what, or the deadline passes. */
enum want { WANT_UP, WANT_GONE };

static bool satisfied(const struct pod_times *t, enum want w)
{
	return w == WANT_GONE ? t->gone : t->proc && t->running && t->ready;
}

static int wait_pods(struct bench *b, int from, int to, enum want w, double timeout_ms)
{
	double deadline = now_ms() + timeout_ms;
	int i = from;

	while (i < to) {
		struct timespec ts;
		double left = deadline - now_ms();

		if (satisfied(&b->t[i], w)) {
			i++;
			continue;
		}
		if (left <= 0 || (w == WANT_UP && b->create_errors))
			return -ETIMEDOUT;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cond, &b->lock, &ts);
	}
	return 0;
}

/* A "KEY: N kB" line of /proc/PID/status in MB (VmRSS, RssAnon), -1 when missing. */
static double status_mb(long pid, const char *key)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	size_t n = strlen(key);
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = pid > 0 ? fopen(path, "re") : NULL;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%ld", &kb) == 1)
			break;
	return kb < 0 ? -1 : kb / 1024.0;
}

/* ---- the two runs ---- */

static int run_single(struct bench *b, struct api_client *c)
{
	int r = 0;

	for (int i = 0; i < b->o.count && r >= 0; i++) {
		r = create_pod(b, c, i);
		pthread_mutex_lock(&b->lock);
		if (r >= 0 && (r = wait_pods(b, i, i + 1, WANT_UP, 30000)) < 0)
			fprintf(stderr, "bench_pods: %s-%d not running and Ready within 30 s\n", b->o.prefix, i);
		pthread_mutex_unlock(&b->lock);
		delete_pod(b, c, i);
		pthread_mutex_lock(&b->lock);
		if (wait_pods(b, i, i + 1, WANT_GONE, 30000) < 0 && r >= 0) {
			fprintf(stderr, "bench_pods: %s-%d not gone within 30 s of its delete\n", b->o.prefix, i);
			r = -ETIMEDOUT;
		}
		pthread_mutex_unlock(&b->lock);
	}
	return r;
}

static void *creator(void *ud)
{
	struct bench *b = ud;
	struct api_client *c = api_client_new(b->o.url, b->ca_pem, b->token);
	int i;

	while (c && (i = atomic_fetch_add(&b->next, 1)) < b->o.count)
		create_pod(b, c, i);
	api_client_free(c);
	return NULL;
}

/* All pods created at once by --clients threads; ret_rss: the agent's VmRSS and RssAnon with all up. */
static int run_burst(struct bench *b, struct api_client *c, double ret_rss[2])
{
	pthread_t th[64];
	int n = b->o.clients < 64 ? b->o.clients : 64, r;

	for (int k = 0; k < n; k++)
		pthread_create(&th[k], NULL, creator, b);
	for (int k = 0; k < n; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_lock(&b->lock);
	r = wait_pods(b, 0, b->o.count, WANT_UP, WAIT_ALL_MS);
	pthread_mutex_unlock(&b->lock);
	if (r < 0)
		fprintf(stderr, "bench_pods: not all %d pods running and Ready within %d s\n", b->o.count,
			WAIT_ALL_MS / 1000);
	ret_rss[0] = status_mb(b->o.agent_pid, "VmRSS");
	ret_rss[1] = status_mb(b->o.agent_pid, "RssAnon");
	for (int i = 0; i < b->o.count; i++)
		delete_pod(b, c, i);
	pthread_mutex_lock(&b->lock);
	if (wait_pods(b, 0, b->o.count, WANT_GONE, WAIT_ALL_MS) < 0 && r >= 0) {
		fprintf(stderr, "bench_pods: not all pods gone within %d s of their deletes\n", WAIT_ALL_MS / 1000);
		r = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* Latencies of one field from each pod's create; the burst's span from the first create. */
static void report(struct bench *b, const double rss[2])
{
	size_t off[3] = { offsetof(struct pod_times, proc), offsetof(struct pod_times, running),
			  offsetof(struct pod_times, ready) };
	const char *key[3] = { "proc", "running", "ready" };
	_cleanup_free_ double *v = calloc(b->o.count, sizeof(*v));
	double first = b->t[0].create;

	printf("mode=%s n=%d", b->o.mode, b->o.count);
	for (int i = 0; i < b->o.count; i++)
		first = b->t[i].create < first ? b->t[i].create : first;
	for (int k = 0; v && k < 3; k++) {
		double last = 0;

		for (int i = 0; i < b->o.count; i++) {
			double t = *(double *)((char *)&b->t[i] + off[k]);

			v[i] = t - b->t[i].create;
			last = t > last ? t : last;
		}
		printf(" %s_p50_ms=%.1f %s_p99_ms=%.1f %s_all_ms=%.1f", key[k], percentile(v, b->o.count, 0.5), key[k],
		       percentile(v, b->o.count, 0.99), key[k], last - first);
	}
	if (rss[0] >= 0)
		printf(" agent_rss_mb=%.1f", rss[0]);
	if (rss[1] >= 0)
		printf(" agent_rss_anon_mb=%.1f", rss[1]);
	printf("\n");
}

static int run_pods(struct bench *b)
{
	pthread_t w, in;
	struct api_client *c;
	double rss[2] = { -1, -1 };
	int r;

	if (kubeconfig_read_file(b->o.ca, &b->ca_pem, NULL) < 0 || kubeconfig_read_file(b->o.token_file, &b->token, NULL) < 0)
		return -errno ?: -EINVAL;
	b->token[strcspn(b->token, "\r\n")] = '\0';
	c = api_client_new(b->o.url, b->ca_pem, b->token);
	b->t = calloc(b->o.count, sizeof(*b->t));
	if (!c || !b->t)
		return -ENOMEM;
	pthread_create(&in, NULL, inotify_thread, b);
	pthread_create(&w, NULL, watch_thread, b);
	pthread_mutex_lock(&b->lock);
	while (!b->listed)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	r = strcmp(b->o.mode, "single") == 0 ? run_single(b, c) : run_burst(b, c, rss);
	atomic_store(&b->stop, true);
	pthread_join(w, NULL);
	pthread_join(in, NULL);
	if (r >= 0)
		report(b, rss);
	api_client_free(c);
	return r;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "mode", 1, NULL, 'm' },   { "url", 1, NULL, 'u' },    { "ca", 1, NULL, 'c' },
		{ "token-file", 1, NULL, 't' }, { "image", 1, NULL, 'i' }, { "ts-dir", 1, NULL, 'd' },
		{ "rootfs", 1, NULL, 'r' }, { "count", 1, NULL, 'n' },  { "clients", 1, NULL, 'k' },
		{ "agent-pid", 1, NULL, 'p' }, { "prefix", 1, NULL, 'x' }, { 0 },
	};
	int ch;

	*o = (struct opts){ .count = 20, .clients = 4, .prefix = "bench" };
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'm': o->mode = optarg; break;
		case 'u': o->url = optarg; break;
		case 'c': o->ca = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'i': o->image = optarg; break;
		case 'd': o->ts_dir = optarg; break;
		case 'r': o->rootfs = optarg; break;
		case 'n': o->count = atoi(optarg); break;
		case 'k': o->clients = atoi(optarg); break;
		case 'p': o->agent_pid = atol(optarg); break;
		case 'x': o->prefix = optarg; break;
		default: return -EINVAL;
		}
	}
	if (!o->mode || o->count < 1)
		return -EINVAL;
	if (strcmp(o->mode, "floor") == 0)
		return o->rootfs ? 0 : -EINVAL;
	if (strcmp(o->mode, "cmd") == 0)
		return optind < argc ? 0 : -EINVAL;
	if (strcmp(o->mode, "runtime") == 0)
		return o->image ? 0 : -EINVAL;
	return (strcmp(o->mode, "single") == 0 || strcmp(o->mode, "burst") == 0) && o->url && o->ca &&
			       o->token_file && o->image && o->ts_dir ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct bench b = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	int r;

	if (parse(argc, argv, &b.o) < 0) {
		fprintf(stderr, "usage: bench_pods --mode floor --rootfs DIR [--count N]\n"
				"       bench_pods --mode cmd [--count N] -- COMMAND ARG...\n"
				"       bench_pods --mode runtime --image NAME [--count N] -- AGENT-FLAGS...\n"
				"       bench_pods --mode single|burst --url URL --ca FILE --token-file FILE --image NAME\n"
				"                  --ts-dir DIR [--count N] [--clients N] [--agent-pid PID] [--prefix P]\n");
		return 2;
	}
	if (strcmp(b.o.mode, "floor") == 0)
		r = run_floor(&b.o);
	else if (strcmp(b.o.mode, "cmd") == 0)
		r = run_argv("cmd", b.o.count, argv + optind);
	else if (strcmp(b.o.mode, "runtime") == 0) {
		/* The agent's flags parse as its own command line: argv[optind - 1] stands for argv[0]. */
		r = run_runtime(&b.o, argc - optind + 1, argv + optind - 1);
	} else
		r = run_pods(&b);
	free(b.t);
	free(b.ca_pem);
	free(b.token);
	return r < 0 ? 1 : 0;
}
