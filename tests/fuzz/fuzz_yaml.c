/* YAML (libyaml) to JSON, as request bodies and config files are read. */
#include <json-c/json.h>

#include <skiff/yaml.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL;
	char *err = NULL;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (yaml_to_json((const char *)data, size, &o, &err) == 0)
		json_object_to_json_string(o);
	json_object_put(o);
	free(err);
	return 0;
}
