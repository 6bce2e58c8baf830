/* Label and field selectors: parsed, then matched against a pod. The input is "labels\nfields". */
#include <json-c/json.h>

#include "api/selector.h"
#include "fuzz.h"

static json_object *pod(void)
{
	return json_tokener_parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\","
				  "\"tier\":\"1\"}},\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct label_selector *ls = NULL;
	struct field_selector *fs = NULL;
	json_object *p = pod(), *labels = NULL;
	char *s = fuzz_str(data, size), *nl, *err = NULL;

	if (!s || size > FUZZ_MAX_INPUT)
		goto out;
	nl = strchr(s, '\n');
	if (nl)
		*nl++ = '\0';
	if (label_selector_parse(s, &ls, &err) == 0) {
		json_object *meta;

		if (json_object_object_get_ex(p, "metadata", &meta) && json_object_object_get_ex(meta, "labels", &labels))
			label_selector_matches(ls, labels);
		label_selector_empty(ls);
	}
	free(err);
	err = NULL;
	if (nl && field_selector_parse(nl, data[0] & 1 ? "pods" : "nodes", &fs, &err) == 0) {
		field_selector_matches(fs, p);
		field_selector_exact(fs, "spec.nodeName");
	}
out:
	label_selector_free(ls);
	field_selector_free(fs);
	json_object_put(p);
	free(err);
	free(s);
	return 0;
}
