/* What Kubernetes' strategies and admission plugins do to an object before it is
 * written: the fields a create or update takes from the server rather than the client
 * (PrepareForCreate / PrepareForUpdate), pod QoS, namespace lifecycle. */
#ifndef SKIFF_API_ADMISSION_H
#define SKIFF_API_ADMISSION_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/resources.h"
#include "api/status.h"
#include "store/store.h"

/* A create into namespace ns: 404 'namespaces "ns" not found' when it does not exist,
 * 403 while it is being terminated. res_name/name name the object in the message. */
int admission_namespace(struct store *s, const char *ns, const char *res_name, const char *name,
			struct api_status *st);
/* The namespace cache of admission_namespace (admission_ns.c), one per store: attached by
 * the registry, detached before the store closes; without one every create reads the store.
 * lookup: 1 if ns is active as of every namespace write the store has published, else 0 (read
 * the store, then learn what was read with the gen lookup returned). */
int admission_ns_cache_attach(struct store *s);
void admission_ns_cache_detach(struct store *s);
int admission_ns_cache_lookup(struct store *s, const char *ns, uint64_t *ret_gen);
void admission_ns_cache_learn(struct store *s, const char *ns, int64_t mod_rev, bool active, uint64_t gen);
/* Whether a stored namespace is being terminated. */
bool admission_ns_terminating(const char *value);
/* default, kube-system and kube-public cannot be deleted (403). */
bool admission_namespace_immortal(const char *name);

/* Server-set metadata (uid, creationTimestamp, generation 1) and the status a new object
 * starts with (pods Pending with their QoS class, services and RCs cleared, namespaces
 * Active; nodes keep what their agent registers). */
int admission_prepare_create(const struct resource *r, json_object *obj);
/* The object an update writes: obj with the immutable metadata of old, and either old's
 * status (subresource NULL) or only obj's status on old (subresource "status");
 * generation bumped when spec changed. New reference; NULL on ENOMEM. */
json_object *admission_prepare_update(const struct resource *r, json_object *obj, json_object *old,
				      const char *subresource);
/* "Guaranteed", "Burstable" or "BestEffort". */
const char *admission_pod_qos(json_object *pod);

#endif
