/* The controllers' event recorder: core/v1 Events about the objects they act on, so
 * `kubectl describe` and `kubectl get events` tell what happened and why. */
#ifndef SKIFF_CONTROLLERS_EVENTS_H
#define SKIFF_CONTROLLERS_EVENTS_H

#include <json-c/json.h>

#include "api/registry.h"

#define EVENT_NORMAL "Normal"
#define EVENT_WARNING "Warning"

/* The Event object about obj (kind, name, namespace, uid from obj; cluster-scoped objects'
 * events live in "default"). New reference; NULL on ENOMEM. */
json_object *event_build(json_object *obj, const char *component, const char *type, const char *reason,
			 const char *message);
/* Builds and creates one. Events are best effort: a failure is logged at debug level only. */
void event_record(struct registry *reg, json_object *obj, const char *component, const char *type,
		  const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
