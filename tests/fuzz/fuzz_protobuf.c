/* Protobuf request bodies (runtime.Unknown with a Namespace or Service inside), as kubectl's
 * typed client sends them. */
#include <json-c/json.h>

#include "api/handlers.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_status st = { 0 };
	json_object *o = NULL;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (handlers_decode_protobuf((const char *)data, size, &o, &st) == 0)
		json_object_to_json_string(o);
	json_object_put(o);
	api_status_clear(&st);
	return 0;
}
