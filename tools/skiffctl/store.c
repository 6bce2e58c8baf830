/* skiffctl store migrate --from sqlite:PATH --to etcd:URL[,URL...]: moves a stopped
 * cluster's objects out of the embedded store into etcd (the data dir's CA, tokens and
 * kubeconfig stay files: the new skiff-control keeps using the same --data-dir). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>

#include "commands.h"
#include "store_migrate.h"

#define USAGE "usage: skiffctl store migrate --from sqlite:PATH --to etcd:URL[,URL...] [--etcd-prefix /skiff] [--batch]\n"

/* Each endpoint http(s)://HOST:PORT; store_open_etcd then finds out whether etcd answers. */
static bool endpoints_valid(const char *list)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;
	size_t n = 0;

	if (!copy)
		return false;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
		const char *host = strncmp(t, "http://", 7) == 0 ? t + 7 : strncmp(t, "https://", 8) == 0 ? t + 8 : NULL;
		if (!host || !*host || *host == '/' || strchr(host, ' '))
			return false;
	}
	return n > 0;
}

static int parse(int argc, char **argv, struct migrate_options *o)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },  { "to", required_argument, NULL, 't' },
		{ "etcd-prefix", required_argument, NULL, 'p' }, { "batch", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL;
	int c;

	o->etcd_prefix = "/skiff";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'p': o->etcd_prefix = optarg; break;
		case 'b': o->batch = true; break;
		case 'h': fputs(USAGE, stdout); return 1;
		default: fputs(USAGE, stderr); return -EINVAL;
		}
	}
	if (optind != argc || !from || !to || strncmp(from, "sqlite:", 7) != 0 || !from[7] ||
	    strncmp(to, "etcd:", 5) != 0) {
		fputs(USAGE, stderr);
		return -EINVAL;
	}
	o->sqlite_path = from + 7;
	o->etcd_endpoints = to + 5;
	if (!endpoints_valid(o->etcd_endpoints) || o->etcd_prefix[0] != '/') {
		fprintf(stderr, "skiffctl store migrate: bad --to %s or --etcd-prefix %s (want etcd:http://HOST:PORT[,...], /PREFIX)\n",
			to, o->etcd_prefix);
		return -EINVAL;
	}
	return 0;
}

static int migrate(int argc, char **argv)
{
	struct migrate_options o = { 0 };
	struct migrate_stats st;
	pid_t holder;
	int r = parse(argc, argv, &o);

	if (r != 0)
		return r > 0 ? 0 : 2;
	holder = store_file_holder(o.sqlite_path);
	if (holder > 0) {
		fprintf(stderr, "skiffctl store migrate: sqlite:%s is in use by pid %d (stop skiff-control first)\n",
			o.sqlite_path, (int)holder);
		return 1;
	}
	if (store_migrate(&o, &st) < 0)
		return 1;
	printf("migrated %zu keys (%zu bytes of values) from sqlite:%s at revision %lld into etcd:%s prefix %s: %zu txns, etcd revisions %lld..%lld\n",
	       st.keys, st.bytes, o.sqlite_path, (long long)st.source_rev, o.etcd_endpoints, o.etcd_prefix, st.txns,
	       (long long)st.first_rev, (long long)st.last_rev);
	return 0;
}

int skiffctl_store(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "migrate") != 0) {
		fputs(USAGE, stderr);
		return 2;
	}
	return migrate(argc - 1, argv + 1);
}
