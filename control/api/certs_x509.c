/* X.509 issuance for skiff's credentials (GnuTLS): ECDSA P-256 keys, the self-signed CA,
 * leaf certificates signed by it, and the checks that decide whether a leaf is reusable. */
#include "api/certs_x509.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <skiff/cleanup.h>

#define CLOCK_SKEW_S 300 /* backdate activation so a peer with a slightly late clock accepts it */

void x509_crt_freep(gnutls_x509_crt_t *c)
{
	if (*c)
		gnutls_x509_crt_deinit(*c);
}

void x509_key_freep(gnutls_x509_privkey_t *k)
{
	if (*k)
		gnutls_x509_privkey_deinit(*k);
}

static void datum_freep(gnutls_datum_t *d)
{
	gnutls_free(d->data);
}

int x509_errno(int gnutls_err)
{
	switch (gnutls_err) {
	case GNUTLS_E_MEMORY_ERROR:
		return -ENOMEM;
	case GNUTLS_E_BASE64_DECODING_ERROR:
	case GNUTLS_E_ASN1_DER_ERROR:
	case GNUTLS_E_ASN1_TAG_ERROR:
	case GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

int x509_key_new(gnutls_x509_privkey_t *ret)
{
	gnutls_x509_privkey_t key = NULL;
	int g;

	g = gnutls_x509_privkey_init(&key);
	if (g < 0)
		return x509_errno(g);
	g = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (g < 0) {
		gnutls_x509_privkey_deinit(key);
		return x509_errno(g);
	}
	*ret = key;
	return 0;
}

int x509_key_import(const char *pem, gnutls_x509_privkey_t *ret)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
	int g;

	g = gnutls_x509_privkey_init(&key);
	if (g < 0)
		return x509_errno(g);
	g = gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		gnutls_x509_privkey_deinit(key);
		return x509_errno(g);
	}
	*ret = key;
	return 0;
}

int x509_crt_import(const char *pem, gnutls_x509_crt_t *ret)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
	int g;

	g = gnutls_x509_crt_init(&crt);
	if (g < 0)
		return x509_errno(g);
	g = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		gnutls_x509_crt_deinit(crt);
		return x509_errno(g);
	}
	*ret = crt;
	return 0;
}

/* Copies a GnuTLS-allocated PEM into a malloc'd, NUL-terminated string. */
static int datum_to_string(const gnutls_datum_t *d, char **ret)
{
	char *s = strndup((const char *)d->data, d->size);

	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int x509_key_export(gnutls_x509_privkey_t key, char **ret_pem)
{
	_cleanup_(datum_freep) gnutls_datum_t d = { NULL, 0 };
	int g = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d);

	return g < 0 ? x509_errno(g) : datum_to_string(&d, ret_pem);
}

int x509_crt_export(gnutls_x509_crt_t crt, char **ret_pem)
{
	_cleanup_(datum_freep) gnutls_datum_t d = { NULL, 0 };
	int g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);

	return g < 0 ? x509_errno(g) : datum_to_string(&d, ret_pem);
}

/* Fields every certificate shares: version, random positive serial, validity, subject, key. */
static int crt_init_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, const char *org,
			   unsigned days)
{
	unsigned char serial[16];
	unsigned char id[64];
	size_t id_size = sizeof(id);
	time_t now = time(NULL);
	int g;

	g = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	if (g < 0)
		return g;
	serial[0] &= 0x7f; /* DER integers are signed: keep the serial positive */
	if ((g = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (g = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (g = gnutls_x509_crt_set_activation_time(crt, now - CLOCK_SKEW_S)) < 0 ||
	    (g = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 24 * 3600)) < 0 ||
	    (g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn))) < 0 ||
	    (g = gnutls_x509_crt_set_key(crt, key)) < 0)
		return g;
	if (org && (g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, org, strlen(org))) < 0)
		return g;
	g = gnutls_x509_crt_get_key_id(crt, 0, id, &id_size);
	if (g < 0)
		return g;
	return gnutls_x509_crt_set_subject_key_id(crt, id, id_size);
}

int x509_ca_new(gnutls_x509_privkey_t key, const char *cn, unsigned days, gnutls_x509_crt_t *ret)
{
	_cleanup_crt_ gnutls_x509_crt_t crt = NULL;
	int g;

	if ((g = gnutls_x509_crt_init(&crt)) < 0 || (g = crt_init_common(crt, key, cn, NULL, days)) < 0 ||
	    (g = gnutls_x509_crt_set_basic_constraints(crt, 1, -1)) < 0 ||
	    (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
							    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
		return x509_errno(g);
	*ret = TAKE_PTR(crt);
	return 0;
}

/* IP literal → 4 or 16 bytes; 0 when host is a DNS name. */
static size_t host_ip(const char *host, unsigned char ip[16])
{
	if (inet_pton(AF_INET, host, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, host, ip) == 1)
		return 16;
	return 0;
}

static int crt_add_san(gnutls_x509_crt_t crt, const char *host)
{
	unsigned char ip[16];
	size_t n = host_ip(host, ip);

	if (n)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, n, GNUTLS_FSAN_APPEND);
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host, strlen(host), GNUTLS_FSAN_APPEND);
}

int x509_leaf_new(const struct x509_leaf *l, gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key,
		  gnutls_x509_crt_t *ret)
{
	_cleanup_crt_ gnutls_x509_crt_t crt = NULL;
	unsigned char id[64];
	size_t id_size = sizeof(id);
	int g;

	if ((g = gnutls_x509_crt_init(&crt)) < 0 || (g = crt_init_common(crt, l->key, l->cn, l->org, l->days)) < 0 ||
	    (g = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT)) < 0 ||
	    (g = gnutls_x509_crt_set_key_purpose_oid(crt, l->server ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT,
						     0)) < 0 ||
	    (g = gnutls_x509_crt_get_subject_key_id(ca, id, &id_size, NULL)) < 0 ||
	    (g = gnutls_x509_crt_set_authority_key_id(crt, id, id_size)) < 0)
		return x509_errno(g);
	for (size_t i = 0; i < l->n_hosts; i++) {
		/* The caller may name an address twice (listen address and 127.0.0.1): one SAN each. */
		if (x509_crt_has_host(crt, l->hosts[i]))
			continue;
		g = crt_add_san(crt, l->hosts[i]);
		if (g < 0)
			return x509_errno(g);
	}
	g = gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0);
	if (g < 0)
		return x509_errno(g);
	*ret = TAKE_PTR(crt);
	return 0;
}

/* Exact SAN membership (no wildcards, no CN fallback): the question is whether this
 * certificate was issued for host, not whether some TLS client would accept it. */
bool x509_crt_has_host(gnutls_x509_crt_t crt, const char *host)
{
	unsigned char ip[16];
	size_t ip_len = host_ip(host, ip);

	for (unsigned seq = 0;; seq++) {
		char san[512];
		size_t size = sizeof(san);
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, san, &size, NULL);

		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (type < 0)
			return false;
		if (ip_len && type == GNUTLS_SAN_IPADDRESS && size == ip_len && memcmp(san, ip, ip_len) == 0)
			return true;
		if (!ip_len && type == GNUTLS_SAN_DNSNAME && size == strlen(host) && strncasecmp(san, host, size) == 0)
			return true;
	}
}

bool x509_crt_matches_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t a_size = sizeof(a), b_size = sizeof(b);

	if (gnutls_x509_crt_get_key_id(crt, 0, a, &a_size) < 0 || gnutls_x509_privkey_get_key_id(key, 0, b, &b_size) < 0)
		return false;
	return a_size == b_size && memcmp(a, b, a_size) == 0;
}

bool x509_crt_signed_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
	unsigned status = 0;

	return gnutls_x509_crt_verify(crt, &ca, 1, 0, &status) == 0 && status == 0;
}
