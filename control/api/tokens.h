/* Join credentials kept in the data dir: bootstrap tokens ("id.secret", made by `skiffctl token
 * create`, good for one `skiff-agent --join` before they expire) and the per-node bearer tokens a
 * join hands out. Only SHA-256 hashes of secrets are stored, so reading the data dir does not
 * give anyone a credential that still works. */
#ifndef SKIFF_API_TOKENS_H
#define SKIFF_API_TOKENS_H

#include <stdint.h>

#include "store/store.h"

#define TOKEN_HASH_HEX 65 /* SHA-256 in hex + NUL */
#define BOOTSTRAP_ID_LEN 6

/* "id.secret" as kubeadm spells it: [a-z0-9]{6} "." [a-z0-9]{16}. Written to
 * <data>/bootstrap-tokens/<id> with its hash and expiry (now + ttl_seconds). */
int bootstrap_token_create(const char *data_dir, long ttl_seconds, char **ret_token);
/* Checks and uses up a bootstrap token: 0 exactly once. -EACCES when unknown or the secret is
 * wrong, -EKEYEXPIRED past its expiry, -EALREADY when it was used; *ret_reason (static) says
 * which in words. */
int bootstrap_token_consume(const char *data_dir, const char *token, const char **ret_reason);

/* A fresh random token for node, its hash stored in <data>/node-tokens/<node> (replacing an
 * earlier one). ret_hash (TOKEN_HASH_HEX) gets the hash for the in-memory table. */
int node_token_issue(const char *data_dir, const char *node, char **ret_token, char *ret_hash);
/* Calls fn for every stored node token; stops at the first negative return. */
int node_tokens_load(const char *data_dir, int (*fn)(void *ud, const char *node, const char *hash), void *ud);

int token_hash(const char *token, char ret[TOKEN_HASH_HEX]);

/* The parts both keepings share. A new bootstrap token: its id, the hash of its secret, its
 * expiry (seconds since the epoch) and the token to hand out (caller frees). */
int bootstrap_token_mint(long ttl_seconds, char ret_id[BOOTSTRAP_ID_LEN + 1], char ret_hash[TOKEN_HASH_HEX],
			 long long *ret_expiry, char **ret_token);
/* "id.secret" → id and secret (borrowed from token); -EACCES when malformed. */
int bootstrap_token_split(const char *token, char id[BOOTSTRAP_ID_LEN + 1], const char **secret);
/* The secret against its stored hash and expiry: 0, -EACCES or -EKEYEXPIRED (*ret_reason says). */
int bootstrap_token_verify(const char *secret, const char *stored_hash, long long expiry, const char **ret_reason);
/* A fresh random node token (caller frees) and its hash. */
int node_token_mint(char **ret_token, char ret_hash[TOKEN_HASH_HEX]);

/* The same credentials kept in the store (tokens_store.c), so that every skiff-control
 * instance sharing an etcd accepts them: keys under TOKENS_STORE_PREFIX, outside /registry/,
 * so the API never serves them; values hold hashes only. */
#define TOKENS_STORE_PREFIX "/skiff-control/"
#define TOKENS_STORE_BOOTSTRAP TOKENS_STORE_PREFIX "bootstrap-tokens/"
#define TOKENS_STORE_NODES TOKENS_STORE_PREFIX "node-tokens/"
int bootstrap_token_create_in(struct store *s, long ttl_seconds, char **ret_token);
/* As bootstrap_token_consume; -ENOENT (not -EACCES) when the store does not know the token's id. */
int bootstrap_token_consume_in(struct store *s, const char *token, const char **ret_reason);
int node_token_issue_in(struct store *s, const char *node, char **ret_token, char *ret_hash);
/* Calls fn for every node token in the store, then for every one stored or replaced later
 * (from a thread of its own), until node_tokens_follow_stop. NULL with errno set. */
struct node_tokens_follow;
struct node_tokens_follow *node_tokens_follow_start(struct store *s,
						   int (*fn)(void *ud, const char *node, const char *hash), void *ud);
void node_tokens_follow_stop(struct node_tokens_follow *f);

/* "sha256:<hex>" of the CA certificate's SubjectPublicKeyInfo (as kubeadm's
 * --discovery-token-ca-cert-hash): what a joining node checks the served CA against. */
#define CA_HASH_LEN (7 + TOKEN_HASH_HEX)
int ca_cert_hash(const char *ca_pem, char ret[CA_HASH_LEN]);
/* A node name usable as a file name and a DNS-1123 subdomain. */
int node_name_valid(const char *name);

#endif
