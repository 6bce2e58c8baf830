/* Pod bindings written many at once: the binding subresource's checks and edit for one
 * pod (shared with registry_bind), and a batch of them in one store txn. */
#ifndef SKIFF_API_REGISTRY_BIND_H
#define SKIFF_API_REGISTRY_BIND_H

#include <stddef.h>

#include "api/registry.h"

/* Checks a stored pod may be bound as POST pods/NAME/binding allows (409 in st when it is
 * already assigned or being deleted: -EEXIST) and sets spec.nodeName and PodScheduled. */
int registry_bind_apply(json_object *pod, const char *name, const char *node, struct api_status *st);

struct registry_binding {
	const char *ns, *name, *node; /* in */
	int rc;                       /* out: 0, or what registry_bind returns for this pod */
};

/* Binds n pods (at most 1,000) in store txns of store_max_txn_ops each, each write compared against the pod as it
 * read it; a pod whose compare fails is left out and bound alone through registry_bind
 * (which re-reads and retries). Returns how many were bound; each entry's rc says. */
size_t registry_bind_many(struct registry *reg, struct registry_binding *b, size_t n,
			  const struct write_options *wo);

#endif
