/* The agent's own HTTPS endpoint (libmicrohttpd + GnuTLS), through which the API server serves
 * kubectl logs and exec: it accepts only a client certificate signed by the cluster CA with
 * the API server's name (see include/skiff/agent_proto.h for the paths). */
#ifndef SKIFF_AGENT_SERVER_H
#define SKIFF_AGENT_SERVER_H

#include "pods/runtime.h"

struct agent_server_config {
	const char *address;       /* numeric IPv4 or IPv6 address to bind */
	unsigned port;             /* 0: any free port (tests) */
	const char *cert_dir;      /* a self-signed serving certificate is made here at first start */
	const char *node_name;     /* in that certificate's name */
	const char *client_ca_pem; /* the CA that signs the API server's client certificate */
	const char *client_cn;     /* the name it must carry (NULL: AGENT_PROTO_CLIENT_CN) */
	struct pod_runtime *rt;    /* borrowed: the pods whose logs and exec are served */
};

struct agent_server;

/* Starts serving at once. NULL with errno set (logged). */
struct agent_server *agent_server_start(const struct agent_server_config *cfg);
/* The bound port (useful when cfg->port was 0). */
unsigned agent_server_port(const struct agent_server *s);
/* Ends streams, closes every connection, waits for their threads. Accepts NULL. */
void agent_server_stop(struct agent_server *s);

/* <cert_dir>/serving.crt and serving.key: made (self-signed, ECDSA P-256, 10 years) when
 * missing, then read. PEM strings the caller frees. */
int agent_server_cert_ensure(const char *cert_dir, const char *node_name, char **ret_cert_pem, char **ret_key_pem);

#endif
