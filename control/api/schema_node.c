/* Schema tables of core/v1 Node (spec, status) and Namespace. */
#include "api/schema_table.h"

SCHEMA_STRUCT(Taint,
	STR("key"),
	STR("value"),
	STR("effect"),
	TIME("timeAdded"));

SCHEMA_STRUCT(ConfigMapNodeConfigSource,
	STR("namespace"),
	STR("name"),
	STR("uid"),
	STR("resourceVersion"),
	STR("kubeletConfigKey"));

SCHEMA_STRUCT(NodeConfigSource,
	OBJ("configMap", ConfigMapNodeConfigSource));

SCHEMA_STRUCT(NodeSpec,
	STR("podCIDR"),
	ARR_STR("podCIDRs"),
	STR("providerID"),
	BOOL("unschedulable"),
	ARR_OBJ("taints", Taint),
	OBJ("configSource", NodeConfigSource),
	STR("externalID"));

SCHEMA_STRUCT(NodeCondition,
	STR("type"),
	STR("status"),
	TIME("lastHeartbeatTime"),
	TIME("lastTransitionTime"),
	STR("reason"),
	STR("message"));

SCHEMA_STRUCT(NodeAddress,
	STR("type"),
	STR("address"));

/* Kubernetes spells this one field with a capital letter. */
SCHEMA_STRUCT(DaemonEndpoint,
	I32("Port"));

SCHEMA_STRUCT(NodeDaemonEndpoints,
	OBJ("kubeletEndpoint", DaemonEndpoint));

SCHEMA_STRUCT(NodeSwapStatus,
	I64("capacity"));

SCHEMA_STRUCT(NodeSystemInfo,
	STR("machineID"),
	STR("systemUUID"),
	STR("bootID"),
	STR("kernelVersion"),
	STR("osImage"),
	STR("containerRuntimeVersion"),
	STR("kubeletVersion"),
	STR("kubeProxyVersion"),
	STR("operatingSystem"),
	STR("architecture"),
	OBJ("swap", NodeSwapStatus));

SCHEMA_STRUCT(ContainerImage,
	ARR_STR("names"),
	I64("sizeBytes"));

SCHEMA_STRUCT(AttachedVolume,
	STR("name"),
	STR("devicePath"));

SCHEMA_STRUCT(NodeConfigStatus,
	OBJ("assigned", NodeConfigSource),
	OBJ("active", NodeConfigSource),
	OBJ("lastKnownGood", NodeConfigSource),
	STR("error"));

SCHEMA_STRUCT(NodeRuntimeHandlerFeatures,
	BOOL("recursiveReadOnlyMounts"),
	BOOL("userNamespaces"));

SCHEMA_STRUCT(NodeRuntimeHandler,
	STR("name"),
	OBJ("features", NodeRuntimeHandlerFeatures));

SCHEMA_STRUCT(NodeFeatures,
	BOOL("supplementalGroupsPolicy"));

SCHEMA_STRUCT(NodeStatus,
	MAP_QTY("capacity"),
	MAP_QTY("allocatable"),
	STR("phase"),
	ARR_OBJ("conditions", NodeCondition),
	ARR_OBJ("addresses", NodeAddress),
	OBJ("daemonEndpoints", NodeDaemonEndpoints),
	OBJ("nodeInfo", NodeSystemInfo),
	ARR_OBJ("images", ContainerImage),
	ARR_STR("volumesInUse"),
	ARR_OBJ("volumesAttached", AttachedVolume),
	OBJ("config", NodeConfigStatus),
	ARR_OBJ("runtimeHandlers", NodeRuntimeHandler),
	OBJ("features", NodeFeatures));

SCHEMA_SHARED(Node,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("spec", NodeSpec),
	OBJ("status", NodeStatus));

SCHEMA_STRUCT(NamespaceSpec,
	ARR_STR("finalizers"));

SCHEMA_STRUCT(NamespaceCondition,
	STR("type"),
	STR("status"),
	TIME("lastTransitionTime"),
	STR("reason"),
	STR("message"));

SCHEMA_STRUCT(NamespaceStatus,
	STR("phase"),
	ARR_OBJ("conditions", NamespaceCondition));

SCHEMA_SHARED(Namespace,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("spec", NamespaceSpec),
	OBJ("status", NamespaceStatus));
