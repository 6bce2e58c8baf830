/* Join credentials kept in the data dir: bootstrap tokens ("id.secret", made by `skiffctl token
 * create`, good for one `skiff-agent --join` before they expire) and the per-node bearer tokens a
 * join hands out. Only SHA-256 hashes of secrets are stored, so reading the data dir does not
 * give anyone a credential that still works. */
#ifndef SKIFF_API_TOKENS_H
#define SKIFF_API_TOKENS_H

#define TOKEN_HASH_HEX 65 /* SHA-256 in hex + NUL */

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

/* "sha256:<hex>" of the CA certificate's SubjectPublicKeyInfo (as kubeadm's
 * --discovery-token-ca-cert-hash): what a joining node checks the served CA against. */
#define CA_HASH_LEN (7 + TOKEN_HASH_HEX)
int ca_cert_hash(const char *ca_pem, char ret[CA_HASH_LEN]);
/* A node name usable as a file name and a DNS-1123 subdomain. */
int node_name_valid(const char *name);

#endif
