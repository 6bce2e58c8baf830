/* The agent endpoint's serving certificate: self-signed at first start, kept in the cert dir.
 * The API server does not check it (as kube-apiserver without --kubelet-certificate-authority);
 * what protects the endpoint is the client certificate the agent requires. */
#include "server/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "api/certs_x509.h"
#include "pods/mounts.h"

#define CERT_DAYS 3650

static int cert_make(const char *crt_path, const char *key_path, const char *node_name)
{
	_cleanup_key_ gnutls_x509_privkey_t key = NULL;
	_cleanup_crt_ gnutls_x509_crt_t crt = NULL;
	_cleanup_free_ char *key_pem = NULL, *crt_pem = NULL, *cn = NULL;
	int r;

	if (asprintf(&cn, "skiff-agent@%s", node_name ? node_name : "node") < 0)
		return -ENOMEM;
	r = x509_key_new(&key);
	if (r >= 0)
		r = x509_ca_new(key, cn, CERT_DAYS, &crt);
	if (r >= 0)
		r = x509_key_export(key, &key_pem);
	if (r >= 0)
		r = x509_crt_export(crt, &crt_pem);
	/* The key first: a certificate without its key would be kept forever. */
	if (r >= 0)
		r = fs_write_file(key_path, key_pem, 0600);
	if (r >= 0)
		r = fs_write_file(crt_path, crt_pem, 0644);
	return r;
}

int agent_server_cert_ensure(const char *cert_dir, const char *node_name, char **ret_cert_pem, char **ret_key_pem)
{
	_cleanup_free_ char *crt_path = NULL, *key_path = NULL, *crt = NULL, *key = NULL;
	int r;

	if (asprintf(&crt_path, "%s/serving.crt", cert_dir) < 0 || asprintf(&key_path, "%s/serving.key", cert_dir) < 0)
		return -ENOMEM;
	r = fs_mkdir_p(cert_dir, 0700);
	if (r < 0)
		return log_error_errno(r, "agent endpoint: cert dir %s: %m", cert_dir);
	if (access(crt_path, F_OK) < 0 || access(key_path, F_OK) < 0) {
		r = cert_make(crt_path, key_path, node_name);
		if (r < 0)
			return log_error_errno(r, "agent endpoint: making %s: %m", crt_path);
		log_info("agent endpoint: made a self-signed serving certificate %s", crt_path);
	}
	r = fs_read_file(crt_path, &crt);
	if (r >= 0)
		r = fs_read_file(key_path, &key);
	if (r < 0)
		return log_error_errno(r, "agent endpoint: reading %s: %m", crt_path);
	*ret_cert_pem = TAKE_PTR(crt);
	*ret_key_pem = TAKE_PTR(key);
	return 0;
}
