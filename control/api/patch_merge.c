/* RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
#include "api/patch.h"

#include <skiff/json.h>

#include <errno.h>

/* Returns a new value: target (borrowed, may be NULL) with patch merged in. */
static json_object *merge(json_object *target, json_object *patch)
{
	json_object *out;

	if (!json_object_is_type(patch, json_type_object))
		return json_clone(patch);
	out = json_object_is_type(target, json_type_object) ? json_clone(target) : json_object_new_object();
	if (!out)
		return NULL;
	json_object_object_foreach(patch, k, v) {
		json_object *cur = NULL, *nv;

		if (!v) {
			json_object_object_del(out, k);
			continue;
		}
		json_object_object_get_ex(out, k, &cur);
		nv = merge(cur, v);
		if (!nv || json_object_object_add(out, k, nv) < 0) {
			json_object_put(nv);
			json_object_put(out);
			return NULL;
		}
	}
	return out;
}

int patch_merge(json_object *orig, json_object *patch, json_object **ret, char **ret_err)
{
	json_object *out;

	(void)ret_err; /* every JSON value is a valid merge patch */
	out = merge(orig, patch);
	/* A null patch yields null, which json-c spells NULL as well. */
	if (!out && patch)
		return -ENOMEM;
	*ret = out;
	return 0;
}
