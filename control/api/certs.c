/* skiff-control's credentials in the data dir: create on first start, reuse afterwards,
 * re-issue only the serving certificate when it no longer fits. Every file is written to a
 * temporary name and renamed, so a crash never leaves half a key. */
#include "api/certs.h"
#include "api/certs_x509.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#define CA_DAYS 3650
#define LEAF_DAYS 365
#define RENEW_BEFORE_S (30 * 24 * 3600) /* re-issue a serving certificate this close to expiry */
#define MAX_FILE (1 << 20)
#define TOKEN_BYTES 32

static int mkdir_p(const char *dir, mode_t mode)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The whole file as a string; -ENOENT when it does not exist. */
static int file_read(const char *dir, const char *name, char **ret)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(MAX_FILE + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, MAX_FILE - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == MAX_FILE)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes dir/name atomically with mode: a temporary file, fsync, rename, fsync of the dir. */
int certs_file_write(const char *dir, const char *name, const char *data, mode_t mode)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	int r;

	if (asprintf(&path, "%s/%s", dir, name) < 0 || asprintf(&tmp, "%s/.%s.XXXXXX", dir, name) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC); /* created 0600: a key is never readable by others, even briefly */
	if (fd < 0)
		return -errno;
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, data, strlen(data));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd); /* best effort: the rename is already visible */
	return 0;
}

struct ca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key; /* NULL when ca.key is missing: the CA can then sign nothing */
	char *pem;
};

static void ca_clear(struct ca *ca)
{
	if (ca->crt)
		gnutls_x509_crt_deinit(ca->crt);
	if (ca->key)
		gnutls_x509_privkey_deinit(ca->key);
	free(ca->pem);
}

static int ca_create(const char *dir, struct ca *ret)
{
	_cleanup_key_ gnutls_x509_privkey_t key = NULL;
	_cleanup_crt_ gnutls_x509_crt_t crt = NULL;
	_cleanup_free_ char *key_pem = NULL, *pem = NULL;
	int r;

	if ((r = x509_key_new(&key)) < 0 || (r = x509_ca_new(key, "skiff-ca", CA_DAYS, &crt)) < 0 ||
	    (r = x509_key_export(key, &key_pem)) < 0 || (r = x509_crt_export(crt, &pem)) < 0)
		return log_error_errno(r, "creating the CA: %m");
	/* Key first: ca.crt present means the pair is complete. */
	if ((r = certs_file_write(dir, "ca.key", key_pem, 0600)) < 0 || (r = certs_file_write(dir, "ca.crt", pem, 0644)) < 0)
		return log_error_errno(r, "writing the CA to %s: %m", dir);
	log_info("created CA %s/ca.crt", dir);
	*ret = (struct ca){ .crt = TAKE_PTR(crt), .key = TAKE_PTR(key), .pem = TAKE_PTR(pem) };
	return 0;
}

/* Loads ca.crt/ca.key, or creates both when ca.crt is missing (never replaces an existing CA). */
static int ca_ensure(const char *dir, bool need_key, struct ca *ret)
{
	_cleanup_free_ char *pem = NULL, *key_pem = NULL;
	struct ca ca = { NULL, NULL, NULL };
	int r;

	r = file_read(dir, "ca.crt", &pem);
	if (r == -ENOENT)
		return ca_create(dir, ret);
	if (r < 0)
		return log_error_errno(r, "reading %s/ca.crt: %m", dir);
	r = x509_crt_import(pem, &ca.crt);
	if (r < 0)
		return log_error_errno(r, "%s/ca.crt: not a PEM certificate: %m", dir);
	r = file_read(dir, "ca.key", &key_pem);
	if (r == 0)
		r = x509_key_import(key_pem, &ca.key);
	if (r == 0 && !x509_crt_matches_key(ca.crt, ca.key))
		r = -EKEYREJECTED;
	if (r < 0 && (need_key || r != -ENOENT)) {
		ca_clear(&ca);
		return log_error_errno(r, "%s/ca.key: %m (restore the CA's key, or move ca.crt away to create a new CA)",
				       dir);
	}
	ca.pem = TAKE_PTR(pem);
	*ret = ca;
	return 0;
}

/* Whether server.crt/server.key are usable as they are for hosts. */
static bool server_reusable(const char *cert_pem, const char *key_pem, const struct ca *ca,
			    const char *const *hosts, size_t n_hosts)
{
	_cleanup_crt_ gnutls_x509_crt_t crt = NULL;
	_cleanup_key_ gnutls_x509_privkey_t key = NULL;

	if (x509_crt_import(cert_pem, &crt) < 0 || x509_key_import(key_pem, &key) < 0)
		return false;
	if (!x509_crt_matches_key(crt, key) || !x509_crt_signed_by(crt, ca->crt))
		return false;
	if (gnutls_x509_crt_get_expiration_time(crt) < time(NULL) + RENEW_BEFORE_S)
		return false;
	for (size_t i = 0; i < n_hosts; i++)
		if (!x509_crt_has_host(crt, hosts[i])) {
			log_info("serving certificate lacks %s: re-issuing it", hosts[i]);
			return false;
		}
	return true;
}

static int server_issue(const char *dir, const struct ca *ca, const char *old_key_pem, const char *const *hosts,
			size_t n_hosts, char **ret_cert, char **ret_key)
{
	_cleanup_key_ gnutls_x509_privkey_t key = NULL;
	_cleanup_crt_ gnutls_x509_crt_t crt = NULL;
	_cleanup_free_ char *cert_pem = NULL, *key_pem = NULL;
	struct x509_leaf leaf = { .cn = "skiff-control", .server = true, .hosts = hosts, .n_hosts = n_hosts,
				  .days = LEAF_DAYS };
	int r;

	/* Keeping a sound key means only server.crt changes: no window where key and cert disagree. */
	if (!old_key_pem || x509_key_import(old_key_pem, &key) < 0) {
		r = x509_key_new(&key);
		if (r < 0)
			return log_error_errno(r, "serving key: %m");
	}
	leaf.key = key;
	if ((r = x509_leaf_new(&leaf, ca->crt, ca->key, &crt)) < 0 || (r = x509_key_export(key, &key_pem)) < 0 ||
	    (r = x509_crt_export(crt, &cert_pem)) < 0)
		return log_error_errno(r, "issuing the serving certificate: %m");
	if ((r = certs_file_write(dir, "server.key", key_pem, 0600)) < 0 ||
	    (r = certs_file_write(dir, "server.crt", cert_pem, 0644)) < 0)
		return log_error_errno(r, "writing the serving certificate to %s: %m", dir);
	*ret_cert = TAKE_PTR(cert_pem);
	*ret_key = TAKE_PTR(key_pem);
	return 0;
}

static int token_ensure(const char *dir, char **ret)
{
	unsigned char raw[TOKEN_BYTES];
	gnutls_datum_t d = { raw, sizeof(raw) };
	char hex[2 * TOKEN_BYTES + 2];
	size_t hex_size = sizeof(hex);
	_cleanup_free_ char *token = NULL;
	int r;

	r = file_read(dir, "admin.token", &token);
	if (r == 0) {
		token[strcspn(token, " \t\r\n")] = '\0';
		if (!*token)
			return log_error_errno(-EINVAL, "%s/admin.token is empty (remove it to create a new one)", dir);
		*ret = TAKE_PTR(token);
		return 0;
	}
	if (r != -ENOENT)
		return log_error_errno(r, "reading %s/admin.token: %m", dir);
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0 || gnutls_hex_encode(&d, hex, &hex_size) < 0)
		return log_error_errno(-EIO, "generating the admin token failed");
	if (asprintf(&token, "%s\n", hex) < 0)
		return -ENOMEM;
	r = certs_file_write(dir, "admin.token", token, 0600);
	if (r < 0)
		return log_error_errno(r, "writing %s/admin.token: %m", dir);
	token[strlen(hex)] = '\0';
	*ret = TAKE_PTR(token);
	return 0;
}

/* Rewrites admin.kubeconfig only when its content would change (URL, CA or token). */
static int kubeconfig_ensure(const char *dir, const char *server_url, const char *ca_pem, const char *token)
{
	_cleanup_free_ char *want = NULL, *have = NULL;
	int r;

	r = kubeconfig_render(server_url, ca_pem, "admin", token, &want);
	if (r < 0)
		return log_error_errno(r, "rendering admin.kubeconfig: %m");
	if (file_read(dir, "admin.kubeconfig", &have) == 0 && strcmp(have, want) == 0)
		return 0;
	r = certs_file_write(dir, "admin.kubeconfig", want, 0600);
	if (r < 0)
		return log_error_errno(r, "writing %s/admin.kubeconfig: %m", dir);
	return 0;
}

static int server_ensure(const char *dir, const struct ca *ca, const char *const *hosts, size_t n_hosts,
			 char **ret_cert, char **ret_key)
{
	_cleanup_free_ char *cert_pem = NULL, *key_pem = NULL;
	int rc = file_read(dir, "server.crt", &cert_pem);
	int rk = file_read(dir, "server.key", &key_pem);

	if (rc < 0 && rc != -ENOENT)
		return log_error_errno(rc, "reading %s/server.crt: %m", dir);
	if (rk < 0 && rk != -ENOENT)
		return log_error_errno(rk, "reading %s/server.key: %m", dir);
	if (rc == 0 && rk == 0 && server_reusable(cert_pem, key_pem, ca, hosts, n_hosts)) {
		*ret_cert = TAKE_PTR(cert_pem);
		*ret_key = TAKE_PTR(key_pem);
		return 0;
	}
	if (!ca->key)
		return log_error_errno(-ENOENT, "%s/ca.key is missing: cannot issue a serving certificate", dir);
	return server_issue(dir, ca, key_pem, hosts, n_hosts, ret_cert, ret_key);
}

int certs_ensure(const char *data_dir, const char *const *hosts, size_t n_hosts, const char *server_url,
		 struct control_credentials *ret)
{
	struct control_credentials c = { NULL, NULL, NULL, NULL };
	struct ca ca = { NULL, NULL, NULL };
	int r;

	r = mkdir_p(data_dir, 0700);
	if (r < 0)
		return log_error_errno(r, "creating %s: %m", data_dir);
	r = ca_ensure(data_dir, false, &ca);
	if (r < 0)
		return r;
	r = server_ensure(data_dir, &ca, hosts, n_hosts, &c.server_cert_pem, &c.server_key_pem);
	if (r == 0)
		r = token_ensure(data_dir, &c.admin_token);
	if (r == 0)
		r = kubeconfig_ensure(data_dir, server_url, ca.pem, c.admin_token);
	if (r == 0)
		c.ca_pem = TAKE_PTR(ca.pem);
	ca_clear(&ca);
	if (r < 0) {
		control_credentials_clear(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int certs_issue_client(const char *data_dir, const char *cn, const char *org, char **ret_cert_pem,
		       char **ret_key_pem)
{
	_cleanup_key_ gnutls_x509_privkey_t key = NULL;
	_cleanup_crt_ gnutls_x509_crt_t crt = NULL;
	_cleanup_free_ char *cert_pem = NULL, *key_pem = NULL;
	struct ca ca = { NULL, NULL, NULL };
	struct x509_leaf leaf = { .cn = cn, .org = org, .days = LEAF_DAYS };
	int r;

	r = ca_ensure(data_dir, true, &ca);
	if (r < 0)
		return r;
	if ((r = x509_key_new(&key)) == 0) {
		leaf.key = key;
		r = x509_leaf_new(&leaf, ca.crt, ca.key, &crt);
	}
	ca_clear(&ca);
	if (r == 0 && (r = x509_key_export(key, &key_pem)) == 0)
		r = x509_crt_export(crt, &cert_pem);
	if (r < 0)
		return log_error_errno(r, "issuing a client certificate for %s: %m", cn);
	*ret_cert_pem = TAKE_PTR(cert_pem);
	*ret_key_pem = TAKE_PTR(key_pem);
	return 0;
}

void control_credentials_clear(struct control_credentials *c)
{
	if (!c)
		return;
	free(c->ca_pem);
	/* The keys and the token are secrets: do not leave them in freed memory. */
	if (c->server_key_pem)
		explicit_bzero(c->server_key_pem, strlen(c->server_key_pem));
	free(c->server_key_pem);
	free(c->server_cert_pem);
	if (c->admin_token)
		explicit_bzero(c->admin_token, strlen(c->admin_token));
	free(c->admin_token);
	*c = (struct control_credentials){ NULL, NULL, NULL, NULL };
}
