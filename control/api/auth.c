/* Bearer-token authentication (see auth.h). The admin token compares in constant time; node
 * tokens are looked up by their SHA-256, so no comparison touches a secret. */
#include "api/auth.h"
#include "api/tokens.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Never freed before auth_free: requests in flight borrow their identity from it. */
struct node_cred {
	char hash[TOKEN_HASH_HEX];
	bool revoked;
	char *user;
	char *node;
	struct auth_identity id;
	struct auth_load load;
	struct node_cred *next;
};

struct auth {
	char *admin_token;
	size_t admin_len;
	struct auth_identity admin;
	struct auth_load admin_load;
	pthread_rwlock_t lock;
	struct node_cred *nodes;
	struct store *store;
};

void auth_set_store(struct auth *a, struct store *s)
{
	a->store = s;
}

struct store *auth_store(struct auth *a)
{
	return a->store;
}

/* The node's current credential has this hash already (the store's watch hands back the
 * token this instance just issued); read lock held. */
static bool node_current(struct auth *a, const char *node, const char *hash)
{
	for (struct node_cred *o = a->nodes; o; o = o->next)
		if (!o->revoked && strcmp(o->node, node) == 0)
			return strcmp(o->hash, hash) == 0;
	return false;
}

struct auth *auth_new(const char *admin_token)
{
	struct auth *a;

	if (!admin_token || !admin_token[0]) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->admin_token = strdup(admin_token);
	if (!a->admin_token) {
		free(a);
		return NULL;
	}
	a->admin_len = strlen(admin_token);
	a->admin = (struct auth_identity){
		.user = "kubernetes-admin",
		.groups = { "system:masters", "system:authenticated" },
		.n_groups = 2,
		.load = &a->admin_load,
	};
	pthread_rwlock_init(&a->lock, NULL);
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	/* The token is a credential: do not leave it in freed memory. */
	explicit_bzero(a->admin_token, a->admin_len);
	free(a->admin_token);
	while (a->nodes) {
		struct node_cred *n = a->nodes;

		a->nodes = n->next;
		free(n->user);
		free(n->node);
		free(n);
	}
	pthread_rwlock_destroy(&a->lock);
	free(a);
}

int auth_add_node(struct auth *a, const char *node, const char *hash)
{
	struct node_cred *n;
	bool known;

	pthread_rwlock_rdlock(&a->lock);
	known = node_current(a, node, hash);
	pthread_rwlock_unlock(&a->lock);
	if (known)
		return 0;
	n = calloc(1, sizeof(*n));

	if (!n || strlen(hash) != TOKEN_HASH_HEX - 1 || asprintf(&n->user, "system:node:%s", node) < 0) {
		free(n);
		return -ENOMEM;
	}
	n->node = strdup(node);
	if (!n->node) {
		free(n->user);
		free(n);
		return -ENOMEM;
	}
	memcpy(n->hash, hash, TOKEN_HASH_HEX);
	n->id = (struct auth_identity){
		.user = n->user,
		.groups = { "system:nodes", "system:authenticated" },
		.n_groups = 2,
		.node = n->node,
		.load = &n->load,
	};
	pthread_rwlock_wrlock(&a->lock);
	for (struct node_cred *o = a->nodes; o; o = o->next)
		if (strcmp(o->node, node) == 0)
			o->revoked = true;
	n->next = a->nodes;
	a->nodes = n;
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

/* Time depends only on the length of the secret, never on where the inputs differ. */
static bool token_equal(const char *given, size_t given_len, const char *secret, size_t secret_len)
{
	unsigned char diff = given_len != secret_len;

	for (size_t i = 0; i < secret_len; i++)
		diff |= (unsigned char)(secret[i] ^ (i < given_len ? given[i] : 0));
	return diff == 0;
}

static int node_lookup(struct auth *a, const char *tok, struct auth_identity *ret)
{
	char hash[TOKEN_HASH_HEX];
	int r = -EACCES;

	if (!a->nodes || token_hash(tok, hash) < 0)
		return -EACCES;
	pthread_rwlock_rdlock(&a->lock);
	for (struct node_cred *n = a->nodes; n; n = n->next)
		if (!n->revoked && strcmp(n->hash, hash) == 0) {
			*ret = n->id;
			r = 0;
			break;
		}
	pthread_rwlock_unlock(&a->lock);
	return r;
}

int auth_check(struct auth *a, const char *authorization, struct auth_identity *ret)
{
	const char *tok;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return -EACCES;
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	if (token_equal(tok, strlen(tok), a->admin_token, a->admin_len)) {
		*ret = a->admin;
		return 0;
	}
	return node_lookup(a, tok, ret);
}
