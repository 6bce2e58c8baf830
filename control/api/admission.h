/* What Kubernetes' strategies and admission plugins do to an object before it is
 * written: the fields a create or update takes from the server rather than the client
 * (PrepareForCreate / PrepareForUpdate), pod QoS, namespace lifecycle. */
#ifndef SKIFF_API_ADMISSION_H
#define SKIFF_API_ADMISSION_H

#include <json-c/json.h>
#include <stdbool.h>

#include "api/resources.h"
#include "api/status.h"
#include "store/store.h"

/* A create into namespace ns: 404 'namespaces "ns" not found' when it does not exist,
 * 403 while it is being terminated. res_name/name name the object in the message. */
int admission_namespace(struct store *s, const char *ns, const char *res_name, const char *name,
			struct api_status *st);
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
