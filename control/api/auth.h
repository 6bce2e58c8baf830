/* Who is calling: bearer-token authentication of API requests: the admin token, and the
 * per-node tokens that `skiff-agent --join` obtains (user "system:node:<name>"). */
#ifndef SKIFF_API_AUTH_H
#define SKIFF_API_AUTH_H

#include <stdatomic.h>
#include <stddef.h>

#define AUTH_MAX_GROUPS 4

/* What one identity has in flight, for the per-identity bounds (429). */
struct auth_load {
	atomic_uint requests;
	atomic_uint watches;
};

struct auth_identity {
	const char *user;                     /* "kubernetes-admin" */
	const char *groups[AUTH_MAX_GROUPS];  /* "system:masters", "system:authenticated" */
	size_t n_groups;
	const char *node;                     /* a node identity's node name; NULL otherwise */
	struct auth_load *load;               /* shared by every request of this identity */
};

struct auth;

/* admin_token is copied. NULL with errno set. */
struct auth *auth_new(const char *admin_token);
void auth_free(struct auth *a);
/* Checks an Authorization header value ("Bearer <token>"; NULL when absent). 0 and
 * *ret filled (borrowed from a, valid while a lives), or -EACCES. */
int auth_check(struct auth *a, const char *authorization, struct auth_identity *ret);

/* Adds (or replaces: the node's earlier token stops working) the token whose SHA-256 hex is
 * hash as node's credential. Identities handed out earlier stay valid memory. */
int auth_add_node(struct auth *a, const char *node, const char *hash);
/* The store join credentials are kept in (set with the etcd store, so that every instance
 * shares them; NULL: the data dir's files). Set before serving. */
struct store;
void auth_set_store(struct auth *a, struct store *s);
struct store *auth_store(struct auth *a);

#endif
