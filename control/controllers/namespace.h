/* The namespace teardown loop: when a namespace is marked for deletion, deletes every
 * object in it, then the namespace itself. Driven by a store watch on namespaces. */
#ifndef SKIFF_CONTROLLERS_NAMESPACE_H
#define SKIFF_CONTROLLERS_NAMESPACE_H

#include "api/registry.h"

struct namespace_controller;

/* Starts the loop's thread. NULL with errno set. */
struct namespace_controller *namespace_controller_start(struct registry *reg);
/* Stops and joins the thread; accepts NULL. */
void namespace_controller_stop(struct namespace_controller *c);

#endif
