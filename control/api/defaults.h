/* Defaults as Kubernetes applies them to core/v1 objects on create and update. */
#ifndef SKIFF_API_DEFAULTS_H
#define SKIFF_API_DEFAULTS_H

#include <json-c/json.h>

#include "api/resources.h"

/* Fills what the user left out (restartPolicy, dnsPolicy, terminationGracePeriodSeconds,
 * protocol, targetPort, sessionAffinity, Service type, RC selector from template labels,
 * RC replicas, imagePullPolicy, terminationMessagePath, ...). Never overrides a set field. */
void defaults_apply(const struct resource *r, json_object *obj);

/* Shared by the defaults_*.c files: set key to v when obj lacks it (takes v either way). */
void defaults_set(json_object *obj, const char *key, json_object *v);
/* Pod spec defaults (dnsPolicy, restartPolicy, containers, ...), for pods and templates. */
void defaults_pod_spec(json_object *spec);
/* Pod defaults: the spec's, plus tolerations, priority, requests from limits, status. */
void defaults_pod(json_object *pod);
/* "Guaranteed", "Burstable" or "BestEffort" from the containers' requests and limits. */
const char *defaults_pod_qos(json_object *spec);

#endif
