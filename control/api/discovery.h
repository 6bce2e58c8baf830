/* Discovery and OpenAPI documents kubectl reads before it does anything else. */
#ifndef SKIFF_API_DISCOVERY_H
#define SKIFF_API_DISCOVERY_H

#include <json-c/json.h>

#define DISCOVERY_AGGREGATED_MEDIA_TYPE "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

/* GET /version: {"major":"1","minor":"32","gitVersion":"v1.32.0-skiff",...}. New reference. */
json_object *discovery_version(void);
/* GET /api legacy form ({"kind":"APIVersions","versions":["v1"],...}). */
json_object *discovery_api_versions(void);
/* GET /api in aggregated form (APIGroupDiscoveryList with the core group, version v1). */
json_object *discovery_api_aggregated(void);
/* GET /apis legacy ({"kind":"APIGroupList","groups":[...]}) and aggregated (one item per
 * named group: coordination.k8s.io). */
json_object *discovery_apis(void);
json_object *discovery_apis_aggregated(void);
/* GET /apis/{group}: APIGroup with its versions. group: a served group. */
json_object *discovery_group(const char *group);
/* GET /apis/{group}/v1: that group's APIResourceList. */
json_object *discovery_group_version(const char *group);
/* GET /api/v1: APIResourceList with shortNames, categories, verbs, subresources. */
json_object *discovery_api_v1(void);
/* GET /openapi/v3 (one entry per group version) and /openapi/v3/api/v1. */
json_object *openapi_v3_root(void);
json_object *openapi_v3_api_v1(void);
/* GET /openapi/v3/apis/{group}/v1. */
json_object *openapi_v3_group_version(const char *group);

#endif
