/* What a second skiff-control instance needs besides the election: its flags, and credentials
 * shared with the first (a copied CA and admin token; its own serving certificate for its own
 * addresses, signed by that CA, even when the first instance's certificate was copied too). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#include "api/certs.h"
#include "api/certs_x509.h"
#include "api/options.h"

static int parse(struct control_options *o, int argc, char **argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	int r;

	control_options_init(o);
	r = control_options_parse(o, argc, argv, stdout, err);
	fclose(err);
	free(buf);
	return r;
}

#define PARSE(o, ...)                                                                          \
	({                                                                                     \
		char *argv_[] = { "skiff-control", __VA_ARGS__, NULL };                        \
		parse(o, (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_);                 \
	})

Test(leader_options, defaults_elect_with_a_ten_second_lease)
{
	struct control_options o;

	cr_assert_eq(PARSE(&o, "--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379"), 0);
	cr_assert(o.leader_elect);
	cr_assert_eq(o.leader_lease_duration_s, 10);
	cr_assert_null(o.leader_identity);
}

Test(leader_options, flags_set_election_duration_and_identity)
{
	struct control_options o;

	cr_assert_eq(PARSE(&o, "--leader-elect=false", "--leader-elect-lease-duration", "1m30s",
			   "--leader-elect-identity", "cp-b"),
		     0);
	cr_assert_not(o.leader_elect);
	cr_assert_eq(o.leader_lease_duration_s, 90);
	cr_assert_str_eq(o.leader_identity, "cp-b");
	cr_assert_eq(PARSE(&o, "--leader-elect", "--leader-elect-lease-duration", "15"), 0);
	cr_assert(o.leader_elect);
	cr_assert_eq(o.leader_lease_duration_s, 15);
}

Test(leader_options, bad_values_are_refused)
{
	struct control_options o;

	cr_assert_eq(PARSE(&o, "--leader-elect=maybe"), -EINVAL);
	cr_assert_eq(PARSE(&o, "--leader-elect-lease-duration", "1s"), -EINVAL, "a TTL under 2 s cannot be renewed");
	cr_assert_eq(PARSE(&o, "--leader-elect-lease-duration", "ten"), -EINVAL);
	cr_assert_eq(PARSE(&o, "--leader-elect-identity", ""), -EINVAL);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char path[256], *data = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", from_dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	data = calloc(1, 65536);
	len = fread(data, 1, 65535, f);
	fclose(f);
	cr_assert_gt(len, 0);
	cr_assert_eq(certs_file_write(to_dir, name, data, 0600), 0);
	free(data);
}

static bool cert_has(const char *pem, const char *host)
{
	_cleanup_(x509_crt_freep) gnutls_x509_crt_t crt = NULL;

	cr_assert_eq(x509_crt_import(pem, &crt), 0);
	return x509_crt_has_host(crt, host);
}

Test(leader_options, a_second_instance_shares_ca_and_token_and_issues_its_own_certificate)
{
	char a[] = "/tmp/skiff-test-ha-a-XXXXXX", b[] = "/tmp/skiff-test-ha-b-XXXXXX";
	const char *hosts_a[] = { "127.0.0.1", "10.0.0.1" }, *hosts_b[] = { "127.0.0.1", "10.0.0.2" };
	struct control_credentials ca = { 0 }, cb = { 0 };

	cr_assert_not_null(mkdtemp(a));
	cr_assert_not_null(mkdtemp(b));
	cr_assert_eq(certs_ensure(a, hosts_a, 2, "https://10.0.0.1:6443", &ca), 0);
	/* The join steps: CA, its key and the admin token; server.crt copied by mistake too. */
	copy_file(a, b, "ca.crt");
	copy_file(a, b, "ca.key");
	copy_file(a, b, "admin.token");
	copy_file(a, b, "server.crt");
	copy_file(a, b, "server.key");
	cr_assert_eq(certs_ensure(b, hosts_b, 2, "https://10.0.0.2:6443", &cb), 0);
	cr_assert_str_eq(cb.ca_pem, ca.ca_pem, "b made a CA of its own");
	cr_assert_str_eq(cb.admin_token, ca.admin_token, "b made an admin token of its own");
	cr_assert_str_neq(cb.server_cert_pem, ca.server_cert_pem, "b serves a's certificate");
	cr_assert(cert_has(cb.server_cert_pem, "10.0.0.2"));
	cr_assert_not(cert_has(ca.server_cert_pem, "10.0.0.2"));
	control_credentials_clear(&ca);
	control_credentials_clear(&cb);
	nftw(a, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	nftw(b, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
