/* ReplicationController rules: replicas, a non-empty selector that matches the template's
 * labels, a pod template that restarts Always; status and scale counts non-negative. */
#include "api/validate.h"

#include <string.h>

#include <skiff/cleanup.h>

#include "api/selector.h"

static void check_template(json_object *tmpl, json_object *selector, struct field_errors *errs)
{
	static const char *const always[] = { "Always", NULL };
	json_object *labels = vj_obj(vj_obj(tmpl, "metadata"), "labels");
	json_object *spec = vj_obj(tmpl, "spec");
	struct label_selector *sel = NULL;
	const char *restart = vj_str(spec, "restartPolicy");
	int64_t deadline;

	if (!tmpl) {
		field_errors_required(errs, "spec.template", NULL);
		return;
	}
	if (selector && label_selector_from_map(selector, &sel) == 0 && !label_selector_empty(sel) &&
	    !label_selector_matches(sel, labels)) {
		_cleanup_free_ char *repr = go_string_map(labels);

		field_errors_invalid_raw(errs, "spec.template.metadata.labels", repr ? repr : "",
					 "`selector` does not match template `labels`");
	}
	label_selector_free(sel);
	validate_labels(labels, "spec.template.metadata.labels", errs);
	validate_annotations(vj_obj(vj_obj(tmpl, "metadata"), "annotations"), "spec.template.metadata.annotations",
			     errs);
	validate_pod_spec(spec, "spec.template.spec", errs);
	if (restart && *restart && strcmp(restart, "Always") != 0)
		field_errors_not_supported(errs, "spec.template.spec.restartPolicy", restart, always);
	if (vj_int(spec, "activeDeadlineSeconds", &deadline))
		field_errors_invalid_int(errs, "spec.template.spec.activeDeadlineSeconds", deadline,
					 "activeDeadlineSeconds in ReplicationController is not Supported");
}

static void check_status(json_object *status, struct field_errors *errs)
{
	static const char *const counts[] = { "replicas", "fullyLabeledReplicas", "readyReplicas",
					      "availableReplicas", "observedGeneration" };
	char path[64];

	for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
		field_path(path, sizeof(path), "status.%s", counts[i]);
		validate_nonnegative(status, counts[i], path, errs);
	}
}

void validate_rc(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	json_object *spec = vj_obj(obj, "spec");
	json_object *selector = vj_obj(spec, "selector");

	validate_object_meta(obj, old, true, name_check_dns1123_subdomain, errs);
	if (subresource && strcmp(subresource, "status") == 0) {
		check_status(vj_obj(obj, "status"), errs);
		return;
	}
	validate_nonnegative(spec, "replicas", "spec.replicas", errs);
	if (subresource && strcmp(subresource, "scale") == 0)
		return;
	validate_nonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
	if (!selector || json_object_object_length(selector) == 0)
		field_errors_required(errs, "spec.selector", NULL);
	validate_labels(selector, "spec.selector", errs);
	check_template(vj_obj(spec, "template"), selector, errs);
}
