/* One Service (+ its Endpoints) to the lb_service frontends the data path should hold: ClusterIP
 * and NodePort per port, ready endpoints resolved by port name, traffic policies, affinity. */
#ifndef SKIFF_AGENT_PROXY_SYNC_BUILD_H
#define SKIFF_AGENT_PROXY_SYNC_BUILD_H

#include <json-c/json.h>
#include <stdbool.h>

#include "proxy/lb.h"

#define SYNC_AFFINITY_DEFAULT_SECONDS 10800

/* Frontends with their own storage (backends sorted by address, then port). */
struct sync_fe_set {
	struct lb_service *fe;
	size_t n;
};

/* svc: a Service (NULL: none, an empty set); eps: its Endpoints or NULL; node: this node's name
 * (internalTrafficPolicy / externalTrafficPolicy Local). Headless and ExternalName Services
 * give no frontends. 0 or -ENOMEM. */
int sync_build(json_object *svc, json_object *eps, const char *node, struct sync_fe_set *ret);
void sync_fe_set_done(struct sync_fe_set *s);

/* The frontend of s with a's key (vip, port, proto, node_port), or NULL. */
const struct lb_service *sync_fe_find(const struct sync_fe_set *s, const struct lb_service *a);
/* Same key, affinity, name and backends. */
bool sync_fe_equal(const struct lb_service *a, const struct lb_service *b);

#endif
