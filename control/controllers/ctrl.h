/* Helpers every controller shares: reads and retried writes through the registry,
 * pod predicates, owner references and the clocks. */
#ifndef SKIFF_CONTROLLERS_CTRL_H
#define SKIFF_CONTROLLERS_CTRL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/registry.h"

/* Monotonic milliseconds (timeouts) and realtime seconds (timestamps shown to users). */
int64_t ctrl_now_ms(void);
/* RFC 3339 timestamp ("2026-11-28T10:00:00Z") to seconds since the epoch; -1 when unparsable. */
int64_t ctrl_parse_time(const char *s);

/* The List of a resource in ns (NULL: all namespaces) with an optional field selector.
 * *ret_items is borrowed from *ret_list. */
int ctrl_list(struct registry *reg, const char *resource, const char *ns, const char *field_selector,
	      json_object **ret_list, json_object **ret_items);

/* Edits an object in place: 0 when it changed (write it), 1 when there is nothing to
 * write, or a negative errno. */
typedef int (*ctrl_mutate_fn)(json_object *obj, void *arg);
/* Read, mutate, write (subresource NULL or "status"), retried while others write the same
 * object. 0 (and *ret, if not NULL, the object as written or as it is), 1 nothing to do,
 * -ENOENT when the object is gone. */
int ctrl_update(struct registry *reg, const char *resource, const char *ns, const char *name,
		const char *subresource, ctrl_mutate_fn mutate, void *arg, json_object **ret);
/* Deletes one object (grace -1: the object's own). 0 or -ENOENT or another errno. */
int ctrl_delete(struct registry *reg, const char *resource, const char *ns, const char *name, int64_t grace,
		const char *precondition_uid);

/* Pods. */
bool pod_is_terminal(json_object *pod);  /* phase Succeeded or Failed */
bool pod_condition_true(json_object *pod, const char *type);
bool pod_is_ready(json_object *pod);     /* Ready True and not being deleted */

/* The ownerReference with controller: true, or NULL (borrowed). */
json_object *owner_controller_ref(json_object *obj);
/* The ownerReference with this uid, or NULL (borrowed). */
json_object *owner_ref_by_uid(json_object *obj, const char *uid);
/* Removes the ownerReference with this uid; true when one was removed. */
bool owner_ref_remove(json_object *obj, const char *uid);

/* A small set of strings (namespaces a batch of events touched). */
struct strset {
	char **v;
	size_t n;
};
int strset_add(struct strset *s, const char *str);
/* The namespace part of "ns/name" (caller frees); NULL when there is no slash or on ENOMEM. */
char *ctrl_ns_of(const char *ns_name);
/* Adds the part of "ns/name" before the slash. */
int strset_add_prefix(struct strset *s, const char *ns_name);
bool strset_has(const struct strset *s, const char *str);
void strset_clear(struct strset *s);

/* A JSON array of strings contains s. */
bool json_array_has_string(json_object *arr, const char *s);

#endif
