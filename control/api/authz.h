/* Authorization: what an authenticated identity may do. The admin (system:masters) may do
 * everything; a node identity ("system:node:<n>") may read what an agent needs, write only its
 * own Node and Lease, the status of pods bound to it, confirm deletion of those pods, and write
 * Events — as Kubernetes' Node authorizer and NodeRestriction admission allow a kubelet. */
#ifndef SKIFF_API_AUTHZ_H
#define SKIFF_API_AUTHZ_H

#include <stddef.h>

#include "api/auth.h"
#include "api/router.h"
#include "api/status.h"

/* What authz needs to know beyond the route: the name in a create's body, and which node a pod
 * is bound to (read from the store only when a node writes a pod). */
struct authz_input {
	const char *body; /* the request body (creates name their object there) */
	size_t body_len;
	void *ud;
	/* spec.nodeName of pod ns/name into *ret (caller frees; NULL when unbound): 0, or -ENOENT. */
	int (*pod_node)(void *ud, const char *ns, const char *name, char **ret);
};

/* 0 when allowed; -EACCES with *st the 403 Status Kubernetes sends
 * (`nodes "n2" is forbidden: User "system:node:n1" cannot patch resource "nodes" in API group ""
 * at the cluster scope`). */
int authz_check(const struct auth_identity *who, const struct route *rt, const struct authz_input *in,
		struct api_status *st);

#endif
