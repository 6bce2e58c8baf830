/* YAML documents to json-c objects (libyaml), for request bodies, config files and tools. */
#ifndef SKIFF_YAML_H
#define SKIFF_YAML_H

#include <json-c/json.h>
#include <stddef.h>

/* Parses the first YAML document in buf into JSON (YAML 1.1 scalars as Kubernetes'
 * sigs.k8s.io/yaml reads them: int, float, bool, null, string). Returns 0, or -EINVAL
 * with *ret_err (caller frees) naming line and problem: 'error converting YAML to JSON:
 * yaml: line 3: mapping values are not allowed in this context'. A stream without a
 * document, or a null one, gives 0 with *ret NULL (JSON null). Aliases are copied. */
int yaml_to_json(const char *buf, size_t len, json_object **ret, char **ret_err);

#endif
