/* Container logs (see logs.h): a poll loop per container over its two FIFOs, its pidfd and a
 * stop eventfd, writing CRI lines and rotating by size. */
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
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "pods/mounts.h"

/* A line longer than this is split into 'P' pieces, as CRI runtimes do at 16 KiB. */
#define LINE_MAX_BYTES (16 * 1024)

struct stream {
	const char *name;
	int fd;
	char buf[LINE_MAX_BYTES];
	size_t len;
};

struct container_logger {
	pthread_t thread;
	struct stream s[2];
	int pidfd, stopfd, logfd;
	char *log_path;
	size_t max_bytes, written;
	bool finishing;
};

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

	for (char *nl; (nl = memchr(s->buf + start, '\n', s->len - start)); start = (size_t)(nl - s->buf) + 1)
		emit(l, s, 'F', s->buf + start, (size_t)(nl - s->buf) - start);
	if (s->len - start == sizeof(s->buf)) {
		emit(l, s, 'P', s->buf, sizeof(s->buf));
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
	ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);

	if (n <= 0)
		return false;
	s->len += (size_t)n;
	stream_lines(l, s, false);
	return true;
}

static void *logger_main(void *arg)
{
	struct container_logger *l = arg;
	bool exited = false;

	while (!exited) {
		struct pollfd p[4] = {
			{ .fd = l->s[0].fd, .events = POLLIN },
			{ .fd = l->s[1].fd, .events = POLLIN },
			{ .fd = l->pidfd, .events = POLLIN },
			{ .fd = l->stopfd, .events = POLLIN },
		};

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[3].revents && !__atomic_load_n(&l->finishing, __ATOMIC_ACQUIRE))
			return NULL; /* stop now: what is queued stays for the next reader */
		for (int i = 0; i < 2; i++)
			if (p[i].revents)
				stream_read(l, &l->s[i]);
		exited = p[2].revents != 0;
	}
	/* The process is gone: what it wrote is all in the FIFOs now. */
	for (int i = 0; i < 2; i++) {
		while (stream_read(l, &l->s[i]))
			;
		stream_lines(l, &l->s[i], true);
	}
	return NULL;
}

static void logger_close(struct container_logger *l)
{
	for (int i = 0; i < 2; i++)
		if (l->s[i].fd >= 0)
			close(l->s[i].fd);
	if (l->pidfd >= 0)
		close(l->pidfd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	if (l->logfd >= 0)
		close(l->logfd);
	free(l->log_path);
	free(l);
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
	l->pidfd = l->stopfd = l->logfd = -1;
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
	l->stopfd = eventfd(0, EFD_CLOEXEC);
	if (l->s[0].fd < 0 || l->s[1].fd < 0 || l->pidfd < 0 || l->stopfd < 0) {
		r = -errno;
		goto fail;
	}
	r = log_open(l);
	if (r < 0)
		goto fail;
	r = -pthread_create(&l->thread, NULL, logger_main, l);
	if (r < 0)
		goto fail;
	return l;
fail:
	logger_close(l);
	errno = -r;
	return NULL;
}

static void logger_join(struct container_logger *l, bool finish)
{
	uint64_t one = 1;

	if (!l)
		return;
	__atomic_store_n(&l->finishing, finish, __ATOMIC_RELEASE);
	if (!finish && write(l->stopfd, &one, sizeof(one)) < 0)
		pthread_cancel(l->thread);
	pthread_join(l->thread, NULL);
	logger_close(l);
}

void container_logger_finish(struct container_logger *l)
{
	logger_join(l, true);
}

void container_logger_free(struct container_logger *l)
{
	logger_join(l, false);
}
