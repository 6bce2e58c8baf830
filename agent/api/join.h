/* `skiff-agent --join URL --token T --ca-cert-hash sha256:H`: trades a bootstrap token for the
 * node's own credential once and keeps it as <root-dir>/node.kubeconfig (mode 0600); later
 * starts reuse that file. The server is trusted only after its CA matches the hash. */
#ifndef SKIFF_AGENT_API_JOIN_H
#define SKIFF_AGENT_API_JOIN_H

/* Path of the stored credential (caller frees). */
char *join_credential_path(const char *root_dir);

/* Joins unless the credential exists; 0 with the kubeconfig at join_credential_path(root_dir).
 * Errors are logged with what to do about them. */
int join_cluster(const char *server, const char *bootstrap_token, const char *ca_hash, const char *node,
		 const char *root_dir);

#endif
