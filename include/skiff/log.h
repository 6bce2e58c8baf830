/* Logging shared by every skiff binary: one line per message on stderr, systemd-style
 * errno helpers so a caller can log once and return in the same statement. */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

#include <errno.h>

enum log_level {
	SKIFF_LOG_ERR,
	SKIFF_LOG_WARN,
	SKIFF_LOG_INFO,
	SKIFF_LOG_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *ret);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs with errno set to -err (so %m prints it) and returns err, which must be negative. */
int log_errno_msg(enum log_level level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(SKIFF_LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(SKIFF_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(SKIFF_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(SKIFF_LOG_DEBUG, __VA_ARGS__)
#define log_error_errno(r, ...) log_errno_msg(SKIFF_LOG_ERR, (r), __VA_ARGS__)
#define log_warn_errno(r, ...) log_errno_msg(SKIFF_LOG_WARN, (r), __VA_ARGS__)
#define log_debug_errno(r, ...) log_errno_msg(SKIFF_LOG_DEBUG, (r), __VA_ARGS__)

#endif
