/* Who is calling: bearer-token authentication of API requests. Identities are a small
 * struct so node credentials can be added beside the admin token later. */
#ifndef SKIFF_API_AUTH_H
#define SKIFF_API_AUTH_H

#include <stddef.h>

#define AUTH_MAX_GROUPS 4

struct auth_identity {
	const char *user;                     /* "kubernetes-admin" */
	const char *groups[AUTH_MAX_GROUPS];  /* "system:masters", "system:authenticated" */
	size_t n_groups;
};

struct auth;

/* admin_token is copied. NULL with errno set. */
struct auth *auth_new(const char *admin_token);
void auth_free(struct auth *a);
/* Checks an Authorization header value ("Bearer <token>"; NULL when absent). 0 and
 * *ret filled (borrowed from a, valid while a lives), or -EACCES. */
int auth_check(const struct auth *a, const char *authorization, struct auth_identity *ret);

#endif
