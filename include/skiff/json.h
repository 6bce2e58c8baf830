/* json-c conveniences shared by control plane, agent and tools. */
#ifndef SKIFF_JSON_H
#define SKIFF_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

static inline void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* Walks a dotted path ("metadata.labels"); NULL when any step is missing. Borrowed reference. */
json_object *json_get_path(json_object *obj, const char *dotted);
/* The string at a dotted path, or NULL when missing or not a string. Borrowed. */
const char *json_get_string(json_object *obj, const char *dotted);
/* The member key of object o when it has the given type; NULL when o is NULL, the key is
 * missing or of another type. Borrowed. */
json_object *json_member(json_object *o, const char *key, json_type type);
/* Returns the object at key, creating an empty object there when missing (or not an object).
 * NULL when obj is NULL. Borrowed. */
json_object *json_ensure_object(json_object *obj, const char *key);
/* The same for an array. */
json_object *json_ensure_array(json_object *obj, const char *key);
/* Deep copy; NULL on allocation failure. */
json_object *json_clone(json_object *obj);
/* Parses a whole buffer; NULL with *ret_err (static text) on failure. */
json_object *json_parse_buffer(const char *buf, size_t len, const char **ret_err);

#endif
