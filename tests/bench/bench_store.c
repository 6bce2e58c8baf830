/* Benchmarks the SQLite store in-process: durable writes/s with and without group commit
 * against the disk's own write()+fsync() rate, and watch delivery latency to 1,000
 * watchers. Usage: bench_store DIR (on the data dir's filesystem). Prints a markdown section. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "bench_stats.h"

/* Fixed amounts of work (never a fixed time), sized to finish within ~30 s on one disk. */
#define FSYNC_COUNT 400
#define WRITERS 16
#define GROUP_WRITES_EACH 1000
#define SINGLE_WRITES_EACH 60
#define WATCHERS 1000
#define WATCH_EVENTS 200

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *dir;
static char value[2560]; /* about one pod's JSON */

static double fsync_loop(void)
{
	char path[4096], rec[128];
	double t0, t;
	int fd;

	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(rec, 'x', sizeof(rec));
	t0 = now_s();
	for (int i = 0; i < FSYNC_COUNT; i++)
		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec) || fsync(fd) < 0) {
			close(fd);
			return -1;
		}
	t = now_s() - t0;
	close(fd);
	unlink(path);
	return FSYNC_COUNT / t;
}

static struct store *open_fresh(const char *name, bool group_commit)
{
	struct store_options o;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	for (const char *sfx = ""; sfx; sfx = *sfx ? (strcmp(sfx, "-wal") == 0 ? "-shm" : NULL) : "-wal") {
		char p[4200];
		snprintf(p, sizeof(p), "%s%s", path, sfx);
		unlink(p);
	}
	store_options_init(&o);
	o.group_commit = group_commit;
	o.compact_interval_seconds = 0;
	return store_open_sqlite(path, &o);
}

struct writer {
	struct store *s;
	int id, n;
	int failed;
	pthread_t th;
};

static void *writer_main(void *p)
{
	struct writer *w = p;
	char key[128];

	for (int i = 0; i < w->n; i++) {
		snprintf(key, sizeof(key), "/registry/pods/bench/w%02d-%06d", w->id, i);
		if (store_create(w->s, key, value, NULL) < 0)
			w->failed++;
	}
	return NULL;
}

/* Writes/s of `writers` threads doing `each` durable creates; -1 on any failure. */
static double write_rate(const char *name, bool group_commit, int writers, int each)
{
	struct store *s = open_fresh(name, group_commit);
	struct writer w[WRITERS];
	int failed = 0;
	double t0, t;

	if (!s)
		return -1;
	t0 = now_s();
	for (int i = 0; i < writers; i++) {
		w[i] = (struct writer){ .s = s, .id = i, .n = each };
		pthread_create(&w[i].th, NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < writers; i++) {
		pthread_join(w[i].th, NULL);
		failed += w[i].failed;
	}
	t = now_s() - t0;
	store_close(s);
	return failed ? -1 : writers * each / t;
}

/* Watch delivery: pollers drain watchers through their eventfds, as the HTTP layer does. */
static _Atomic double sent_at[WATCH_EVENTS + 1];
static double *lat;
static atomic_size_t n_lat;
static atomic_bool stop;

struct poller {
	struct store_watch **w;
	int n;
	pthread_t th;
};

static void *poller_main(void *p)
{
	struct poller *pl = p;
	struct epoll_event evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	for (int i = 0; i < pl->n; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = pl->w[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, store_watch_fd(pl->w[i]), &e);
	}
	while (!atomic_load(&stop)) {
		int n = epoll_wait(ep, evs, 64, 100);
		for (int i = 0; i < n; i++) {
			struct store_event ev = { 0 };
			while (store_watch_next(evs[i].data.ptr, &ev, 0) == 0) {
				double d = now_s() - sent_at[ev.mod_rev];
				lat[atomic_fetch_add(&n_lat, 1)] = d;
				store_event_clear(&ev);
			}
		}
	}
	close(ep);
	return NULL;
}

static int watch_latency(double *ret_p50, double *ret_p99, size_t *ret_n)
{
	struct store *s = open_fresh("watch", true);
	static struct store_watch *w[WATCHERS];
	struct poller pl[2];
	char key[128];
	int r = 0;

	if (!s)
		return -errno;
	lat = calloc((size_t)WATCHERS * WATCH_EVENTS, sizeof(*lat));
	for (int i = 0; i < WATCHERS && r == 0; i++)
		r = store_watch_new(s, "/registry/pods/", 0, &w[i]);
	if (r < 0 || !lat)
		return r < 0 ? r : -ENOMEM;
	for (int i = 0; i < 2; i++) {
		pl[i] = (struct poller){ .w = w + i * WATCHERS / 2, .n = WATCHERS / 2 };
		pthread_create(&pl[i].th, NULL, poller_main, &pl[i]);
	}
	for (int i = 1; i <= WATCH_EVENTS && r == 0; i++) {
		snprintf(key, sizeof(key), "/registry/pods/bench/p%04d", i);
		sent_at[i] = now_s();
		r = store_create(s, key, value, NULL);
		usleep(10000); /* paced: latency, not throughput */
	}
	usleep(500000);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(pl[i].th, NULL);
	size_t n = atomic_load(&n_lat);
	qsort(lat, n, sizeof(*lat), cmp_double);
	*ret_n = n;
	*ret_p50 = n ? lat[n / 2] * 1e3 : 0;
	*ret_p99 = n ? lat[n * 99 / 100] * 1e3 : 0;
	for (int i = 0; i < WATCHERS; i++)
		store_watch_free(w[i]);
	store_close(s);
	free(lat);
	return r;
}

int main(int argc, char **argv)
{
	double disk, group, single, one, p50 = 0, p99 = 0;
	size_t delivered = 0;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR (a directory on the data dir's filesystem)\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	memset(value, 'v', sizeof(value) - 1);
	memcpy(value, "{\"kind\":\"Pod\",\"pad\":\"", 21);
	memcpy(value + sizeof(value) - 3, "\"}", 2);

	disk = fsync_loop();
	group = write_rate("group", true, WRITERS, GROUP_WRITES_EACH);
	single = write_rate("single", false, WRITERS, SINGLE_WRITES_EACH);
	one = write_rate("one", true, 1, SINGLE_WRITES_EACH * 4);
	if (disk <= 0 || group <= 0 || single <= 0 || one <= 0) {
		fprintf(stderr, "bench_store: a run failed in %s (disk %.0f group %.0f single %.0f one %.0f)\n", dir,
			disk, group, single, one);
		return 1;
	}
	r = watch_latency(&p50, &p99, &delivered);
	if (r < 0) {
		fprintf(stderr, "bench_store: watch run failed: %s\n", strerror(-r));
		return 1;
	}
	printf("### Store\n\n");
	printf("Durable (synchronous=FULL) creates of ~2.5 KB values, in-process, on %s.\n\n", dir);
	printf("| case | writes/s | ratio to fsync loop |\n|---|---:|---:|\n");
	printf("| write()+fsync() loop, %d records | %.0f | 1.00 |\n", FSYNC_COUNT, disk);
	printf("| group commit on, %d writers x %d | %.0f | %.2f |\n", WRITERS, GROUP_WRITES_EACH, group,
	       group / disk);
	printf("| group commit off, %d writers x %d | %.0f | %.2f |\n", WRITERS, SINGLE_WRITES_EACH, single,
	       single / disk);
	printf("| group commit on, 1 writer x %d | %.0f | %.2f |\n", SINGLE_WRITES_EACH * 4, one, one / disk);
	printf("\nWatch delivery, %d watchers on 2 epoll threads, %d paced durable writes"
	       " (write start to watcher receipt, %zu of %d deliveries): p50 %.2f ms, p99 %.2f ms\n",
	       WATCHERS, WATCH_EVENTS, delivered, WATCHERS * WATCH_EVENTS, p50, p99);
	return 0;
}
