/* Container logs (see logs.h): one epoll thread for every container's two FIFOs and pidfd
 * (a thread per container cost its stack and buffers at 100 pods), writing CRI lines and
 * rotating by size. */
#include "pods/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "pods/mounts.h"

/* A line longer than this is split into 'P' pieces, as CRI runtimes do at 16 KiB. */
#define LINE_MAX_BYTES (16 * 1024)

enum { TAG_STDOUT, TAG_STDERR, TAG_PIDFD, TAG_COUNT };

struct stream {
	const char *name;
	int fd;
	char *buf; /* an unfinished line (len bytes, up to LINE_MAX_BYTES), NULL when there is none */
	size_t len;
};

struct container_logger;

/* What an epoll event points at: one of a logger's fds. */
struct tag {
	struct container_logger *l;
	int kind;
};

struct container_logger {
	struct stream s[2];
	struct tag tags[TAG_COUNT];
	int pidfd, logfd;
	char *log_path;
	size_t max_bytes, written;
	bool done;    /* the process exited and its output is written: the reader is through with it */
	bool stopped; /* container_logger_free came first: on reader.dead */
	struct container_logger *next_dead;
};

/* The reader thread, shared by every logger and started with the first. `lock` is held while
 * it handles a batch of events; a logger stopped early goes to `dead` and is freed by the
 * thread after its batch (one in flight may still point at it). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;
	pthread_once_t once;
	int epfd, wakefd, err;
	struct container_logger *dead;
} reader = { .lock = PTHREAD_MUTEX_INITIALIZER, .done = PTHREAD_COND_INITIALIZER, .once = PTHREAD_ONCE_INIT,
	     .epfd = -1, .wakefd = -1 };

int log_fifo_make(const char *path)
{
	struct stat st;

	if (mkfifo(path, 0600) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISFIFO(st.st_mode) ? 0 : -EEXIST;
}

size_t log_format_cri(char *buf, size_t size, const struct timespec *ts, const char *stream, char tag,
		      const char *line, size_t len)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, size - n, ".%09ldZ %s %c ", ts->tv_nsec, stream, tag);
	if (n >= size)
		return size - 1;
	if (len > size - n - 1)
		len = size - n - 1;
	memcpy(buf + n, line, len);
	n += len;
	buf[n++] = '\n';
	return n;
}

static int log_open(struct container_logger *l)
{
	struct stat st;

	l->logfd = open(l->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->logfd < 0)
		return -errno;
	l->written = fstat(l->logfd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

static void log_rotate(struct container_logger *l)
{
	_cleanup_free_ char *old = NULL;

	if (asprintf(&old, "%s.1", l->log_path) < 0)
		return;
	close(l->logfd);
	l->logfd = -1;
	rename(l->log_path, old);
	log_open(l);
}

static void emit(struct container_logger *l, struct stream *s, char tag, const char *line, size_t len)
{
	char out[LINE_MAX_BYTES + 128];
	struct timespec ts;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = log_format_cri(out, sizeof(out), &ts, s->name, tag, line, len);
	if (l->logfd >= 0 && write(l->logfd, out, n) == (ssize_t)n)
		l->written += n;
	if (l->max_bytes && l->written >= l->max_bytes)
		log_rotate(l);
}

/* Emits every complete line in the buffer (and the rest as a partial when the buffer is
 * full, or as the last line when flush is set). */
static void stream_lines(struct container_logger *l, struct stream *s, bool flush)
{
	size_t start = 0;

	if (s->len == 0)
		return;
	for (char *nl; (nl = memchr(s->buf + start, '\n', s->len - start)); start = (size_t)(nl - s->buf) + 1)
		emit(l, s, 'F', s->buf + start, (size_t)(nl - s->buf) - start);
	if (s->len - start == LINE_MAX_BYTES) {
		emit(l, s, 'P', s->buf, LINE_MAX_BYTES);
		start = s->len;
	} else if (flush && s->len > start) {
		emit(l, s, 'F', s->buf + start, s->len - start);
		start = s->len;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
}

/* Reads what is there now; false once nothing is left (EAGAIN: the logger holds a write end
 * too, so an empty FIFO never reads as EOF). */
static bool stream_read(struct container_logger *l, struct stream *s)
{
	/* Only the reader thread reads: one buffer for all, a stream keeps just its unfinished
	 * line (most output ends in a newline, so most streams keep nothing). */
	static char scratch[LINE_MAX_BYTES];
	ssize_t n = read(s->fd, scratch, LINE_MAX_BYTES - s->len);
	char *grown;

	if (n <= 0)
		return false;
	grown = realloc(s->buf, s->len + (size_t)n);
	if (!grown) {
		log_warn("log %s: %zd bytes of %s lost: out of memory", l->log_path, n, s->name);
		return true;
	}
	s->buf = grown;
	memcpy(s->buf + s->len, scratch, (size_t)n);
	s->len += (size_t)n;
	stream_lines(l, s, false);
	if (s->len == 0) {
		free(s->buf);
		s->buf = NULL;
	}
	return true;
}

static void logger_close(struct container_logger *l)
{
	for (int i = 0; i < 2; i++) {
		if (l->s[i].fd >= 0)
			close(l->s[i].fd);
		free(l->s[i].buf);
	}
	if (l->pidfd >= 0)
		close(l->pidfd);
	if (l->logfd >= 0)
		close(l->logfd);
	free(l->log_path);
	free(l);
}

static int tag_fd(struct container_logger *l, int kind)
{
	return kind == TAG_PIDFD ? l->pidfd : l->s[kind].fd;
}

/* With reader.lock held. */
static void logger_unwatch(struct container_logger *l)
{
	for (int i = 0; i < TAG_COUNT; i++)
		if (tag_fd(l, i) >= 0)
			epoll_ctl(reader.epfd, EPOLL_CTL_DEL, tag_fd(l, i), NULL);
}

/* The process is gone: what it wrote is all in the FIFOs now. */
static void logger_drain(struct container_logger *l)
{
	for (int i = 0; i < 2; i++) {
		while (stream_read(l, &l->s[i]))
			;
		stream_lines(l, &l->s[i], true);
	}
	logger_unwatch(l);
	l->done = true;
	pthread_cond_broadcast(&reader.done);
}

static void reader_handle(struct epoll_event *ev)
{
	struct tag *t = ev->data.ptr;
	uint64_t n;

	if (!t) {
		/* Only to get here: the dead list is freed after the batch. EAGAIN is fine. */
		if (read(reader.wakefd, &n, sizeof(n)) < 0)
			n = 0;
		return;
	}
	if (t->l->done || t->l->stopped)
		return;
	if (t->kind == TAG_PIDFD)
		logger_drain(t->l);
	else
		stream_read(t->l, &t->l->s[t->kind]);
}

static void *reader_main(void *arg)
{
	struct epoll_event ev[32];

	(void)arg;
	for (;;) {
		int n = epoll_wait(reader.epfd, ev, (int)ELEMENTSOF(ev), -1);

		if (n < 0 && errno != EINTR)
			return NULL;
		pthread_mutex_lock(&reader.lock);
		for (int i = 0; i < n; i++)
			reader_handle(&ev[i]);
		while (reader.dead) {
			struct container_logger *l = reader.dead;

			reader.dead = l->next_dead;
			logger_close(l);
		}
		pthread_mutex_unlock(&reader.lock);
	}
}

static void reader_start(void)
{
	struct epoll_event wake = { .events = EPOLLIN, .data.ptr = NULL };
	pthread_attr_t attr;
	pthread_t th;

	reader.epfd = epoll_create1(EPOLL_CLOEXEC);
	reader.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (reader.epfd < 0 || reader.wakefd < 0 || epoll_ctl(reader.epfd, EPOLL_CTL_ADD, reader.wakefd, &wake) < 0) {
		reader.err = errno;
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* It keeps a batch of events and one CRI line (16 KiB) on its stack. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	reader.err = pthread_create(&th, &attr, reader_main, NULL);
	pthread_attr_destroy(&attr);
}

static int logger_watch(struct container_logger *l)
{
	int r = 0;

	pthread_once(&reader.once, reader_start);
	if (reader.err)
		return -reader.err;
	pthread_mutex_lock(&reader.lock);
	for (int i = 0; i < TAG_COUNT && r >= 0; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->tags[i] };

		l->tags[i] = (struct tag){ .l = l, .kind = i };
		if (epoll_ctl(reader.epfd, EPOLL_CTL_ADD, tag_fd(l, i), &ev) < 0)
			r = -errno;
	}
	if (r < 0)
		logger_unwatch(l);
	pthread_mutex_unlock(&reader.lock);
	return r;
}

struct container_logger *container_logger_start(const char *out_fifo, const char *err_fifo, const char *log_path,
						size_t max_bytes, const struct proc_id *proc)
{
	struct container_logger *l = calloc(1, sizeof(*l));
	_cleanup_free_ char *dir = NULL;
	int r;

	if (!l)
		return NULL;
	l->s[0] = (struct stream){ .name = "stdout", .fd = -1 };
	l->s[1] = (struct stream){ .name = "stderr", .fd = -1 };
	l->pidfd = l->logfd = -1;
	l->max_bytes = max_bytes;
	l->log_path = strdup(log_path);
	dir = strdup(log_path);
	if (!l->log_path || !dir) {
		r = -ENOMEM;
		goto fail;
	}
	r = fs_mkdir_p(dirname(dir), 0755);
	if (r < 0)
		goto fail;
	/* O_RDWR: opening never blocks for a writer, and reads give EAGAIN rather than EOF
	 * between the container's writes. */
	l->s[0].fd = open(out_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	l->s[1].fd = open(err_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	l->pidfd = (int)syscall(SYS_pidfd_open, proc->pid, 0);
	if (l->s[0].fd < 0 || l->s[1].fd < 0 || l->pidfd < 0) {
		r = -errno;
		goto fail;
	}
	r = log_open(l);
	if (r >= 0)
		r = logger_watch(l);
	if (r < 0)
		goto fail;
	return l;
fail:
	logger_close(l);
	errno = -r;
	return NULL;
}

void container_logger_finish(struct container_logger *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&reader.lock);
	while (!l->done)
		pthread_cond_wait(&reader.done, &reader.lock);
	pthread_mutex_unlock(&reader.lock);
	logger_close(l);
}

void container_logger_free(struct container_logger *l)
{
	uint64_t one = 1;

	if (!l)
		return;
	pthread_mutex_lock(&reader.lock);
	if (l->done) {
		pthread_mutex_unlock(&reader.lock);
		logger_close(l);
		return;
	}
	/* Stop now: what is queued stays in the FIFOs for the next reader. */
	logger_unwatch(l);
	l->stopped = true;
	l->next_dead = reader.dead;
	reader.dead = l;
	if (write(reader.wakefd, &one, sizeof(one)) < 0)
		log_warn("log reader: wake: %m");
	pthread_mutex_unlock(&reader.lock);
}
