/* skiffctl token create: a bootstrap token for one `skiff-agent --join`, written into the
 * control plane's data dir (run it on the control machine), printed with the CA hash the
 * joining agent checks the server against. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#include "api/kubeconfig.h"
#include "api/tokens.h"
#include "store/store.h"
#include "commands.h"

#define DEFAULT_DATA_DIR "/var/lib/skiff/control"
#define DEFAULT_TTL_S (24 * 3600L)

/* "90", "90s", "15m", "24h" → seconds; -1 when malformed. */
static long parse_ttl(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	if (!*end || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "m") == 0 && v <= 525600)
		return v * 60;
	if (strcmp(end, "h") == 0 && v <= 8760)
		return v * 3600;
	return -1;
}

/* With --etcd-endpoints the token goes into the shared store, so that every skiff-control
 * instance on that etcd accepts it (a file token works only through this data dir's instance). */
static int mint(const char *data_dir, long ttl, const char *etcd, const char *prefix, char **ret_token)
{
	struct store_options so;
	struct store *s;
	int r;

	if (!etcd)
		return bootstrap_token_create(data_dir, ttl, ret_token);
	store_options_init(&so);
	so.compact_interval_seconds = 0;
	s = store_open_etcd(etcd, prefix, &so);
	if (!s)
		return -errno;
	r = bootstrap_token_create_in(s, ttl, ret_token);
	store_close(s);
	return r;
}

static int create(const char *data_dir, long ttl, const char *server, const char *etcd, const char *prefix)
{
	_cleanup_free_ char *path = NULL, *err = NULL, *token = NULL;
	struct kubeconfig k = { 0 };
	char hash[CA_HASH_LEN];
	int r;

	if (asprintf(&path, "%s/admin.kubeconfig", data_dir) < 0)
		return 1;
	r = kubeconfig_load(path, &k, &err);
	if (r < 0) {
		fprintf(stderr, "skiffctl token create: %s: %s (is --data-dir the control plane's?)\n", path,
			err ? err : strerror(-r));
		return 1;
	}
	r = ca_cert_hash(k.ca_pem ? k.ca_pem : "", hash);
	if (r >= 0)
		r = mint(data_dir, ttl, etcd, prefix, &token);
	if (r < 0) {
		fprintf(stderr, "skiffctl token create: %s: %s\n", data_dir, strerror(-r));
		kubeconfig_done(&k);
		return 1;
	}
	printf("token: %s\nca-cert-hash: %s\nexpires-in: %lds\njoin: skiff-agent --join %s --token %s --ca-cert-hash %s\n",
	       token, hash, ttl, server ? server : k.server, token, hash);
	kubeconfig_done(&k);
	return 0;
}

int skiffctl_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "ttl", required_argument, NULL, 't' },
		{ "server", required_argument, NULL, 's' },
		{ "etcd-endpoints", required_argument, NULL, 'e' },
		{ "etcd-prefix", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data_dir = DEFAULT_DATA_DIR, *server = NULL, *etcd = NULL, *prefix = "/skiff";
	long ttl = DEFAULT_TTL_S;
	int c;

	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "usage: skiffctl token create [--data-dir DIR] [--ttl 24h] [--server URL] "
				"[--etcd-endpoints URL[,URL...] [--etcd-prefix /skiff]]\n");
		return 2;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			data_dir = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 'e':
			etcd = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 't':
			ttl = parse_ttl(optarg);
			if (ttl < 0) {
				fprintf(stderr, "skiffctl token create: --ttl %s: expected N, Ns, Nm or Nh (N > 0)\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "skiffctl token create: unknown or incomplete option \"%s\"\n", argv[optind]);
			return 2;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "skiffctl token create: unexpected argument \"%s\"\n", argv[optind + 1]);
		return 2;
	}
	return create(data_dir, ttl, server, etcd, prefix);
}
