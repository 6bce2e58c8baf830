/* The HTTPS server of skiff-control (libmicrohttpd + GnuTLS): one thread per connection,
 * request bodies accumulated up to a limit, authentication, routing, and answers. */
#ifndef SKIFF_API_SERVER_H
#define SKIFF_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/auth.h"
#include "api/registry.h"

struct server_config {
	const char *host;     /* numeric address to bind */
	unsigned port;
	const char *cert_pem; /* must stay valid while the server runs */
	const char *key_pem;
	struct auth *auth;
	struct registry *reg;
	unsigned connection_limit;
	unsigned idle_timeout_s;
	size_t max_body_bytes;
	size_t thread_stack_bytes;
	const char *data_dir; /* join: bootstrap and node tokens */
	const char *ca_pem;   /* join: served at /skiff/v1/cluster-info */
	unsigned max_requests_inflight; /* per identity (0: no bound) */
	unsigned max_watches_inflight;
};

struct server;

/* Starts serving at once. NULL with errno set. */
struct server *server_start(const struct server_config *cfg);
/* The bound port (useful when cfg->port was 0). */
unsigned server_port(const struct server *srv);
/* /readyz answers ok only once this is set. */
void server_set_ready(struct server *srv, bool ready);
/* Ends watch streams, closes every connection, waits for their threads. Accepts NULL. */
void server_stop(struct server *srv);

#endif
