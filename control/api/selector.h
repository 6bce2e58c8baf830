/* Label and field selectors as Kubernetes parses and matches them. */
#ifndef SKIFF_API_SELECTOR_H
#define SKIFF_API_SELECTOR_H

#include <json-c/json.h>
#include <stdbool.h>

struct label_selector;
struct field_selector;

/* Parses "a=b,c!=d,e in (x,y),f notin (z),g,!h" ("==" too). An empty string selects
 * everything. On error returns -EINVAL and *ret_err (caller frees) says what is wrong,
 * in Kubernetes' words where it has some. */
int label_selector_parse(const char *s, struct label_selector **ret, char **ret_err);
/* labels: the metadata.labels object or NULL. */
bool label_selector_matches(const struct label_selector *sel, json_object *labels);
/* A selector from a map (spec.selector of an RC or Service): every pair must match. */
int label_selector_from_map(json_object *map, struct label_selector **ret);
bool label_selector_empty(const struct label_selector *sel);
void label_selector_free(struct label_selector *sel);

/* Parses "metadata.name=x,spec.nodeName!=y" ("==" too). resource is the plural name;
 * the fields allowed are metadata.name and metadata.namespace for all, plus
 * spec.nodeName, spec.schedulerName, status.phase, status.podIP for pods, spec.unschedulable for nodes,
 * involvedObject.{kind,namespace,name,uid,apiVersion,resourceVersion,fieldPath}, reason, source, type
 * for events. Other fields: -EINVAL with *ret_err 'field label not supported: X'. */
int field_selector_parse(const char *s, const char *resource, struct field_selector **ret, char **ret_err);
bool field_selector_matches(const struct field_selector *sel, json_object *obj);
/* When the selector pins one value of a field with '=' (e.g. metadata.name), that value; else NULL. */
const char *field_selector_exact(const struct field_selector *sel, const char *field);
void field_selector_free(struct field_selector *sel);

#endif
