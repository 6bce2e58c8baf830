/* Join credentials shared through etcd by skiff-control instances (tokens_store.c), two stores
 * on one real etcd standing for two instances: a bootstrap token made anywhere is good for
 * exactly one join on any instance; a node token issued by one is accepted by the other's
 * authenticator, and a re-join's new token replaces the old one there too. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>

#include "api/auth.h"
#include "api/tokens.h"
#include "controllers/ctrl.h"
#include "lib/etcd_kit.h"

static struct etcd_kit etcd;
static struct store *sa, *sb;
static struct auth *auth_b;
static struct node_tokens_follow *follow_b;

static struct store *open_store(void)
{
	struct store_options so;
	struct store *s;

	store_options_init(&so);
	so.compact_interval_seconds = 0;
	s = store_open_etcd(etcd.endpoint, "/skiff", &so);
	cr_assert_not_null(s, "open %s: %s", etcd.endpoint, strerror(errno));
	return s;
}

static int add_node(void *ud, const char *node, const char *hash)
{
	return auth_add_node(ud, node, hash);
}

static void setup(void)
{
	etcd_kit_start(&etcd);
	sa = open_store();
	sb = open_store();
	auth_b = auth_new("admin-token-for-tests");
	cr_assert_not_null(auth_b);
}

static void teardown(void)
{
	node_tokens_follow_stop(follow_b);
	follow_b = NULL;
	auth_free(auth_b);
	store_close(sa);
	store_close(sb);
	etcd_kit_stop(&etcd);
}

TestSuite(leader_tokens, .init = setup, .fini = teardown, .timeout = 60);

Test(leader_tokens, a_bootstrap_token_joins_once_through_any_instance)
{
	_cleanup_free_ char *token = NULL, *wrong = NULL;
	const char *reason = NULL;

	cr_assert_eq(bootstrap_token_create_in(sa, 3600, &token), 0);
	wrong = strdup(token);
	wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'a' ? 'b' : 'a';
	cr_assert_eq(bootstrap_token_consume_in(sb, wrong, &reason), -EACCES);
	cr_assert_eq(bootstrap_token_consume_in(sb, token, &reason), 0, "%s", reason ? reason : "");
	cr_assert_eq(bootstrap_token_consume_in(sa, token, &reason), -EALREADY);
	cr_assert_str_eq(reason, "bootstrap token was used already");
	/* An id the store does not know: the caller then tries its data dir's files. */
	cr_assert_eq(bootstrap_token_consume_in(sa, "abcdef.0123456789abcdef", &reason), -ENOENT);
}

Test(leader_tokens, an_expired_bootstrap_token_is_refused)
{
	char hash[TOKEN_HASH_HEX], value[160];
	const char *reason = NULL;

	cr_assert_eq(token_hash("0123456789abcdef", hash), 0);
	snprintf(value, sizeof(value), "{\"hash\":\"%s\",\"expires\":%lld}", hash, (long long)time(NULL) - 1);
	cr_assert_eq(store_create(sa, TOKENS_STORE_BOOTSTRAP "zzzzzz", value, NULL), 0);
	cr_assert_eq(bootstrap_token_consume_in(sb, "zzzzzz.0123456789abcdef", &reason), -EKEYEXPIRED);
	cr_assert_str_eq(reason, "bootstrap token has expired");
}

static const char *want_ok, *want_refused;

static bool b_accepts(void)
{
	struct auth_identity id;
	char hdr[128];

	snprintf(hdr, sizeof(hdr), "Bearer %s", want_ok);
	if (auth_check(auth_b, hdr, &id) != 0)
		return false;
	cr_assert_str_eq(id.node, "n1");
	cr_assert_str_eq(id.user, "system:node:n1");
	if (!want_refused)
		return true;
	snprintf(hdr, sizeof(hdr), "Bearer %s", want_refused);
	return auth_check(auth_b, hdr, &id) == -EACCES;
}

static bool wait_for(bool (*pred)(void))
{
	int64_t end = ctrl_now_ms() + 20000;

	while (!pred()) {
		if (ctrl_now_ms() > end)
			return false;
		usleep(10 * 1000);
	}
	return true;
}

Test(leader_tokens, a_node_token_issued_on_one_instance_works_on_the_other)
{
	_cleanup_free_ char *early = NULL, *first = NULL, *second = NULL;
	char hash[TOKEN_HASH_HEX];

	/* One issued before b started (loaded from the list), one after (from the watch). */
	cr_assert_eq(node_token_issue_in(sa, "n0", &early, hash), 0);
	follow_b = node_tokens_follow_start(sb, add_node, auth_b);
	cr_assert_not_null(follow_b, "%s", strerror(errno));
	cr_assert_eq(node_token_issue_in(sa, "n1", &first, hash), 0);
	want_ok = first;
	cr_assert(wait_for(b_accepts), "b never accepted the token a issued");
	/* A re-join through a: b takes the new token and refuses the replaced one. */
	cr_assert_eq(node_token_issue_in(sa, "n1", &second, hash), 0);
	want_ok = second;
	want_refused = first;
	cr_assert(wait_for(b_accepts), "b did not switch to the new token");
	want_refused = NULL;
	{
		struct auth_identity id;
		char hdr[128];

		snprintf(hdr, sizeof(hdr), "Bearer %s", early);
		cr_assert_eq(auth_check(auth_b, hdr, &id), 0, "the token issued before b started is unknown to b");
		cr_assert_str_eq(id.node, "n0");
	}
}

Test(leader_tokens, the_keys_are_outside_what_the_api_serves)
{
	cr_assert_neq(strncmp(TOKENS_STORE_PREFIX, "/registry/", 10), 0);
}
