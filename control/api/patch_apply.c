/* Server-side apply, simplified to a single field manager: the applied configuration is
 * merged into the live object with the strategic list strategies; unmentioned fields stay. */
#include "api/patch.h"

#include <skiff/json.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* An apply body is a whole configuration, never a patch: merging it into an empty object
 * drops nulls and processes nothing else, so a new object looks as an update would. */
int patch_apply(const char *kind, json_object *orig, json_object *applied, json_object **ret, char **ret_err)
{
	_cleanup_json_ json_object *empty = NULL;

	if (!json_object_is_type(applied, json_type_object)) {
		if (ret_err && asprintf(ret_err, "apply: the configuration must be a JSON or YAML object") < 0)
			*ret_err = NULL;
		return -EINVAL;
	}
	if (orig)
		return patch_strategic(kind, orig, applied, ret, ret_err);
	empty = json_object_new_object();
	if (!empty)
		return -ENOMEM;
	return patch_strategic(kind, empty, applied, ret, ret_err);
}
