/* The agent's settings table: defaults, YAML file keys and flags come from the same rows. */
#include "node/config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/yaml.h>

#include "api/kubeconfig.h"

enum kind { STR, NUM };

struct setting {
	const char *name;
	enum kind kind;
	size_t off;
	const char *def; /* the default, as text; NULL for none */
	const char *help;
};

#define S(n, f, d, h) { n, STR, offsetof(struct agent_config, f), d, h }
#define N(n, f, d, h) { n, NUM, offsetof(struct agent_config, f), d, h }
static const struct setting settings[] = {
	S("config", config, NULL, "YAML file with any of these keys (flags override it)"),
	S("kubeconfig", kubeconfig, NULL, "kubeconfig with the API server, its CA and a token"),
	S("server", server, NULL, "API server URL, or a comma list of one cluster's servers to fail over between "
				  "(overrides the kubeconfig's)"),
	S("token", token, NULL, "bearer token (overrides the kubeconfig's)"),
	S("ca-file", ca_file, NULL, "PEM CA bundle for the server (overrides the kubeconfig's)"),
	S("join", join, NULL, "API server URL (or comma list, tried in order) to join with --token and "
			      "--ca-cert-hash (skiffctl token create)"),
	S("ca-cert-hash", ca_cert_hash, NULL, "sha256:HEX of the cluster CA that --join trusts"),
	S("node-name", node_name, NULL, "this node's name (the hostname)"),
	S("root-dir", root_dir, "/var/lib/skiff/agent", "persistent state"),
	S("run-dir", run_dir, "/run/skiff", "runtime state (per node below it)"),
	S("cgroup-parent", cgroup_parent, "skiff", "pods' cgroup, relative to the cgroup2 mount"),
	S("node-ip", node_ip, NULL, "InternalIP (default: the default route's interface address)"),
	S("gpu-devices", gpu_devices, "auto", "auto (/dev/nvidia[0-9]*) or PATH,... ('' for none)"),
	S("pause-binary", pause_binary, NULL, "pod namespace holder (default: skiff-pause beside skiff-agent)"),
	S("log-level", log_level, "info", "error, warn, info or debug"),
	S("register-with-taints", register_with_taints, NULL, "key[=value]:Effect,... given to the Node when this agent creates it"),
	S("network", network, "bridge", "pod networking in this agent's network namespace: bridge or none (loopback only)"),
	S("service-cidr", service_cidr, "10.96.0.0/12", "Services' virtual IPs (an unreachable route; '' for none)"),
	S("bridge-name", bridge_name, "skiff0", "the pods' bridge (--network bridge)"),
	S("proxy-mode", proxy_mode, "auto", "Service routing (--network bridge): auto (bpf when the kernel can), bpf or nftables"),
	S("bpf-pin-dir", bpf_pin_dir, NULL, "pins of the BPF Service maps and links (default /sys/fs/bpf/skiff/<node-name>)"),
	S("pod-fastpath", pod_fastpath, "auto", "pod traffic past the bridge by tc BPF (--network bridge): auto (when the kernel can and Services are routed by bpf) or off"),
	N("max-pods", max_pods, "110", "pods this node accepts (the pods capacity)"),
	N("pod-max-pids", pod_max_pids, "1024", "pids.max of every pod's cgroup (0: unlimited)"),
	N("heartbeat-seconds", heartbeat_seconds, "5", "Lease renew period"),
	S("address", address, "0.0.0.0", "the agent endpoint's address (kubectl logs and exec through the API server)"),
	N("port", port, "10250", "the agent endpoint's port (0: no endpoint)"),
};
#undef S
#undef N

static int fail(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
	return -EINVAL;
}

static const struct setting *find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(settings); i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

static int set(struct agent_config *c, const struct setting *s, const char *val, char **ret_err)
{
	void *field = (char *)c + s->off;

	if (s->kind == NUM) {
		char *end;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || end == val || *end || v < 0)
			return fail(ret_err, "%s: \"%s\" is not a non-negative integer", s->name, val);
		*(long *)field = v;
		return 0;
	}
	char *d = strdup(val);

	if (!d)
		return -ENOMEM;
	free(*(char **)field);
	*(char **)field = d;
	return 0;
}

int agent_config_init(struct agent_config *c)
{
	char host[HOST_NAME_MAX + 1] = "";
	char *unused = NULL;

	*c = (struct agent_config){ 0 };
	for (size_t i = 0; i < ELEMENTSOF(settings); i++)
		if (settings[i].def && set(c, &settings[i], settings[i].def, &unused) < 0) {
			free(unused);
			agent_config_done(c);
			return -ENOMEM;
		}
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		strcpy(host, "localhost");
	/* Node names are DNS labels: lower case, as the kubelet does. */
	for (char *p = host; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	c->node_name = strdup(host);
	return c->node_name ? 0 : -ENOMEM;
}

void agent_config_done(struct agent_config *c)
{
	for (size_t i = 0; i < ELEMENTSOF(settings); i++)
		if (settings[i].kind == STR)
			free(*(char **)((char *)c + settings[i].off));
	*c = (struct agent_config){ 0 };
}

int agent_config_apply_yaml(struct agent_config *c, const char *buf, size_t len, char **ret_err)
{
	_cleanup_json_ json_object *root = NULL;
	int r;

	r = yaml_to_json(buf, len, &root, ret_err);
	if (r < 0)
		return r;
	if (!root)
		return 0; /* an empty file changes nothing */
	if (!json_object_is_type(root, json_type_object))
		return fail(ret_err, "the config file is not a mapping of setting: value");
	json_object_object_foreach(root, key, val)
	{
		const struct setting *s = find(key);

		if (!s || strcmp(key, "config") == 0)
			return fail(ret_err, "unknown setting \"%s\"", key);
		if (json_object_is_type(val, json_type_object) || json_object_is_type(val, json_type_array))
			return fail(ret_err, "%s: expected a scalar", key);
		/* gpu-devices may be a YAML null or empty: no GPUs. */
		r = set(c, s, val ? json_object_get_string(val) : "", ret_err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_file(struct agent_config *c, const char *path, char **ret_err)
{
	_cleanup_free_ char *buf = NULL, *err = NULL;
	size_t len;
	int r;

	r = kubeconfig_read_file(path, &buf, &len);
	if (r < 0)
		return fail(ret_err, "config %s: %s", path, strerror(-r));
	r = agent_config_apply_yaml(c, buf, len, &err);
	if (r < 0)
		return fail(ret_err, "config %s: %s", path, err ? err : "invalid");
	return 0;
}

void agent_config_help(FILE *out, const char *argv0)
{
	struct agent_config d;

	fprintf(out, "Usage: %s [FLAGS]\n\nRegisters this node with skiff-control, heartbeats, and runs its pods.\n\n",
		argv0);
	if (agent_config_init(&d) < 0)
		return;
	for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
		const struct setting *s = &settings[i];
		void *field = (char *)&d + s->off;
		char def[64];
		const char *shown = def;

		if (s->kind == NUM)
			snprintf(def, sizeof(def), "%ld", *(long *)field);
		else
			shown = *(char **)field;
		fprintf(out, "  --%-20s %s", s->name, s->help);
		if (shown)
			fprintf(out, " (default \"%s\")", shown);
		fputc('\n', out);
	}
	fprintf(out, "  --%-20s %s\n", "help", "this text");
	agent_config_done(&d);
}

static int build_longopts(struct option *opts)
{
	size_t i;

	for (i = 0; i < ELEMENTSOF(settings); i++)
		opts[i] = (struct option){ settings[i].name, required_argument, NULL, (int)i + 1 };
	opts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[i] = (struct option){ 0 };
	return 0;
}

int agent_config_load(struct agent_config *c, int argc, char **argv, FILE *out, char **ret_err)
{
	struct option opts[ELEMENTSOF(settings) + 2];
	int o, r;

	build_longopts(opts);
	/* First pass: only --config and --help, so the file lands under every other flag. */
	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			agent_config_help(out, argv[0]);
			return 1;
		}
		if (o == '?')
			return fail(ret_err, "unknown flag or missing value: %s", argv[optind - 1]);
		if (settings[o - 1].off == offsetof(struct agent_config, config) &&
		    (r = set(c, &settings[o - 1], optarg, ret_err)) < 0)
			return r;
	}
	if (optind < argc)
		return fail(ret_err, "unexpected argument \"%s\"", argv[optind]);
	if (c->config && (r = apply_file(c, c->config, ret_err)) < 0)
		return r;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if (o > 0 && o != 'h' && (r = set(c, &settings[o - 1], optarg, ret_err)) < 0)
			return r;
	optind = 1;
	if (!c->kubeconfig && !c->server && !c->join)
		return fail(ret_err, "no API server: give --kubeconfig FILE, --server URL (with --token, --ca-file) or "
				     "--join URL (with --token, --ca-cert-hash)");
	if (c->join && (!c->token || !c->ca_cert_hash))
		return fail(ret_err, "--join needs --token (skiffctl token create) and --ca-cert-hash sha256:HEX");
	if (strcmp(c->network, "bridge") != 0 && strcmp(c->network, "none") != 0)
		return fail(ret_err, "network: \"%s\" is neither bridge nor none", c->network);
	if (strcmp(c->proxy_mode, "auto") != 0 && strcmp(c->proxy_mode, "bpf") != 0 &&
	    strcmp(c->proxy_mode, "nftables") != 0)
		return fail(ret_err, "proxy-mode: \"%s\" is none of auto, bpf, nftables", c->proxy_mode);
	if (strcmp(c->pod_fastpath, "auto") != 0 && strcmp(c->pod_fastpath, "off") != 0)
		return fail(ret_err, "pod-fastpath: \"%s\" is neither auto nor off", c->pod_fastpath);
	return 0;
}
