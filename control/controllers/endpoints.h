/* The endpoints controller: for each Service with a selector, an Endpoints object of the
 * same name listing its pods' addresses (ready and not ready) and resolved ports. */
#ifndef SKIFF_CONTROLLERS_ENDPOINTS_H
#define SKIFF_CONTROLLERS_ENDPOINTS_H

#include <json-c/json.h>
#include <stddef.h>

#include "api/registry.h"

struct endpoints_controller;

struct endpoints_controller *endpoints_controller_start(struct registry *reg);
void endpoints_controller_stop(struct endpoints_controller *c);

/* The container port a service port reaches on pod: targetPort as a number, or a named
 * targetPort looked up in the pod's container ports (same protocol). 0 or -ENOENT. */
int endpoints_resolve_port(json_object *svc_port, json_object *pod, int64_t *ret);
/* The subsets of svc's Endpoints from the pods (those its selector matched). New reference
 * (an array, maybe empty); NULL on ENOMEM. */
json_object *endpoints_subsets(json_object *svc, json_object **pods, size_t n);

#endif
