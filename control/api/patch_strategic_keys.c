/* Patch strategies and merge keys of core/v1 list fields (the patchStrategy and
 * patchMergeKey tags of k8s.io/api core/v1 types.go); lists not listed are atomic. */
#include "api/patch.h"

#include <skiff/cleanup.h>

#include <string.h>

#define END { NULL, PATCH_STRATEGY_REPLACE, NULL, NULL }
#define MAP(n, t) { n, PATCH_STRATEGY_REPLACE, NULL, t }
#define MERGE(n, key, t) { n, PATCH_STRATEGY_MERGE, key, t }

static const struct patch_field object_meta[] = {
	MERGE("finalizers", NULL, NULL),
	MERGE("ownerReferences", "uid", NULL),
	END,
};

static const struct patch_field container[] = {
	MERGE("ports", "containerPort", NULL),
	MERGE("env", "name", NULL),
	MERGE("volumeMounts", "mountPath", NULL),
	MERGE("volumeDevices", "devicePath", NULL),
	END,
};

/* Upstream declares topologyKey as the only patch merge key (whenUnsatisfiable is a
 * list-map key for server-side apply only); kubectl computes its patches that way. */
static const struct patch_field pod_spec[] = {
	MERGE("containers", "name", container),
	MERGE("initContainers", "name", container),
	MERGE("ephemeralContainers", "name", container),
	MERGE("volumes", "name", NULL),
	MERGE("imagePullSecrets", "name", NULL),
	MERGE("hostAliases", "ip", NULL),
	MERGE("topologySpreadConstraints", "topologyKey", NULL),
	MERGE("schedulingGates", "name", NULL),
	MERGE("resourceClaims", "name", NULL),
	END,
};

static const struct patch_field pod_status[] = {
	MERGE("conditions", "type", NULL),
	MERGE("podIPs", "ip", NULL),
	MERGE("hostIPs", "ip", NULL),
	MERGE("resourceClaimStatuses", "name", NULL),
	END,
};

static const struct patch_field pod[] = {
	MAP("metadata", object_meta),
	MAP("spec", pod_spec),
	MAP("status", pod_status),
	END,
};

static const struct patch_field pod_template_spec[] = {
	MAP("metadata", object_meta),
	MAP("spec", pod_spec),
	END,
};

static const struct patch_field pod_template[] = {
	MAP("metadata", object_meta),
	MAP("template", pod_template_spec),
	END,
};

static const struct patch_field rc_spec[] = {
	MAP("template", pod_template_spec),
	END,
};

static const struct patch_field conditions_status[] = {
	MERGE("conditions", "type", NULL),
	END,
};

static const struct patch_field replication_controller[] = {
	MAP("metadata", object_meta),
	MAP("spec", rc_spec),
	MAP("status", conditions_status),
	END,
};

static const struct patch_field service_spec[] = {
	MERGE("ports", "port", NULL),
	END,
};

static const struct patch_field service[] = {
	MAP("metadata", object_meta),
	MAP("spec", service_spec),
	MAP("status", conditions_status),
	END,
};

static const struct patch_field node_spec[] = {
	MERGE("podCIDRs", NULL, NULL),
	END,
};

static const struct patch_field node_status[] = {
	MERGE("conditions", "type", NULL),
	MERGE("addresses", "type", NULL),
	END,
};

static const struct patch_field node[] = {
	MAP("metadata", object_meta),
	MAP("spec", node_spec),
	MAP("status", node_status),
	END,
};

static const struct patch_field service_account[] = {
	MAP("metadata", object_meta),
	MERGE("secrets", "name", NULL),
	END,
};

/* Namespace, PersistentVolumeClaim: status conditions merge by type. */
static const struct patch_field with_status_conditions[] = {
	MAP("metadata", object_meta),
	MAP("status", conditions_status),
	END,
};

/* Endpoints (subsets are atomic), ConfigMap, Secret, Event and anything else. */
static const struct patch_field generic[] = {
	MAP("metadata", object_meta),
	END,
};

static const struct {
	const char *kind;
	const struct patch_field *type;
} kinds[] = {
	{ "Pod", pod },
	{ "PodTemplate", pod_template },
	{ "ReplicationController", replication_controller },
	{ "Service", service },
	{ "Node", node },
	{ "ServiceAccount", service_account },
	{ "Namespace", with_status_conditions },
	{ "PersistentVolumeClaim", with_status_conditions },
};

const struct patch_field *patch_schema_kind(const char *kind)
{
	for (size_t i = 0; kind && i < ELEMENTSOF(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].type;
	return generic;
}

const struct patch_field *patch_schema_field(const struct patch_field *type, const char *name)
{
	for (; type && type->name; type++)
		if (strcmp(type->name, name) == 0)
			return type;
	return NULL;
}
