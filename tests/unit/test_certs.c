/* Unit tests of the control plane's credentials: files and modes, the serving certificate's
 * chain and SANs, reuse on later starts, re-issue on a new host, kubeconfig contents, and
 * client certificates. Each test works in its own temporary directory and removes it. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ftw.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <skiff/cleanup.h>

#include "api/certs.h"

static char tmp[64];
static char dir[128]; /* a nested path, so certs_ensure has to create parents */

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/skiff-test-certs-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/data/control", tmp);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(certs, .init = setup, .fini = teardown);

static const char *const hosts[] = { "127.0.0.1", "localhost", "10.1.2.3", "::1", "skiff.example", "127.0.0.1" };
#define URL "https://127.0.0.1:6443"

static char *read_text(const char *name)
{
	char path[256];
	char *s = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	cr_assert_not_null(f, "%s missing", path);
	cr_assert_eq(getdelim(&s, &n, '\0', f) > 0, 1, "%s empty", path);
	fclose(f);
	return s;
}

static mode_t file_mode(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(stat(path, &st), 0, "%s missing", path);
	return st.st_mode & 07777;
}

static gnutls_x509_crt_t crt_of(const char *pem)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
	gnutls_x509_crt_t crt;

	cr_assert_eq(gnutls_x509_crt_init(&crt), 0);
	cr_assert_eq(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0, "not a PEM certificate");
	return crt;
}

static void expect_cn(gnutls_x509_crt_t crt, const char *oid, const char *want)
{
	char buf[256];
	size_t size = sizeof(buf);

	cr_assert_eq(gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf, &size), 0);
	cr_assert_str_eq(buf, want);
}

static void expect_purpose(gnutls_x509_crt_t crt, const char *oid)
{
	char buf[128];
	size_t size = sizeof(buf);

	cr_assert_eq(gnutls_x509_crt_get_key_purpose_oid(crt, 0, buf, &size, NULL), 0);
	cr_assert_str_eq(buf, oid);
}

static void expect_chains(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
	unsigned status = 1;

	cr_assert_eq(gnutls_x509_crt_verify(crt, &ca, 1, 0, &status), 0);
	cr_assert_eq(status, 0, "certificate does not verify against ca.crt (status 0x%x)", status);
}

static bool valid_for(gnutls_x509_crt_t crt, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1)
		return gnutls_x509_crt_check_ip(crt, ip, 4, 0);
	if (inet_pton(AF_INET6, host, ip) == 1)
		return gnutls_x509_crt_check_ip(crt, ip, 16, 0);
	return gnutls_x509_crt_check_hostname(crt, host);
}

Test(certs, first_start_creates_everything)
{
	struct control_credentials c;
	struct stat st;
	char *ca_file;

	cr_assert_eq(certs_ensure(dir, hosts, ELEMENTSOF(hosts), URL, &c), 0);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700, "data dir mode %o", st.st_mode & 07777);
	cr_assert_eq(file_mode("ca.key"), 0600);
	cr_assert_eq(file_mode("server.key"), 0600);
	cr_assert_eq(file_mode("admin.token"), 0600);
	cr_assert_eq(file_mode("admin.kubeconfig"), 0600);
	file_mode("ca.crt");
	file_mode("server.crt");

	ca_file = read_text("ca.crt");
	cr_assert_str_eq(c.ca_pem, ca_file);
	free(ca_file);
	cr_assert_eq(strlen(c.admin_token), 64);
	cr_assert_eq(strspn(c.admin_token, "0123456789abcdef"), 64);
	cr_assert_not_null(strstr(c.server_key_pem, "PRIVATE KEY"));

	gnutls_x509_crt_t ca = crt_of(c.ca_pem), srv = crt_of(c.server_cert_pem);
	expect_cn(ca, GNUTLS_OID_X520_COMMON_NAME, "skiff-ca");
	expect_cn(srv, GNUTLS_OID_X520_COMMON_NAME, "skiff-control");
	expect_purpose(srv, GNUTLS_KP_TLS_WWW_SERVER);
	cr_assert_eq(gnutls_x509_crt_get_ca_status(ca, NULL), 1, "ca.crt is not a CA");
	cr_assert_eq(gnutls_x509_crt_get_ca_status(srv, NULL), 0, "server.crt must not be a CA");
	cr_assert_gt(gnutls_x509_crt_get_expiration_time(ca), time(NULL) + 9L * 365 * 24 * 3600);
	expect_chains(srv, ca);
	for (size_t i = 0; i < ELEMENTSOF(hosts); i++)
		cr_assert(valid_for(srv, hosts[i]), "server.crt not valid for %s", hosts[i]);
	cr_assert_not(valid_for(srv, "10.9.9.9"));
	cr_assert_not(valid_for(srv, "other.example"));
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(srv);
	control_credentials_clear(&c);
	control_credentials_clear(&c); /* cleared twice is harmless */
}

Test(certs, later_start_reuses_and_new_host_reissues_server_only)
{
	struct control_credentials a, b, d;
	const char *more[] = { "127.0.0.1", "localhost", "10.5.5.5" };

	cr_assert_eq(certs_ensure(dir, hosts, ELEMENTSOF(hosts), URL, &a), 0);
	cr_assert_eq(certs_ensure(dir, hosts, 2, URL, &b), 0);
	cr_assert_str_eq(b.ca_pem, a.ca_pem);
	cr_assert_str_eq(b.admin_token, a.admin_token);
	cr_assert_str_eq(b.server_cert_pem, a.server_cert_pem, "a subset of the hosts must not re-issue");
	cr_assert_str_eq(b.server_key_pem, a.server_key_pem);

	cr_assert_eq(certs_ensure(dir, more, ELEMENTSOF(more), URL, &d), 0);
	cr_assert_str_eq(d.ca_pem, a.ca_pem, "the CA must never be regenerated");
	cr_assert_str_eq(d.admin_token, a.admin_token);
	cr_assert_str_neq(d.server_cert_pem, a.server_cert_pem, "a new host must re-issue server.crt");
	char *on_disk = read_text("server.crt");
	cr_assert_str_eq(on_disk, d.server_cert_pem);
	free(on_disk);

	gnutls_x509_crt_t ca = crt_of(d.ca_pem), srv = crt_of(d.server_cert_pem);
	expect_chains(srv, ca);
	cr_assert(valid_for(srv, "10.5.5.5"));
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(srv);
	control_credentials_clear(&a);
	control_credentials_clear(&b);
	control_credentials_clear(&d);
}

Test(certs, broken_server_cert_is_reissued_missing_ca_key_is_an_error)
{
	struct control_credentials a, b;
	char path[256];
	FILE *f;

	cr_assert_eq(certs_ensure(dir, hosts, 2, URL, &a), 0);
	snprintf(path, sizeof(path), "%s/server.crt", dir);
	f = fopen(path, "we");
	cr_assert_not_null(f);
	fputs("not a certificate\n", f);
	fclose(f);
	cr_assert_eq(certs_ensure(dir, hosts, 2, URL, &b), 0);
	gnutls_x509_crt_t ca = crt_of(b.ca_pem), srv = crt_of(b.server_cert_pem);
	expect_chains(srv, ca);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(srv);
	control_credentials_clear(&b);

	/* Without the CA's key nothing can be signed, but a fitting certificate still loads. */
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(certs_ensure(dir, hosts, 2, URL, &b), 0);
	control_credentials_clear(&b);
	cr_assert_lt(certs_ensure(dir, hosts, 3, URL, &b), 0, "re-issue without ca.key must fail");
	control_credentials_clear(&a);
}

/* The node at a path of mapping keys and sequence indices ("clusters", "0", "cluster"). */
static yaml_node_t *yaml_at(yaml_document_t *doc, const char *const *path)
{
	yaml_node_t *n = yaml_document_get_root_node(doc);

	for (; n && *path; path++) {
		yaml_node_t *next = NULL;

		if (n->type == YAML_SEQUENCE_NODE) {
			long i = strtol(*path, NULL, 10);
			if (n->data.sequence.items.start + i < n->data.sequence.items.top)
				next = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
		} else if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(doc, p->key);
				if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, *path) == 0)
					next = yaml_document_get_node(doc, p->value);
			}
		}
		n = next;
	}
	return n;
}

static void expect_yaml(yaml_document_t *doc, const char *const *path, const char *want)
{
	yaml_node_t *n = yaml_at(doc, path);

	cr_assert(n && n->type == YAML_SCALAR_NODE, "kubeconfig lacks %s", path[0]);
	cr_assert_str_eq((char *)n->data.scalar.value, want);
}

static void check_kubeconfig(const struct control_credentials *c, const char *url)
{
	char *text = read_text("admin.kubeconfig");
	yaml_parser_t parser;
	yaml_document_t doc;
	gnutls_datum_t b64, ca = { NULL, 0 };

	cr_assert(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (unsigned char *)text, strlen(text));
	cr_assert(yaml_parser_load(&parser, &doc), "admin.kubeconfig is not YAML: %s", parser.problem);
	expect_yaml(&doc, (const char *const[]){ "apiVersion", NULL }, "v1");
	expect_yaml(&doc, (const char *const[]){ "kind", NULL }, "Config");
	expect_yaml(&doc, (const char *const[]){ "current-context", NULL }, "skiff");
	expect_yaml(&doc, (const char *const[]){ "clusters", "0", "name", NULL }, "skiff");
	expect_yaml(&doc, (const char *const[]){ "clusters", "0", "cluster", "server", NULL }, url);
	expect_yaml(&doc, (const char *const[]){ "users", "0", "name", NULL }, "admin");
	expect_yaml(&doc, (const char *const[]){ "users", "0", "user", "token", NULL }, c->admin_token);
	expect_yaml(&doc, (const char *const[]){ "contexts", "0", "name", NULL }, "skiff");
	expect_yaml(&doc, (const char *const[]){ "contexts", "0", "context", "cluster", NULL }, "skiff");
	expect_yaml(&doc, (const char *const[]){ "contexts", "0", "context", "user", NULL }, "admin");

	yaml_node_t *n = yaml_at(&doc, (const char *const[]){ "clusters", "0", "cluster", "certificate-authority-data",
							     NULL });
	cr_assert_not_null(n);
	b64 = (gnutls_datum_t){ n->data.scalar.value, (unsigned)n->data.scalar.length };
	cr_assert_eq(gnutls_base64_decode2(&b64, &ca), 0, "certificate-authority-data is not base64");
	cr_assert_eq(ca.size, strlen(c->ca_pem));
	cr_assert_eq(memcmp(ca.data, c->ca_pem, ca.size), 0, "certificate-authority-data is not ca.crt");
	gnutls_free(ca.data);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
}

Test(certs, kubeconfig_follows_server_url)
{
	struct control_credentials a, b;

	cr_assert_eq(certs_ensure(dir, hosts, 2, URL, &a), 0);
	check_kubeconfig(&a, URL);
	cr_assert_eq(certs_ensure(dir, hosts, 2, "https://[::1]:7443", &b), 0);
	cr_assert_str_eq(b.admin_token, a.admin_token);
	check_kubeconfig(&b, "https://[::1]:7443");
	control_credentials_clear(&a);
	control_credentials_clear(&b);
}

Test(certs, client_certificate_for_a_node)
{
	struct control_credentials c;
	char *cert = NULL, *key = NULL;

	cr_assert_eq(certs_ensure(dir, hosts, 2, URL, &c), 0);
	cr_assert_eq(certs_issue_client(dir, "system:node:n1", "system:nodes", &cert, &key), 0);
	cr_assert_not_null(strstr(key, "PRIVATE KEY"));

	gnutls_x509_crt_t ca = crt_of(c.ca_pem), crt = crt_of(cert);
	expect_chains(crt, ca);
	expect_cn(crt, GNUTLS_OID_X520_COMMON_NAME, "system:node:n1");
	expect_cn(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, "system:nodes");
	expect_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(crt);
	free(cert);
	free(key);
	control_credentials_clear(&c);
}
