/* Defaults as Kubernetes applies them to core/v1 objects on create and update. */
#ifndef SKIFF_API_DEFAULTS_H
#define SKIFF_API_DEFAULTS_H

#include <json-c/json.h>

#include "api/resources.h"

/* Fills what the user left out (restartPolicy, dnsPolicy, terminationGracePeriodSeconds,
 * protocol, targetPort, sessionAffinity, Service type, RC selector from template labels,
 * RC replicas, imagePullPolicy, terminationMessagePath, ...). Never overrides a set field. */
void defaults_apply(const struct resource *r, json_object *obj);

#endif
