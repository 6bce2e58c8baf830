/* skiff-control's flags and their defaults (see options.h). */
#include "api/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

void control_options_init(struct control_options *o)
{
	struct store_options so;

	/* The store owns its compaction defaults; the flags only override them. */
	store_options_init(&so);
	*o = (struct control_options){
		.listen = "127.0.0.1:6443",
		.data_dir = "/var/lib/skiff/control",
		.etcd_prefix = "/skiff",
		.service_cidr = "10.96.0.0/12",
		.node_port_min = 30000,
		.node_port_max = 32767,
		.log_level = SKIFF_LOG_INFO,
		.group_commit = true,
		.run_scheduler = true,
		.run_controllers = true,
		.compact_interval_s = so.compact_interval_seconds,
		.compact_keep_revisions = so.compact_keep_revisions,
		.compact_keep_s = so.compact_keep_seconds,
		.connection_limit = 4096,
		.idle_timeout_s = 120,
		.max_body_bytes = 3 * 1024 * 1024,
		.thread_stack_bytes = 512 * 1024,
		.max_requests_inflight = 400,
		.max_watches_inflight = 2048,
		.leader_elect = true,
		.leader_lease_duration_s = 10,
	};
	/* The controllers own their defaults; their flags are parsed here. */
	controllers_options_init(&o->controllers);
}

static const char *level_name(enum log_level l)
{
	switch (l) {
	case SKIFF_LOG_ERR:
		return "error";
	case SKIFF_LOG_WARN:
		return "warn";
	case SKIFF_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void control_options_print_help(const char *prog, FILE *out)
{
	struct control_options d;

	control_options_init(&d);
	fprintf(out,
		"Usage: %s [OPTIONS]\n"
		"The skiff API server: Kubernetes core/v1 over HTTPS on an embedded store.\n\n"
		"  --listen HOST:PORT              address to serve on (default %s)\n"
		"  --data-dir DIR                  store, certificates, token, admin.kubeconfig (default %s)\n"
		"  --service-cidr CIDR             ClusterIP range (default %s)\n"
		"  --service-node-port-range A-B   NodePort range (default %d-%d)\n"
		"  --advertise-address ADDR        address clients reach the server at (added to the certificate)\n"
		"  --tls-san NAME|IP               extra name in the serving certificate (repeatable, comma list)\n"
		"  --log-level LEVEL               error, warn, info, debug (default %s)\n"
		"  --no-group-commit               one fsync per write (benchmarks; default group commit on)\n"
		"  --store sqlite|etcd             where objects are kept (default sqlite, in --data-dir)\n"
		"  --etcd-endpoints URL[,URL...]   etcd v3 endpoints for --store etcd (http://HOST:PORT)\n"
		"  --etcd-prefix PREFIX            key prefix in etcd (default /skiff)\n"
		"  --compact-interval-seconds N    compact the store's history every N s, 0 = never (default %d)\n"
		"  --compact-keep-revisions N      compaction keeps at least N revisions (default %lld)\n"
		"  --compact-keep-seconds N        compaction keeps at least N s of history (default %d)\n"
		"  --disable-scheduler             run without the in-process scheduler (API benchmarks)\n"
		"  --disable-controllers           run without the in-process controllers (API benchmarks)\n"
		"  --max-requests-inflight N       requests one identity may have in flight; more get 429 (default %u)\n"
		"  --max-watches-inflight N        watch streams one identity may hold open; more get 429 (default %u)\n"
		"  --leader-elect[=BOOL]           with --store etcd, run scheduler and controllers only on the\n"
		"                                  elected leader (default true; false: on every instance)\n"
		"  --leader-elect-lease-duration D leader lease TTL, Go duration or seconds (default %ds)\n"
		"  --leader-elect-identity ID      this instance's candidate name (default <hostname>_<random>)\n",
		prog, d.listen, d.data_dir, d.service_cidr, d.node_port_min, d.node_port_max, level_name(d.log_level),
		d.compact_interval_s, d.compact_keep_revisions, d.compact_keep_s, d.max_requests_inflight,
		d.max_watches_inflight, d.leader_lease_duration_s);
	controllers_options_print_help(out);
	fprintf(out, "  --help                          this text\n");
}

static int parse_port_range(const char *s, int *ret_min, int *ret_max)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(s, &end, 10);
	if (errno || end == s || *end != '-')
		return -EINVAL;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (errno || end == s || *end || a < 1 || b > 65535 || a > b)
		return -EINVAL;
	*ret_min = (int)a;
	*ret_max = (int)b;
	return 0;
}

/* --tls-san takes a comma list; the strings are split in place in argv. */
static int add_sans(struct control_options *o, char *list)
{
	char *save = NULL;

	for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (o->n_tls_sans == CONTROL_MAX_TLS_SANS)
			return -E2BIG;
		o->tls_sans[o->n_tls_sans++] = s;
	}
	return 0;
}

int control_parse_listen(const char *listen, char *host, size_t host_len, unsigned *ret_port)
{
	const char *colon, *h = listen;
	size_t hl;
	char *end;
	long port;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = listen + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - listen);
	}
	if (hl == 0 || hl >= host_len)
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*ret_port = (unsigned)port;
	return 0;
}

enum {
	OPT_LISTEN = 256,
	OPT_DATA_DIR,
	OPT_CIDR,
	OPT_NODE_PORTS,
	OPT_ADVERTISE,
	OPT_SAN,
	OPT_LOG,
	OPT_NO_GC,
	OPT_NO_SCHED,
	OPT_NO_CTRL,
	OPT_COMPACT_INTERVAL,
	OPT_COMPACT_REVS,
	OPT_COMPACT_SECS,
	OPT_CTRL,
	OPT_MAX_REQS,
	OPT_MAX_WATCHES,
	OPT_STORE,
	OPT_ETCD_ENDPOINTS,
	OPT_ETCD_PREFIX,
	OPT_LEADER_ELECT,
	OPT_LEADER_LEASE,
	OPT_LEADER_ID,
};

static const struct option long_opts[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "service-cidr", required_argument, NULL, OPT_CIDR },
	{ "service-node-port-range", required_argument, NULL, OPT_NODE_PORTS },
	{ "advertise-address", required_argument, NULL, OPT_ADVERTISE },
	{ "tls-san", required_argument, NULL, OPT_SAN },
	{ "log-level", required_argument, NULL, OPT_LOG },
	{ "no-group-commit", no_argument, NULL, OPT_NO_GC },
	{ "disable-scheduler", no_argument, NULL, OPT_NO_SCHED },
	{ "disable-controllers", no_argument, NULL, OPT_NO_CTRL },
	{ "compact-interval-seconds", required_argument, NULL, OPT_COMPACT_INTERVAL },
	{ "compact-keep-revisions", required_argument, NULL, OPT_COMPACT_REVS },
	{ "compact-keep-seconds", required_argument, NULL, OPT_COMPACT_SECS },
	{ "max-requests-inflight", required_argument, NULL, OPT_MAX_REQS },
	{ "max-watches-inflight", required_argument, NULL, OPT_MAX_WATCHES },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "etcd-endpoints", required_argument, NULL, OPT_ETCD_ENDPOINTS },
	{ "etcd-prefix", required_argument, NULL, OPT_ETCD_PREFIX },
	{ "leader-elect", optional_argument, NULL, OPT_LEADER_ELECT },
	{ "leader-elect-lease-duration", required_argument, NULL, OPT_LEADER_LEASE },
	{ "leader-elect-identity", required_argument, NULL, OPT_LEADER_ID },
	/* Handed to controllers_options_set() under their own name. */
	{ "node-monitor-grace-period", required_argument, NULL, OPT_CTRL },
	{ "pod-eviction-timeout", required_argument, NULL, OPT_CTRL },
	{ "cluster-cidr", required_argument, NULL, OPT_CTRL },
	{ "node-cidr-mask-size", required_argument, NULL, OPT_CTRL },
	{ "node-eviction-rate", required_argument, NULL, OPT_CTRL },
	{ "unhealthy-zone-threshold", required_argument, NULL, OPT_CTRL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A non-negative integer flag value up to max. */
static int parse_count(const char *flag, const char *s, long long max, long long *ret, FILE *err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max) {
		fprintf(err, "--%s %s: expected a whole number from 0 to %lld\n", flag, s, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int apply_compact_opt(struct control_options *o, int c, const char *arg, FILE *err)
{
	long long v;

	switch (c) {
	case OPT_COMPACT_INTERVAL:
		if (parse_count("compact-interval-seconds", arg, 86400, &v, err) < 0)
			return -EINVAL;
		o->compact_interval_s = (int)v;
		return 0;
	case OPT_COMPACT_REVS:
		if (parse_count("compact-keep-revisions", arg, INT64_MAX / 2, &v, err) < 0)
			return -EINVAL;
		o->compact_keep_revisions = v;
		return 0;
	default:
		if (parse_count("compact-keep-seconds", arg, 30 * 86400, &v, err) < 0)
			return -EINVAL;
		o->compact_keep_s = (int)v;
		return 0;
	}
}

static int apply_inflight_opt(struct control_options *o, int c, const char *arg, FILE *err)
{
	const char *flag = c == OPT_MAX_REQS ? "max-requests-inflight" : "max-watches-inflight";
	long long v;

	if (parse_count(flag, arg, 1000000, &v, err) < 0)
		return -EINVAL;
	if (v == 0) {
		fprintf(err, "--%s 0: at least 1 is needed\n", flag);
		return -EINVAL;
	}
	*(c == OPT_MAX_REQS ? &o->max_requests_inflight : &o->max_watches_inflight) = (unsigned)v;
	return 0;
}

static int apply_store_opt(struct control_options *o, int c, const char *arg, FILE *err)
{
	switch (c) {
	case OPT_STORE:
		if (strcmp(arg, "sqlite") != 0 && strcmp(arg, "etcd") != 0) {
			fprintf(err, "--store %s: expected sqlite or etcd\n", arg);
			return -EINVAL;
		}
		o->store_etcd = strcmp(arg, "etcd") == 0;
		return 0;
	case OPT_ETCD_ENDPOINTS:
		o->etcd_endpoints = arg;
		return 0;
	default:
		o->etcd_prefix = arg;
		return 0;
	}
}

static int apply_leader_opt(struct control_options *o, int c, const char *arg, FILE *err)
{
	struct controllers_options scratch;

	switch (c) {
	case OPT_LEADER_ELECT:
		if (arg && strcmp(arg, "true") != 0 && strcmp(arg, "false") != 0) {
			fprintf(err, "--leader-elect=%s: expected true or false\n", arg);
			return -EINVAL;
		}
		o->leader_elect = !arg || strcmp(arg, "true") == 0;
		return 0;
	case OPT_LEADER_LEASE:
		/* The controllers' duration flags parse Go durations and seconds alike: reuse them. */
		controllers_options_init(&scratch);
		if (controllers_options_set(&scratch, "pod-eviction-timeout", arg) < 0 ||
		    scratch.pod_eviction_timeout_s < 2) {
			fprintf(err, "--leader-elect-lease-duration %s: expected a duration of 2s or more\n", arg);
			return -EINVAL;
		}
		o->leader_lease_duration_s = scratch.pod_eviction_timeout_s;
		return 0;
	default:
		if (!*arg) {
			fprintf(err, "--leader-elect-identity: must not be empty\n");
			return -EINVAL;
		}
		o->leader_identity = arg;
		return 0;
	}
}

static int apply_opt(struct control_options *o, int c, char *arg, FILE *err)
{
	char host[256];
	unsigned port;

	switch (c) {
	case OPT_LISTEN:
		if (control_parse_listen(arg, host, sizeof(host), &port) < 0) {
			fprintf(err, "--listen %s: expected HOST:PORT (e.g. 127.0.0.1:6443)\n", arg);
			return -EINVAL;
		}
		o->listen = arg;
		return 0;
	case OPT_DATA_DIR:
		o->data_dir = arg;
		return 0;
	case OPT_CIDR:
		o->service_cidr = arg;
		return 0;
	case OPT_NODE_PORTS:
		if (parse_port_range(arg, &o->node_port_min, &o->node_port_max) < 0) {
			fprintf(err, "--service-node-port-range %s: expected MIN-MAX (e.g. 30000-32767)\n", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_ADVERTISE:
		o->advertise_address = arg;
		return add_sans(o, arg) < 0 ? -EINVAL : 0;
	case OPT_SAN:
		if (add_sans(o, arg) < 0) {
			fprintf(err, "--tls-san: at most %d names\n", CONTROL_MAX_TLS_SANS);
			return -EINVAL;
		}
		return 0;
	case OPT_LOG:
		if (log_level_parse(arg, &o->log_level) < 0) {
			fprintf(err, "--log-level %s: expected error, warn, info or debug\n", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_NO_GC:
		o->group_commit = false;
		return 0;
	case OPT_NO_SCHED:
		o->run_scheduler = false;
		return 0;
	case OPT_NO_CTRL:
		o->run_controllers = false;
		return 0;
	case OPT_COMPACT_INTERVAL:
	case OPT_COMPACT_REVS:
	case OPT_COMPACT_SECS:
		return apply_compact_opt(o, c, arg, err);
	case OPT_MAX_REQS:
	case OPT_MAX_WATCHES:
		return apply_inflight_opt(o, c, arg, err);
	case OPT_STORE:
	case OPT_ETCD_ENDPOINTS:
	case OPT_ETCD_PREFIX:
		return apply_store_opt(o, c, arg, err);
	case OPT_LEADER_ELECT:
	case OPT_LEADER_LEASE:
	case OPT_LEADER_ID:
		return apply_leader_opt(o, c, arg, err);
	default:
		return -EINVAL;
	}
}

static int apply_ctrl_opt(struct control_options *o, const char *flag, const char *arg, FILE *err)
{
	if (controllers_options_set(&o->controllers, flag, arg) < 0) {
		fprintf(err, "--%s %s: invalid value (see --help)\n", flag, arg);
		return -EINVAL;
	}
	return 0;
}

int control_options_parse(struct control_options *o, int argc, char **argv, FILE *out, FILE *err)
{
	int c, idx = -1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		if (c == 'h') {
			control_options_print_help(argv[0], out);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(err, "%s: unknown flag or missing value: %s (see --help)\n", argv[0],
				argv[optind - 1]);
			return -EINVAL;
		}
		if (c == OPT_CTRL) {
			if (apply_ctrl_opt(o, long_opts[idx].name, optarg, err) < 0)
				return -EINVAL;
		} else if (apply_opt(o, c, optarg, err) < 0) {
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(err, "%s: unexpected argument %s (see --help)\n", argv[0], argv[optind]);
		return -EINVAL;
	}
	if (o->store_etcd && (!o->etcd_endpoints || !o->etcd_endpoints[0])) {
		fprintf(err, "%s: --store etcd needs --etcd-endpoints\n", argv[0]);
		return -EINVAL;
	}
	return 0;
}
