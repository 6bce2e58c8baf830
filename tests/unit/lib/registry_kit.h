/* Shared fixture of the registry-level unit tests: a temp dir holding a real SQLite store
 * and a registry over it, and the helpers those tests create and read objects with. */
#ifndef SKIFF_TEST_REGISTRY_KIT_H
#define SKIFF_TEST_REGISTRY_KIT_H

#include <json-c/json.h>

#include "api/registry.h"

extern struct store *kit_store;
extern struct registry *kit_reg;
extern struct api_status kit_st;
extern const struct write_options kit_wo;

/* Makes /tmp/skiff-test-<name>-XXXXXX and opens a (non-durable) store and a registry in it. */
void kit_setup(const char *name, const struct registry_options *ro);
/* Opens the store and registry again over the same dir, after kit_close (a restart). */
void kit_open(const struct registry_options *ro);
void kit_close(void);
/* kit_close, then the dir is removed. */
void kit_teardown(void);
/* Removes a directory tree (tests' temp dirs). */
void kit_rm_tree(const char *dir);

static inline const struct resource *kit_res(const char *name)
{
	return resource_by_name(name);
}

/* Parses test JSON, failing the test on a typo. */
json_object *kit_json(const char *s);
/* The string at a dotted path, "" when missing. */
const char *kit_str(json_object *o, const char *path);
/* Creates through the registry and asserts success; returns the stored object. */
json_object *kit_create(const char *res, const char *ns, const char *body);
/* Creates through the registry and asserts failure; returns the Status code. */
int kit_create_fails(const char *res, const char *ns, const char *body);

#define KIT_POD(name, labels)                                                                                 \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"labels\":{" labels "}},"     \
	"\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"

#endif
