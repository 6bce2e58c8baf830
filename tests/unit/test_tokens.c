/* Bootstrap tokens are good once and until they expire; node tokens authenticate as
 * system:node:<name>, survive a reload from the data dir, and a re-issue revokes the old one. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/tokens.h"

static char dir[] = "/tmp/skiff-test-tokens.XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(tokens, .init = setup, .fini = teardown);

Test(tokens, bootstrap_once)
{
	char *tok = NULL, bad[64];
	const char *why;

	cr_assert_eq(bootstrap_token_create(dir, 600, &tok), 0);
	cr_assert_eq(strlen(tok), 23);
	cr_assert_eq(tok[6], '.');
	snprintf(bad, sizeof(bad), "%.7s%s", tok, "0000000000000000");
	cr_assert_eq(bootstrap_token_consume(dir, bad, &why), -EACCES);
	cr_assert_eq(bootstrap_token_consume(dir, "nodot", &why), -EACCES);
	cr_assert_eq(bootstrap_token_consume(dir, "../../x.0123456789abcdef", &why), -EACCES);
	cr_assert_eq(bootstrap_token_consume(dir, tok, &why), 0);
	cr_assert_eq(bootstrap_token_consume(dir, tok, &why), -EALREADY);
	cr_assert_str_eq(why, "bootstrap token was used already");
	free(tok);
	cr_assert_eq(bootstrap_token_create(dir, 0, &tok), -EINVAL);
}

Test(tokens, bootstrap_expired)
{
	char *tok = NULL, path[256], hash[80];
	long long expiry;
	const char *why;
	FILE *f;

	cr_assert_eq(bootstrap_token_create(dir, 600, &tok), 0);
	snprintf(path, sizeof(path), "%s/bootstrap-tokens/%.6s", dir, tok);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%79s %lld", hash, &expiry), 2);
	fclose(f);
	cr_assert(expiry > time(NULL) + 500 && expiry <= time(NULL) + 600);
	/* Move its expiry into the past, as the clock would. */
	f = fopen(path, "w");
	fprintf(f, "%s %lld\n", hash, (long long)time(NULL) - 1);
	fclose(f);
	cr_assert_eq(bootstrap_token_consume(dir, tok, &why), -EKEYEXPIRED);
	cr_assert_str_eq(why, "bootstrap token has expired");
	free(tok);
}

static int add(void *ud, const char *node, const char *hash)
{
	return auth_add_node(ud, node, hash);
}

Test(tokens, node_tokens_authenticate)
{
	char *t1 = NULL, *t2 = NULL, hash[TOKEN_HASH_HEX], hdr[128];
	struct auth *a = auth_new("admintoken"), *b = auth_new("admintoken");
	struct auth_identity id = { 0 };

	cr_assert_eq(node_token_issue(dir, "n1", &t1, hash), 0);
	cr_assert_eq(auth_add_node(a, "n1", hash), 0);
	snprintf(hdr, sizeof(hdr), "Bearer %s", t1);
	cr_assert_eq(auth_check(a, hdr, &id), 0);
	cr_assert_str_eq(id.user, "system:node:n1");
	cr_assert_str_eq(id.node, "n1");
	cr_assert_str_eq(id.groups[0], "system:nodes");
	/* A restarted server learns it from the data dir. */
	cr_assert_eq(node_tokens_load(dir, add, b), 0);
	cr_assert_eq(auth_check(b, hdr, &id), 0);
	/* Re-joining replaces the credential. */
	cr_assert_eq(node_token_issue(dir, "n1", &t2, hash), 0);
	cr_assert_eq(auth_add_node(a, "n1", hash), 0);
	cr_assert_eq(auth_check(a, hdr, &id), -EACCES);
	snprintf(hdr, sizeof(hdr), "Bearer %s", t2);
	cr_assert_eq(auth_check(a, hdr, &id), 0);
	cr_assert_eq(node_token_issue(dir, "../evil", &t1, hash), -EINVAL);
	free(t1);
	free(t2);
	auth_free(a);
	auth_free(b);
}

Test(tokens, ca_hash_format)
{
	char h[CA_HASH_LEN];

	cr_assert_eq(ca_cert_hash("not a certificate", h), -EINVAL);
}
