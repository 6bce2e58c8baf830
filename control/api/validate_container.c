/* Container rules of pkg/apis/core/validation: name, image, pull and termination policies,
 * ports, env, resources (quantities, requests <= limits), probes, volume mounts. */
#include "api/validate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <skiff/cleanup.h>

#include "api/quantity.h"

#define QUANTITY_REGEX_MSG "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

/* A quantity as written: JSON strings as they are, numbers (YAML "cpu: 1") as printed. */
static const char *quantity_text(json_object *v)
{
	if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double))
		return json_object_get_string(v);
	return NULL;
}

static bool is_standard_container_resource(const char *name)
{
	return strcmp(name, "cpu") == 0 || strcmp(name, "memory") == 0 || strcmp(name, "ephemeral-storage") == 0 ||
	       strncmp(name, "hugepages-", 10) == 0;
}

static void check_quantity_map(json_object *map, const char *field, struct field_errors *errs)
{
	char path[320];
	struct name_msgs m;

	json_object_object_foreach(map, name, v) {
		const char *text = quantity_text(v);
		int64_t milli;
		int r;

		field_path(path, sizeof(path), "%s[%s]", field, name);
		name_check_qualified(name, &m);
		field_errors_add_name_msgs(errs, path, name, &m);
		if (!strchr(name, '/') && !is_standard_container_resource(name))
			field_errors_invalid_str(errs, path, name, "must be a standard resource for containers");
		if (!text || !quantity_valid(text)) {
			field_errors_invalid_str(errs, path, text ? text : json_object_to_json_string(v),
						 QUANTITY_REGEX_MSG);
			continue;
		}
		r = quantity_parse_milli(text, &milli);
		if ((r == 0 && milli < 0) || (r == -ERANGE && text[0] == '-'))
			field_errors_invalid_str(errs, path, text, "must be greater than or equal to 0");
	}
}

/* -1, 0, 1 as a < b, a == b, a > b; 0 when either does not parse. */
static int quantity_cmp(const char *a, const char *b)
{
	int64_t x, y;

	if (quantity_parse_milli(a, &x) < 0 || quantity_parse_milli(b, &y) < 0) {
		if (quantity_parse_value(a, &x) < 0 || quantity_parse_value(b, &y) < 0)
			return 0;
	}
	return (x > y) - (x < y);
}

void validate_resources(json_object *res, const char *field, struct field_errors *errs)
{
	json_object *limits = vj_obj(res, "limits"), *requests = vj_obj(res, "requests");
	char path[300], detail[512];

	field_path(path, sizeof(path), "%s.limits", field);
	if (limits)
		check_quantity_map(limits, path, errs);
	field_path(path, sizeof(path), "%s.requests", field);
	if (!requests)
		return;
	check_quantity_map(requests, path, errs);
	json_object_object_foreach(requests, name, v) {
		json_object *lim = NULL;
		const char *req_text = quantity_text(v), *lim_text;

		if (!limits || !json_object_object_get_ex(limits, name, &lim))
			continue;
		lim_text = quantity_text(lim);
		if (!req_text || !lim_text || !quantity_valid(req_text) || !quantity_valid(lim_text))
			continue;
		if (quantity_cmp(req_text, lim_text) > 0) {
			snprintf(detail, sizeof(detail), "must be less than or equal to %s limit of %s", name, lim_text);
			field_errors_invalid_str(errs, path, req_text, detail);
		}
	}
}

/* A probe's httpGet/tcpSocket port: a number or an IANA port name. */
static void check_probe_port(json_object *handler, const char *field, struct field_errors *errs)
{
	json_object *port = json_object_object_get(handler, "port");
	char path[320];
	struct name_msgs m;

	field_path(path, sizeof(path), "%s.port", field);
	if (port && json_object_is_type(port, json_type_string)) {
		name_check_port_name(json_object_get_string(port), &m);
		field_errors_add_name_msgs(errs, path, json_object_get_string(port), &m);
	} else {
		validate_port_num(handler, "port", path, true, errs);
	}
}

static void check_probe(json_object *probe, const char *field, bool success_one, struct field_errors *errs)
{
	static const char *const handlers[] = { "exec", "httpGet", "tcpSocket", "grpc" };
	static const char *const counts[] = { "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
					      "successThreshold", "failureThreshold",
					      "terminationGracePeriodSeconds" };
	char path[320];
	int found = 0;
	int64_t v;

	for (size_t i = 0; i < ELEMENTSOF(handlers); i++) {
		json_object *h = vj_obj(probe, handlers[i]);

		if (!h)
			continue;
		field_path(path, sizeof(path), "%s.%s", field, handlers[i]);
		if (found++) {
			field_errors_forbidden(errs, path, "may not specify more than 1 handler type");
			continue;
		}
		if (strcmp(handlers[i], "httpGet") == 0 || strcmp(handlers[i], "tcpSocket") == 0)
			check_probe_port(h, path, errs);
	}
	if (!found)
		field_errors_required(errs, field, "must specify a handler type");
	for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
		field_path(path, sizeof(path), "%s.%s", field, counts[i]);
		validate_nonnegative(probe, counts[i], path, errs);
	}
	if (success_one && vj_int(probe, "successThreshold", &v) && v != 1) {
		field_path(path, sizeof(path), "%s.successThreshold", field);
		field_errors_invalid_int(errs, path, v, "must be 1");
	}
}

static void check_ports(json_object *ports, const char *field, struct field_errors *errs)
{
	char path[320];
	struct name_msgs m;
	size_t n = ports ? json_object_array_length(ports) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		const char *name = vj_str(p, "name");

		field_path(path, sizeof(path), "%s[%zu].name", field, i);
		if (name && *name) {
			name_check_port_name(name, &m);
			field_errors_add_name_msgs(errs, path, name, &m);
			for (size_t j = 0; j < i; j++) {
				const char *prev = vj_str(json_object_array_get_idx(ports, j), "name");

				if (prev && strcmp(prev, name) == 0) {
					field_errors_duplicate_str(errs, path, name);
					break;
				}
			}
		}
		field_path(path, sizeof(path), "%s[%zu].containerPort", field, i);
		validate_port_num(p, "containerPort", path, true, errs);
		field_path(path, sizeof(path), "%s[%zu].hostPort", field, i);
		validate_port_num(p, "hostPort", path, false, errs);
		field_path(path, sizeof(path), "%s[%zu].protocol", field, i);
		validate_protocol(p, path, errs);
	}
}

static void check_env(json_object *env, const char *field, struct field_errors *errs)
{
	char path[320];
	size_t n = env ? json_object_array_length(env) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = vj_str(json_object_array_get_idx(env, i), "name");

		field_path(path, sizeof(path), "%s[%zu].name", field, i);
		if (!name || !*name)
			field_errors_required(errs, path, NULL);
	}
}

static bool volume_exists(json_object *volumes, const char *name)
{
	size_t n = volumes ? json_object_array_length(volumes) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *v = vj_str(json_object_array_get_idx(volumes, i), "name");

		if (v && strcmp(v, name) == 0)
			return true;
	}
	return false;
}

static void check_mounts(json_object *mounts, const char *field, json_object *volumes, struct field_errors *errs)
{
	char path[320];
	size_t n = mounts ? json_object_array_length(mounts) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		const char *name = vj_str(m, "name"), *mount_path = vj_str(m, "mountPath");

		field_path(path, sizeof(path), "%s[%zu].name", field, i);
		if (!name || !*name)
			field_errors_required(errs, path, NULL);
		else if (!volume_exists(volumes, name))
			field_errors_not_found_str(errs, path, name);
		field_path(path, sizeof(path), "%s[%zu].mountPath", field, i);
		if (!mount_path || !*mount_path)
			field_errors_required(errs, path, NULL);
	}
}

static void check_policies(json_object *c, const char *field, struct field_errors *errs)
{
	static const char *const pull[] = { "Always", "IfNotPresent", "Never", NULL };
	const char *policy = vj_str(c, "imagePullPolicy");
	const char *tmp = vj_str(c, "terminationMessagePolicy");
	char path[320];
	bool ok = false;

	field_path(path, sizeof(path), "%s.imagePullPolicy", field);
	if (!policy || !*policy) {
		field_errors_required(errs, path, NULL);
	} else {
		for (size_t i = 0; pull[i]; i++)
			ok |= strcmp(policy, pull[i]) == 0;
		if (!ok)
			field_errors_not_supported(errs, path, policy, pull);
	}
	field_path(path, sizeof(path), "%s.terminationMessagePolicy", field);
	if (!tmp || !*tmp)
		field_errors_required(errs, path, "must be 'File' or 'FallbackToLogsOnError'");
	else if (strcmp(tmp, "File") != 0 && strcmp(tmp, "FallbackToLogsOnError") != 0)
		field_errors_invalid_str(errs, path, tmp, "must be 'File' or 'FallbackToLogsOnError'");
}

static void check_image(const char *image, const char *field, struct field_errors *errs)
{
	size_t len = image ? strlen(image) : 0;

	if (len == 0)
		field_errors_required(errs, field, NULL);
	else if (isspace((unsigned char)image[0]) || isspace((unsigned char)image[len - 1]))
		field_errors_invalid_str(errs, field, image, "must not have leading or trailing whitespace");
}

void validate_container(json_object *c, const char *field, bool init, json_object *volumes,
			struct field_errors *errs)
{
	static const char *const probes[] = { "livenessProbe", "readinessProbe", "startupProbe" };
	const char *name = vj_str(c, "name");
	char path[300];
	struct name_msgs m;

	field_path(path, sizeof(path), "%s.name", field);
	if (!name || !*name) {
		field_errors_required(errs, path, NULL);
	} else {
		name_check_dns1123_label(name, &m);
		field_errors_add_name_msgs(errs, path, name, &m);
	}
	field_path(path, sizeof(path), "%s.image", field);
	check_image(vj_str(c, "image"), path, errs);
	check_policies(c, field, errs);
	field_path(path, sizeof(path), "%s.ports", field);
	check_ports(vj_arr(c, "ports"), path, errs);
	field_path(path, sizeof(path), "%s.env", field);
	check_env(vj_arr(c, "env"), path, errs);
	field_path(path, sizeof(path), "%s.resources", field);
	validate_resources(vj_obj(c, "resources"), path, errs);
	field_path(path, sizeof(path), "%s.volumeMounts", field);
	check_mounts(vj_arr(c, "volumeMounts"), path, volumes, errs);
	for (size_t i = 0; i < ELEMENTSOF(probes); i++) {
		json_object *probe = vj_obj(c, probes[i]);

		field_path(path, sizeof(path), "%s.%s", field, probes[i]);
		if (probe && init)
			field_errors_forbidden(errs, path, "may not be set for init containers without restartPolicy=Always");
		else if (probe)
			check_probe(probe, path, i != 1, errs);
	}
}
