/* The garbage collector: deletes dependents whose owners (ownerReferences by uid) are
 * gone — background cascading — and honours the orphan and foregroundDeletion finalizers
 * of owners being deleted. */
#ifndef SKIFF_CONTROLLERS_GC_H
#define SKIFF_CONTROLLERS_GC_H

#include <json-c/json.h>

#include "api/registry.h"

#define FINALIZER_ORPHAN "orphan"
#define FINALIZER_FOREGROUND "foregroundDeletion"

struct gc_controller;

struct gc_controller *gc_controller_start(struct registry *reg);
void gc_controller_stop(struct gc_controller *c);

#endif
