/* Lease rules as coordination/validation.ValidateLease words them: a positive duration,
 * transitions not negative, a known strategy, and preferredHolder only with one. */
#include "api/validate.h"

#include <string.h>

static void check_spec(json_object *spec, struct field_errors *errs)
{
	static const char *const strategies[] = { "OldestEmulationVersion", NULL };
	const char *strategy = vj_str(spec, "strategy"), *preferred = vj_str(spec, "preferredHolder");
	int64_t v;

	if (vj_int(spec, "leaseDurationSeconds", &v) && v <= 0)
		field_errors_invalid_int(errs, "spec.leaseDurationSeconds", v, "must be greater than 0");
	validate_nonnegative(spec, "leaseTransitions", "spec.leaseTransitions", errs);
	if (strategy && *strategy && strcmp(strategy, strategies[0]) != 0)
		field_errors_not_supported(errs, "spec.strategy", strategy, strategies);
	if (preferred && *preferred && !(strategy && *strategy))
		field_errors_forbidden(errs, "spec.preferredHolder", "may only be specified if `strategy` is defined");
}

void validate_lease(json_object *obj, json_object *old, const char *subresource, struct field_errors *errs)
{
	(void)subresource;
	validate_object_meta(obj, old, true, name_check_dns1123_subdomain, errs);
	check_spec(vj_obj(obj, "spec"), errs);
}
