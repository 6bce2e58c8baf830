/* Private to the certs module: GnuTLS key and certificate issuance and checks
 * (certs_x509.c). Functions return 0 or a negative errno; ret_* is set on success only. */
#ifndef SKIFF_API_CERTS_X509_H
#define SKIFF_API_CERTS_X509_H

#include <gnutls/x509.h>
#include <stdbool.h>
#include <stddef.h>

void x509_crt_freep(gnutls_x509_crt_t *c);
void x509_key_freep(gnutls_x509_privkey_t *k);
#define _cleanup_crt_ __attribute__((cleanup(x509_crt_freep)))
#define _cleanup_key_ __attribute__((cleanup(x509_key_freep)))

/* A GnuTLS error code as a negative errno (-ENOMEM, -EBADMSG for bad PEM/DER, else -EIO). */
int x509_errno(int gnutls_err);

/* A fresh ECDSA P-256 key. */
int x509_key_new(gnutls_x509_privkey_t *ret);
int x509_key_import(const char *pem, gnutls_x509_privkey_t *ret);
int x509_key_export(gnutls_x509_privkey_t key, char **ret_pem);
int x509_crt_import(const char *pem, gnutls_x509_crt_t *ret);
int x509_crt_export(gnutls_x509_crt_t crt, char **ret_pem);

/* A self-signed CA certificate for key, valid for days. */
int x509_ca_new(gnutls_x509_privkey_t key, const char *cn, unsigned days, gnutls_x509_crt_t *ret);

struct x509_leaf {
	gnutls_x509_privkey_t key;
	const char *cn;
	const char *org; /* or NULL */
	bool server;     /* serverAuth EKU, else clientAuth */
	const char *const *hosts; /* SANs: IP literals as IP SANs, the rest as DNS SANs */
	size_t n_hosts;
	unsigned days;
};
/* A certificate for l->key signed by ca / ca_key. */
int x509_leaf_new(const struct x509_leaf *l, gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key,
		  gnutls_x509_crt_t *ret);

/* Whether host is one of crt's SANs (IP or DNS, exact). */
bool x509_crt_has_host(gnutls_x509_crt_t crt, const char *host);
bool x509_crt_matches_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key);
bool x509_crt_signed_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca);

#endif
