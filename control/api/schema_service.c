/* Schema tables of core/v1 Service (+status), Endpoints and ReplicationController (+status). */
#include "api/schema_table.h"

SCHEMA_STRUCT(ServicePort,
	STR("name"),
	STR("protocol"),
	STR("appProtocol"),
	I32("port"),
	IOS("targetPort"),
	I32("nodePort"));

SCHEMA_STRUCT(ClientIPConfig,
	I32("timeoutSeconds"));

SCHEMA_STRUCT(SessionAffinityConfig,
	OBJ("clientIP", ClientIPConfig));

SCHEMA_STRUCT(ServiceSpec,
	ARR_OBJ("ports", ServicePort),
	MAP_STR("selector"),
	STR("clusterIP"),
	ARR_STR("clusterIPs"),
	STR("type"),
	ARR_STR("externalIPs"),
	STR("sessionAffinity"),
	STR("loadBalancerIP"),
	ARR_STR("loadBalancerSourceRanges"),
	STR("externalName"),
	STR("externalTrafficPolicy"),
	I32("healthCheckNodePort"),
	BOOL("publishNotReadyAddresses"),
	OBJ("sessionAffinityConfig", SessionAffinityConfig),
	ARR_STR("ipFamilies"),
	STR("ipFamilyPolicy"),
	BOOL("allocateLoadBalancerNodePorts"),
	STR("loadBalancerClass"),
	STR("internalTrafficPolicy"),
	STR("trafficDistribution"));

SCHEMA_STRUCT(PortStatus,
	I32("port"),
	STR("protocol"),
	STR("error"));

SCHEMA_STRUCT(LoadBalancerIngress,
	STR("ip"),
	STR("hostname"),
	STR("ipMode"),
	ARR_OBJ("ports", PortStatus));

SCHEMA_STRUCT(LoadBalancerStatus,
	ARR_OBJ("ingress", LoadBalancerIngress));

SCHEMA_STRUCT(ServiceStatus,
	OBJ("loadBalancer", LoadBalancerStatus),
	ARR_OBJ("conditions", Condition));

SCHEMA_SHARED(Service,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("spec", ServiceSpec),
	OBJ("status", ServiceStatus));

SCHEMA_STRUCT(EndpointAddress,
	STR("ip"),
	STR("hostname"),
	STR("nodeName"),
	OBJ("targetRef", ObjectReference));

SCHEMA_STRUCT(EndpointPort,
	STR("name"),
	I32("port"),
	STR("protocol"),
	STR("appProtocol"));

SCHEMA_STRUCT(EndpointSubset,
	ARR_OBJ("addresses", EndpointAddress),
	ARR_OBJ("notReadyAddresses", EndpointAddress),
	ARR_OBJ("ports", EndpointPort));

SCHEMA_SHARED(Endpoints,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	ARR_OBJ("subsets", EndpointSubset));

SCHEMA_STRUCT(ReplicationControllerSpec,
	I32("replicas"),
	I32("minReadySeconds"),
	MAP_STR("selector"),
	OBJ("template", PodTemplateSpec));

SCHEMA_STRUCT(ReplicationControllerCondition,
	STR("type"),
	STR("status"),
	TIME("lastTransitionTime"),
	STR("reason"),
	STR("message"));

SCHEMA_STRUCT(ReplicationControllerStatus,
	I32("replicas"),
	I32("fullyLabeledReplicas"),
	I32("readyReplicas"),
	I32("availableReplicas"),
	I64("observedGeneration"),
	ARR_OBJ("conditions", ReplicationControllerCondition));

SCHEMA_SHARED(ReplicationController,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("spec", ReplicationControllerSpec),
	OBJ("status", ReplicationControllerStatus));
