/* Field errors as Kubernetes' field.ErrorList words them, the Status message and details
 * they become, and the validate_object() dispatch by kind. */
#include "api/validate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

void field_errors_add(struct field_errors *errs, const char *reason, const char *field, const char *fmt, ...)
{
	struct field_error e = { 0 };
	va_list ap;
	int r;

	if (errs->n == errs->cap) {
		size_t cap = errs->cap ? errs->cap * 2 : 8;
		struct field_error *v = realloc(errs->v, cap * sizeof(*v));

		if (!v)
			return;
		errs->v = v;
		errs->cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&e.message, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	e.reason = strdup(reason);
	e.field = strdup(field);
	if (!e.reason || !e.field) {
		free(e.reason);
		free(e.field);
		free(e.message);
		return;
	}
	errs->v[errs->n++] = e;
}

void field_errors_free(struct field_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		free(errs->v[i].reason);
		free(errs->v[i].field);
		free(errs->v[i].message);
	}
	free(errs->v);
	errs->v = NULL;
	errs->n = errs->cap = 0;
}

/* The message without its "field: " prefix: field.Error.ErrorBody(), the causes' text. */
static const char *error_body(const struct field_error *e)
{
	size_t len = strlen(e->field);

	if (strncmp(e->message, e->field, len) == 0 && strncmp(e->message + len, ": ", 2) == 0)
		return e->message + len + 2;
	return e->message;
}

/* An aggregate drops repeated messages, as utilerrors.NewAggregate over a set does. */
static bool seen_before(const struct field_errors *errs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(errs->v[j].message, errs->v[i].message) == 0)
			return true;
	return false;
}

char *field_errors_message(const char *kind, const char *name, const struct field_errors *errs)
{
	_cleanup_free_ char *qname = go_quote(name ? name : "");
	char *buf = NULL;
	size_t len = 0, unique = 0;
	FILE *f;

	if (!qname)
		return NULL;
	for (size_t i = 0; i < errs->n; i++)
		unique += !seen_before(errs, i);
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "The %s %s is invalid", kind, qname);
	if (unique > 0)
		fputs(unique > 1 ? ": [" : ": ", f);
	for (size_t i = 0, k = 0; i < errs->n; i++) {
		if (seen_before(errs, i))
			continue;
		fprintf(f, "%s%s", k++ ? ", " : "", errs->v[i].message);
	}
	if (unique > 1)
		fputc(']', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

json_object *field_errors_details(const char *kind, const char *name, const struct field_errors *errs)
{
	json_object *d = json_object_new_object();
	json_object *causes = json_object_new_array();

	if (!d || !causes) {
		json_object_put(d);
		json_object_put(causes);
		return NULL;
	}
	json_object_object_add(d, "name", json_object_new_string(name ? name : ""));
	json_object_object_add(d, "kind", json_object_new_string(kind));
	for (size_t i = 0; i < errs->n; i++) {
		json_object *c = json_object_new_object();

		if (!c)
			continue;
		json_object_object_add(c, "reason", json_object_new_string(errs->v[i].reason));
		json_object_object_add(c, "message", json_object_new_string(error_body(&errs->v[i])));
		json_object_object_add(c, "field", json_object_new_string(errs->v[i].field));
		json_object_array_add(causes, c);
	}
	json_object_object_add(d, "causes", causes);
	return d;
}

void validate_object(const struct resource *r, json_object *obj, json_object *old, const char *subresource,
		     struct field_errors *errs)
{
	static const struct {
		const char *kind;
		void (*fn)(json_object *, json_object *, const char *, struct field_errors *);
	} table[] = {
		{ "Pod", validate_pod },		{ "Service", validate_service },
		{ "ReplicationController", validate_rc }, { "Node", validate_node },
		{ "Namespace", validate_namespace },	{ "Endpoints", validate_endpoints },
		{ "Event", validate_event },		{ "Lease", validate_lease },
	};

	if (!obj || !json_object_is_type(obj, json_type_object)) {
		field_errors_required(errs, "metadata", NULL);
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		if (strcmp(r->kind, table[i].kind) == 0) {
			table[i].fn(obj, old, subresource, errs);
			return;
		}
	}
	validate_object_meta(obj, old, r->namespaced, name_check_dns1123_subdomain, errs);
}
