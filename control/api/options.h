/* skiff-control's configuration: one struct, its defaults set in one place, the flags
 * that override them, and --help that prints them. */
#ifndef SKIFF_API_OPTIONS_H
#define SKIFF_API_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <skiff/log.h>

#include "controllers/controllers.h"

#define CONTROL_MAX_TLS_SANS 16

struct control_options {
	const char *listen;            /* "127.0.0.1:6443" */
	const char *data_dir;          /* "/var/lib/skiff/control" */
	const char *service_cidr;      /* "10.96.0.0/12" */
	int node_port_min, node_port_max; /* 30000-32767 */
	const char *tls_sans[CONTROL_MAX_TLS_SANS]; /* --advertise-address and --tls-san */
	size_t n_tls_sans;
	const char *advertise_address;
	enum log_level log_level;
	bool group_commit;             /* --no-group-commit turns it off (benchmarks) */
	bool run_scheduler;            /* --disable-scheduler turns it off (API benchmarks) */
	bool run_controllers;          /* --disable-controllers turns them off (API benchmarks) */
	int compact_interval_s;        /* store compaction: every this many seconds (0 = never) */
	long long compact_keep_revisions; /* ... keeping at least this many revisions */
	int compact_keep_s;            /* ... and at least this many seconds of history */
	unsigned connection_limit;     /* open connections at once */
	unsigned idle_timeout_s;       /* idle keep-alive connections are closed after this */
	size_t max_body_bytes;         /* larger request bodies get 413 */
	size_t thread_stack_bytes;     /* per connection thread */
	unsigned max_requests_inflight; /* per identity; more get 429 + Retry-After */
	unsigned max_watches_inflight;  /* per identity, watch streams counted apart */
	bool store_etcd;               /* --store etcd: the store is etcd (default sqlite in data_dir) */
	const char *etcd_endpoints;    /* --etcd-endpoints http://HOST:PORT[,...] */
	const char *etcd_prefix;       /* --etcd-prefix, default "/skiff" */
	bool leader_elect;             /* --leader-elect[=false]: with etcd, only the elected leader runs
					* the scheduler and controllers (default true; SQLite: always leads) */
	int leader_lease_duration_s;   /* --leader-elect-lease-duration, default 10 */
	const char *leader_identity;   /* --leader-elect-identity, default "<hostname>_<random>" */
	struct controllers_options controllers; /* --node-monitor-grace-period and the other controller flags */
};

void control_options_init(struct control_options *o);
/* Parses argv (strings stay borrowed from argv). 0; 1 when --help was asked (help
 * printed to out); -EINVAL with a message on err for a bad flag. */
int control_options_parse(struct control_options *o, int argc, char **argv, FILE *out, FILE *err);
void control_options_print_help(const char *prog, FILE *out);

/* "host:port" or "[v6]:port" → host (into buf) and port. 0 or -EINVAL. */
int control_parse_listen(const char *listen, char *host, size_t host_len, unsigned *ret_port);

#endif
