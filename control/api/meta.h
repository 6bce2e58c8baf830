/* Object metadata helpers shared by the registry files: uids, timestamps, generated
 * names, resourceVersion in and out of the stored form. */
#ifndef SKIFF_API_META_H
#define SKIFF_API_META_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

#define META_UID_LEN 37       /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" + NUL */
#define META_TIMESTAMP_LEN 21 /* "2026-11-28T10:00:00Z" + NUL */

/* A random UUID v4. */
int meta_new_uid(char ret[META_UID_LEN]);
/* RFC 3339 UTC with seconds. */
void meta_timestamp(time_t t, char ret[META_TIMESTAMP_LEN]);
/* prefix + 5 random characters of Kubernetes' alphabet. Caller frees; NULL on ENOMEM. */
char *meta_generate_name(const char *prefix);

/* The metadata object of obj, created when missing (borrowed). */
json_object *meta_of(json_object *obj);
const char *meta_name(json_object *obj);
const char *meta_namespace(json_object *obj);
void meta_set_string(json_object *obj, const char *field, const char *value);
void meta_remove(json_object *obj, const char *field);

/* Decimal resourceVersion to a revision: 0 for NULL or "", -EINVAL when not a positive number. */
int meta_parse_rv(const char *s, int64_t *ret_rev);
void meta_set_rv(json_object *obj, int64_t rev);
/* A stored value parsed, with metadata.resourceVersion = rev. NULL when unparsable. */
json_object *meta_from_stored(const char *value, int64_t rev);
json_object *meta_from_kv(const struct store_kv *kv);
/* The stored form: obj's JSON without metadata.resourceVersion (obj is left as it was).
 * Caller frees; NULL on ENOMEM. */
char *meta_to_stored(json_object *obj);

/* Deep equality of two JSON values (either may be NULL). */
bool meta_json_equal(json_object *a, json_object *b);
/* Has metadata.deletionTimestamp. */
bool meta_deleting(json_object *obj);
/* metadata.finalizers is a non-empty array. */
bool meta_has_finalizers(json_object *obj);
/* The finalizers deleteOptions.propagationPolicy asks for (the garbage collector clears them). */
#define META_FINALIZER_ORPHAN "orphan"
#define META_FINALIZER_FOREGROUND "foregroundDeletion"
/* Appends name to metadata.finalizers unless it is there. 0 or -ENOMEM. */
int meta_add_finalizer(json_object *obj, const char *name);

#endif
