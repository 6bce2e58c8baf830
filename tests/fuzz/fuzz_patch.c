/* Every patch type over a document: the first byte picks merge, JSON, strategic or apply; the
 * rest is "document\0patch" (both JSON). */
#include <json-c/json.h>

#include "api/patch.h"
#include "fuzz.h"

static json_object *parse(const char *s, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *o = tok ? json_tokener_parse_ex(tok, s, (int)len) : NULL;

	json_tokener_free(tok);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "Pod", "Service", "ReplicationController", "Node", "Endpoints" };
	json_object *doc = NULL, *patch = NULL, *out = NULL;
	const char *sep, *kind;
	char *err = NULL;

	if (size < 2 || size > FUZZ_MAX_INPUT)
		return 0;
	sep = memchr(data + 1, '\0', size - 1);
	if (!sep)
		return 0;
	doc = parse((const char *)data + 1, (size_t)(sep - (const char *)data - 1));
	patch = parse(sep + 1, size - (size_t)(sep + 1 - (const char *)data));
	kind = kinds[(data[0] >> 2) % (sizeof(kinds) / sizeof(kinds[0]))];
	if (!doc || !patch)
		goto out;
	switch (data[0] & 3) {
	case 0:
		patch_merge(doc, patch, &out, &err);
		break;
	case 1:
		patch_json(doc, patch, &out, &err);
		break;
	case 2:
		patch_strategic(kind, doc, patch, &out, &err);
		break;
	default:
		patch_apply(kind, doc, patch, &out, &err);
		break;
	}
	if (out)
		json_object_to_json_string(out);
out:
	json_object_put(out);
	json_object_put(doc);
	json_object_put(patch);
	free(err);
	return 0;
}
