/* Bootstrap and node tokens on disk (see tokens.h). Files are written to a temporary name and
 * renamed; a bootstrap token is used up by renaming its file, which only one caller can win. */
#include "api/tokens.h"
#include "api/certs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#define BOOTSTRAP_DIR "bootstrap-tokens"
#define NODES_DIR "node-tokens"
#define ID_LEN BOOTSTRAP_ID_LEN
#define SECRET_LEN 16
#define NODE_TOKEN_BYTES 32

int token_hash(const char *token, char ret[TOKEN_HASH_HEX])
{
	unsigned char d[32];
	gnutls_datum_t dd = { d, sizeof(d) };
	size_t n = TOKEN_HASH_HEX;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), d) < 0 || gnutls_hex_encode(&dd, ret, &n) < 0)
		return -EIO;
	return 0;
}

int ca_cert_hash(const char *ca_pem, char ret[CA_HASH_LEN])
{
	gnutls_datum_t pem = { (unsigned char *)ca_pem, (unsigned)strlen(ca_pem) }, spki = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t key = NULL;
	unsigned char d[32];
	gnutls_datum_t dd = { d, sizeof(d) };
	size_t n = TOKEN_HASH_HEX;
	int r = -EINVAL;

	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&key) < 0)
		goto out;
	if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0 || gnutls_pubkey_import_x509(key, crt, 0) < 0 ||
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, d) < 0 || gnutls_hex_encode(&dd, ret + 7, &n) < 0)
		goto out;
	memcpy(ret, "sha256:", 7);
	r = 0;
out:
	gnutls_free(spki.data);
	if (key)
		gnutls_pubkey_deinit(key);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return r;
}

int node_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 253 || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		      name[i] == '.'))
			return 0;
	return 1;
}

static int random_alnum(char *buf, size_t n)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[64];

	if (n > sizeof(raw) || gnutls_rnd(GNUTLS_RND_KEY, raw, n) < 0)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		buf[i] = set[raw[i] % (sizeof(set) - 1)]; /* 256 % 36 bias: negligible for a short-lived token */
	buf[n] = '\0';
	return 0;
}

/* mkdir dir (0700) and the file through certs_file_write, mode 0600. */
static int write_file(const char *dir, const char *name, const char *content)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return certs_file_write(dir, name, content, 0600);
}

static int read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int bootstrap_token_mint(long ttl_seconds, char ret_id[BOOTSTRAP_ID_LEN + 1], char ret_hash[TOKEN_HASH_HEX],
			 long long *ret_expiry, char **ret_token)
{
	char secret[SECRET_LEN + 1];

	if (ttl_seconds <= 0)
		return -EINVAL;
	if (random_alnum(ret_id, ID_LEN) < 0 || random_alnum(secret, SECRET_LEN) < 0 || token_hash(secret, ret_hash) < 0)
		return -EIO;
	*ret_expiry = (long long)time(NULL) + ttl_seconds;
	if (asprintf(ret_token, "%s.%s", ret_id, secret) < 0)
		return -ENOMEM;
	explicit_bzero(secret, sizeof(secret));
	return 0;
}

int bootstrap_token_create(const char *data_dir, long ttl_seconds, char **ret_token)
{
	_cleanup_free_ char *dir = NULL, *token = NULL;
	char id[ID_LEN + 1], hash[TOKEN_HASH_HEX], line[128];
	long long expiry;
	int r;

	r = bootstrap_token_mint(ttl_seconds, id, hash, &expiry, &token);
	if (r < 0)
		return r;
	if (asprintf(&dir, "%s/%s", data_dir, BOOTSTRAP_DIR) < 0)
		return -ENOMEM;
	snprintf(line, sizeof(line), "%s %lld\n", hash, expiry);
	r = write_file(dir, id, line);
	if (r < 0)
		return r;
	*ret_token = TAKE_PTR(token);
	return 0;
}

int bootstrap_token_split(const char *token, char id[BOOTSTRAP_ID_LEN + 1], const char **secret)
{
	const char *dot = token ? strchr(token, '.') : NULL;

	if (!dot || dot - token != ID_LEN || strlen(dot + 1) != SECRET_LEN)
		return -EACCES;
	memcpy(id, token, ID_LEN);
	id[ID_LEN] = '\0';
	for (const char *p = token; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || p == dot))
			return -EACCES;
	*secret = dot + 1;
	return 0;
}

int bootstrap_token_verify(const char *secret, const char *stored_hash, long long expiry, const char **ret_reason)
{
	char hash[TOKEN_HASH_HEX];

	*ret_reason = "unknown bootstrap token";
	if (token_hash(secret, hash) < 0)
		return -EACCES;
	if (strcmp(hash, stored_hash) != 0) /* hashes of secrets: comparing them leaks nothing useful */
		return -EACCES;
	if (time(NULL) >= expiry) {
		*ret_reason = "bootstrap token has expired";
		return -EKEYEXPIRED;
	}
	*ret_reason = NULL;
	return 0;
}

int bootstrap_token_consume(const char *data_dir, const char *token, const char **ret_reason)
{
	_cleanup_free_ char *path = NULL, *used = NULL;
	char id[ID_LEN + 1], stored[TOKEN_HASH_HEX], buf[128];
	const char *secret;
	long long expiry;
	int r;

	*ret_reason = "unknown bootstrap token";
	if (bootstrap_token_split(token, id, &secret) < 0)
		return -EACCES;
	if (asprintf(&path, "%s/%s/%s", data_dir, BOOTSTRAP_DIR, id) < 0 ||
	    asprintf(&used, "%s/%s/%s.used", data_dir, BOOTSTRAP_DIR, id) < 0)
		return -ENOMEM;
	if (read_small(path, buf, sizeof(buf)) < 0) {
		if (access(used, F_OK) == 0) {
			*ret_reason = "bootstrap token was used already";
			return -EALREADY;
		}
		return -EACCES;
	}
	if (sscanf(buf, "%64s %lld", stored, &expiry) != 2)
		return -EACCES;
	r = bootstrap_token_verify(secret, stored, expiry, ret_reason);
	if (r < 0)
		return r;
	if (rename(path, used) < 0) {
		*ret_reason = "bootstrap token was used already";
		return -EALREADY;
	}
	*ret_reason = NULL;
	return 0;
}

int node_token_mint(char **ret_token, char ret_hash[TOKEN_HASH_HEX])
{
	unsigned char raw[NODE_TOKEN_BYTES];
	gnutls_datum_t d = { raw, sizeof(raw) };
	char hex[2 * NODE_TOKEN_BYTES + 1];
	size_t n = sizeof(hex);
	int r = -EIO;

	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) == 0 && gnutls_hex_encode(&d, hex, &n) == 0 &&
	    token_hash(hex, ret_hash) == 0) {
		*ret_token = strdup(hex);
		r = *ret_token ? 0 : -ENOMEM;
	}
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(hex, sizeof(hex));
	return r;
}

int node_token_issue(const char *data_dir, const char *node, char **ret_token, char *ret_hash)
{
	_cleanup_free_ char *dir = NULL;
	char line[TOKEN_HASH_HEX + 1];
	int r;

	if (!node_name_valid(node))
		return -EINVAL;
	if (asprintf(&dir, "%s/%s", data_dir, NODES_DIR) < 0)
		return -ENOMEM;
	r = node_token_mint(ret_token, ret_hash);
	if (r < 0)
		return r;
	snprintf(line, sizeof(line), "%s\n", ret_hash);
	r = write_file(dir, node, line);
	if (r < 0) {
		explicit_bzero(*ret_token, strlen(*ret_token));
		free(*ret_token);
		*ret_token = NULL;
	}
	return r;
}

int node_tokens_load(const char *data_dir, int (*fn)(void *ud, const char *node, const char *hash), void *ud)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (asprintf(&dir, "%s/%s", data_dir, NODES_DIR) < 0)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r >= 0 && (de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		char buf[128], hash[TOKEN_HASH_HEX];

		if (!node_name_valid(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (read_small(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%64s", hash) != 1)
			continue;
		r = fn(ud, de->d_name, hash);
	}
	closedir(d);
	return r;
}
