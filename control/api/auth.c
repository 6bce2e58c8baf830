/* Bearer-token authentication (see auth.h). Tokens compare in constant time. */
#include "api/auth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct auth {
	char *admin_token;
	size_t admin_len;
	struct auth_identity admin;
};

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
	};
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	/* The token is a credential: do not leave it in freed memory. */
	explicit_bzero(a->admin_token, a->admin_len);
	free(a->admin_token);
	free(a);
}

/* Time depends only on the length of the secret, never on where the inputs differ. */
static bool token_equal(const char *given, size_t given_len, const char *secret, size_t secret_len)
{
	unsigned char diff = given_len != secret_len;

	for (size_t i = 0; i < secret_len; i++)
		diff |= (unsigned char)(secret[i] ^ (i < given_len ? given[i] : 0));
	return diff == 0;
}

int auth_check(const struct auth *a, const char *authorization, struct auth_identity *ret)
{
	const char *tok;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return -EACCES;
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	if (!token_equal(tok, strlen(tok), a->admin_token, a->admin_len))
		return -EACCES;
	*ret = a->admin;
	return 0;
}
