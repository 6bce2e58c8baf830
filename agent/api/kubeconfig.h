/* Reads a kubeconfig (libyaml): the current context's server URL(s), CA and bearer token.
 *
 * Several API servers of one cluster (the agent fails over between them): the cluster's
 * `server` may be a comma list ("https://a:6443,https://b:6443", which kubectl cannot use), or
 * `server` names one and the cluster's extension skiff.io/servers lists the others, which
 * kubectl ignores:
 *     cluster:
 *       server: https://a:6443
 *       extensions:
 *       - name: skiff.io/servers
 *         extension: {servers: [https://b:6443, https://c:6443]} */
#ifndef SKIFF_AGENT_API_KUBECONFIG_H
#define SKIFF_AGENT_API_KUBECONFIG_H

#include <stddef.h>

#define KUBECONFIG_SERVERS_EXTENSION "skiff.io/servers"

struct kubeconfig {
	char *server; /* https://host:port, or a comma list of them (server, then the extension's) */
	char *ca_pem; /* PEM text; NULL when the cluster names none (system trust) */
	char *token;  /* bearer token; NULL when none */
};

/* Parses kubeconfig text. base_dir resolves relative certificate-authority and tokenFile
 * paths (NULL: the working directory). Returns 0, or -EINVAL with *ret_err (caller frees)
 * saying what is missing. *ret is filled only on success. */
int kubeconfig_parse(const char *buf, size_t len, const char *base_dir, struct kubeconfig *ret, char **ret_err);
/* Reads and parses a file; errors as kubeconfig_parse, or -errno reading it. */
int kubeconfig_load(const char *path, struct kubeconfig *ret, char **ret_err);
/* Reads a whole file into a NUL-terminated buffer (caller frees). */
int kubeconfig_read_file(const char *path, char **ret, size_t *ret_len);
void kubeconfig_done(struct kubeconfig *k);

#endif
