/* Container logs: stdout/stderr come through two FIFOs in the run dir (so a container outlives
 * an agent restart without SIGPIPE) and one reader thread for all containers writes them in the
 * CRI format ("2026-11-28T10:00:00.123456789Z stdout F line") to a log file rotated by size. */
#ifndef SKIFF_AGENT_PODS_LOGS_H
#define SKIFF_AGENT_PODS_LOGS_H

#include <stddef.h>

#include "pods/sandbox.h"

/* mkfifo path (0600) unless a FIFO is already there. */
int log_fifo_make(const char *path);

struct container_logger;

/* Starts reading out_fifo and err_fifo into log_path (appended; parent dir made) until the
 * process proc has exited and the FIFOs are drained. max_bytes: rotate past it (to
 * log_path.1, replacing an older one). NULL with errno set on failure. */
struct container_logger *container_logger_start(const char *out_fifo, const char *err_fifo, const char *log_path,
						size_t max_bytes, const struct proc_id *proc);
/* Waits until the process has exited and all its output is written; then frees. */
void container_logger_finish(struct container_logger *l);
/* Stops now (output still queued in the FIFOs stays there for the next reader); frees. */
void container_logger_free(struct container_logger *l);

/* One CRI log line for stream ("stdout"/"stderr"), tag 'F' (full) or 'P' (partial), into buf;
 * returns its length (line truncated to fit). For tests and the reader. */
size_t log_format_cri(char *buf, size_t size, const struct timespec *ts, const char *stream, char tag,
		      const char *line, size_t len);

#endif
