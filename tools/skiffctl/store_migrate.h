/* skiffctl store: copying a stopped cluster's embedded SQLite store into etcd, and the
 * check that no running process (skiff-control) holds the SQLite file open. */
#ifndef SKIFF_SKIFFCTL_STORE_MIGRATE_H
#define SKIFF_SKIFFCTL_STORE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct migrate_options {
	const char *sqlite_path;
	const char *etcd_endpoints;
	const char *etcd_prefix;
	/* Pack up to 128 keys (1 MiB) per etcd txn: far fewer round trips, but keys that had
	 * distinct revisions may then share one (order is kept, strictness is not). */
	bool batch;
};

struct migrate_stats {
	size_t keys, txns, bytes;
	int64_t source_rev;          /* the SQLite store's revision that was copied */
	int64_t first_rev, last_rev; /* etcd revisions the copy was written at */
};

/* Copies every key of the SQLite store under the etcd prefix, in mod revision order.
 * Refuses (-EEXIST) a prefix that already holds keys. Messages go to stderr. */
int store_migrate(const struct migrate_options *o, struct migrate_stats *ret);

/* The pid of another process holding path (or its -wal/-shm) open, 0 if none is seen.
 * Only processes whose /proc/PID/fd this user may read are seen. */
pid_t store_file_holder(const char *path);

#endif
