/* First-start credentials of skiff-control (GnuTLS): a CA, a serving certificate for the
 * server's addresses, an admin bearer token, and admin.kubeconfig. Files are created
 * once in the data dir (mode 0600 for keys and token) and reused afterwards. certs_ensure
 * logs what failed (naming the file); its caller need only log the summary. */
#ifndef SKIFF_API_CERTS_H
#define SKIFF_API_CERTS_H

#include <stddef.h>
#include <sys/types.h>

struct control_credentials {
	char *ca_pem;          /* ca.crt */
	char *server_cert_pem; /* server.crt, signed by the CA */
	char *server_key_pem;  /* server.key */
	char *admin_token;     /* admin.token (random, 32 bytes hex) */
};

/* Ensures the files exist in data_dir and loads them. hosts: the names and IP addresses the
 * serving certificate must be valid for (127.0.0.1, localhost and the listen address are
 * added by the caller). A serving certificate that lacks one of hosts is re-issued by the
 * same CA. server_url is written into admin.kubeconfig. */
int certs_ensure(const char *data_dir, const char *const *hosts, size_t n_hosts, const char *server_url,
		 struct control_credentials *ret);
void control_credentials_clear(struct control_credentials *c);

/* Writes dir/name through a temporary file created 0600 (then chmod mode), fsync and rename, so
 * a crash never leaves half a credential and no one can read it while it is written. */
int certs_file_write(const char *dir, const char *name, const char *data, mode_t mode);

/* Issues a client certificate (clientAuth, 1 year, fresh ECDSA key) signed by the CA in
 * data_dir, for Kubernetes' user name cn and group org (NULL: none), e.g. a node identity
 * "system:node:n1" / "system:nodes". Returns both PEMs (caller frees). */
int certs_issue_client(const char *data_dir, const char *cn, const char *org, char **ret_cert_pem,
		       char **ret_key_pem);

/* A kubeconfig (YAML, libyaml) with one cluster "skiff" (server_url, the CA inline), one user
 * with a bearer token and one current context "skiff". Caller frees *ret_yaml. */
int kubeconfig_render(const char *server_url, const char *ca_pem, const char *user, const char *token,
		      char **ret_yaml);

#endif
