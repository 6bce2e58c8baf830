/* Object decoding and validation of every kind, as a create sees a body: the first byte picks
 * the resource, the rest is its body (JSON, or YAML as kubectl may send). Strict decoding,
 * defaulting, validation; every error must come back as a Status or field errors. */
#include <json-c/json.h>

#include <skiff/yaml.h>

#include "api/defaults.h"
#include "api/registry.h"
#include "api/resources.h"
#include "api/status.h"
#include "api/validate.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct resource *r;
	struct write_options wo = { .strict = true };
	struct api_status st = { 0 };
	struct field_errors errs = { 0 };
	json_object *body = NULL;
	char *s, *err = NULL;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	r = &resource_table[data[0] % resource_count];
	s = fuzz_str(data + 1, size - 1);
	if (!s)
		return 0;
	if (s[0] == '{') {
		json_tokener *tok = json_tokener_new_ex(64);

		body = json_tokener_parse_ex(tok, s, (int)(size - 1));
		json_tokener_free(tok);
	} else if (yaml_to_json(s, size - 1, &body, &err) < 0) {
		body = NULL;
	}
	if (body && registry_decode(r, r->namespaced ? "default" : NULL, NULL, body, &wo, &st) == 0) {
		defaults_apply(r, body);
		validate_object(r, body, NULL, NULL, &errs);
		if (errs.n) {
			free(field_errors_message(r->kind, "x", &errs));
			json_object_put(field_errors_details(r->kind, "x", &errs));
		}
		/* An update over itself: the immutable-field checks. */
		field_errors_free(&errs);
		errs = (struct field_errors){ 0 };
		validate_object(r, body, body, NULL, &errs);
	}
	field_errors_free(&errs);
	api_status_clear(&st);
	json_object_put(body);
	free(err);
	free(s);
	return 0;
}
