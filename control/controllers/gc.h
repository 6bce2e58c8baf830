/* The garbage collector: deletes dependents whose owners (ownerReferences by uid) are
 * gone — background cascading — and honours the orphan and foregroundDeletion finalizers
 * of owners being deleted. */
#ifndef SKIFF_CONTROLLERS_GC_H
#define SKIFF_CONTROLLERS_GC_H

#include <json-c/json.h>

#include "api/meta.h"
#include "api/registry.h"

#define FINALIZER_ORPHAN META_FINALIZER_ORPHAN
#define FINALIZER_FOREGROUND META_FINALIZER_FOREGROUND

struct gc_controller;

struct gc_controller *gc_controller_start(struct registry *reg);
void gc_controller_stop(struct gc_controller *c);

#endif
