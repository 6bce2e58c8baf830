/* Schema tables of core/v1 Pod: PodSpec (scheduling, security, DNS, resources),
 * PodTemplateSpec and PodStatus. Containers and volumes have their own files. */
#include "api/schema_table.h"

SCHEMA_STRUCT(ResourceClaim,
	STR("name"),
	STR("request"));

SCHEMA_SHARED(ResourceRequirements,
	MAP_QTY("limits"),
	MAP_QTY("requests"),
	ARR_OBJ("claims", ResourceClaim));

SCHEMA_SHARED(ObjectFieldSelector,
	STR("apiVersion"),
	STR("fieldPath"));

SCHEMA_SHARED(ResourceFieldSelector,
	STR("containerName"),
	STR("resource"),
	QTY("divisor"));

SCHEMA_SHARED(SELinuxOptions,
	STR("user"),
	STR("role"),
	STR("type"),
	STR("level"));

SCHEMA_SHARED(SeccompProfile,
	STR("type"),
	STR("localhostProfile"));

SCHEMA_SHARED(AppArmorProfile,
	STR("type"),
	STR("localhostProfile"));

SCHEMA_SHARED(WindowsSecurityContextOptions,
	STR("gmsaCredentialSpecName"),
	STR("gmsaCredentialSpec"),
	STR("runAsUserName"),
	BOOL("hostProcess"));

SCHEMA_STRUCT(Sysctl,
	STR("name"),
	STR("value"));

SCHEMA_STRUCT(PodSecurityContext,
	OBJ("seLinuxOptions", SELinuxOptions),
	OBJ("windowsOptions", WindowsSecurityContextOptions),
	I64("runAsUser"),
	I64("runAsGroup"),
	BOOL("runAsNonRoot"),
	ARR_I64("supplementalGroups"),
	STR("supplementalGroupsPolicy"),
	I64("fsGroup"),
	ARR_OBJ("sysctls", Sysctl),
	STR("fsGroupChangePolicy"),
	OBJ("seccompProfile", SeccompProfile),
	OBJ("appArmorProfile", AppArmorProfile),
	STR("seLinuxChangePolicy"));

SCHEMA_STRUCT(NodeSelectorRequirement,
	STR("key"),
	STR("operator"),
	ARR_STR("values"));

SCHEMA_STRUCT(NodeSelectorTerm,
	ARR_OBJ("matchExpressions", NodeSelectorRequirement),
	ARR_OBJ("matchFields", NodeSelectorRequirement));

SCHEMA_STRUCT(NodeSelector,
	ARR_OBJ("nodeSelectorTerms", NodeSelectorTerm));

SCHEMA_STRUCT(PreferredSchedulingTerm,
	I32("weight"),
	OBJ("preference", NodeSelectorTerm));

SCHEMA_STRUCT(NodeAffinity,
	OBJ("requiredDuringSchedulingIgnoredDuringExecution", NodeSelector),
	ARR_OBJ("preferredDuringSchedulingIgnoredDuringExecution", PreferredSchedulingTerm));

SCHEMA_STRUCT(PodAffinityTerm,
	OBJ("labelSelector", LabelSelector),
	ARR_STR("namespaces"),
	STR("topologyKey"),
	OBJ("namespaceSelector", LabelSelector),
	ARR_STR("matchLabelKeys"),
	ARR_STR("mismatchLabelKeys"));

SCHEMA_STRUCT(WeightedPodAffinityTerm,
	I32("weight"),
	OBJ("podAffinityTerm", PodAffinityTerm));

SCHEMA_STRUCT(PodAffinity,
	ARR_OBJ("requiredDuringSchedulingIgnoredDuringExecution", PodAffinityTerm),
	ARR_OBJ("preferredDuringSchedulingIgnoredDuringExecution", WeightedPodAffinityTerm));

SCHEMA_STRUCT(PodAntiAffinity,
	ARR_OBJ("requiredDuringSchedulingIgnoredDuringExecution", PodAffinityTerm),
	ARR_OBJ("preferredDuringSchedulingIgnoredDuringExecution", WeightedPodAffinityTerm));

SCHEMA_STRUCT(Affinity,
	OBJ("nodeAffinity", NodeAffinity),
	OBJ("podAffinity", PodAffinity),
	OBJ("podAntiAffinity", PodAntiAffinity));

SCHEMA_STRUCT(Toleration,
	STR("key"),
	STR("operator"),
	STR("value"),
	STR("effect"),
	I64("tolerationSeconds"));

SCHEMA_STRUCT(TopologySpreadConstraint,
	I32("maxSkew"),
	STR("topologyKey"),
	STR("whenUnsatisfiable"),
	OBJ("labelSelector", LabelSelector),
	I32("minDomains"),
	STR("nodeAffinityPolicy"),
	STR("nodeTaintsPolicy"),
	ARR_STR("matchLabelKeys"));

SCHEMA_STRUCT(PodDNSConfigOption,
	STR("name"),
	STR("value"));

SCHEMA_STRUCT(PodDNSConfig,
	ARR_STR("nameservers"),
	ARR_STR("searches"),
	ARR_OBJ("options", PodDNSConfigOption));

SCHEMA_STRUCT(HostAlias,
	STR("ip"),
	ARR_STR("hostnames"));

SCHEMA_STRUCT(LocalObjectReference,
	STR("name"));

SCHEMA_STRUCT(PodReadinessGate,
	STR("conditionType"));

SCHEMA_STRUCT(PodOS,
	STR("name"));

SCHEMA_STRUCT(PodSchedulingGate,
	STR("name"));

SCHEMA_STRUCT(PodResourceClaim,
	STR("name"),
	STR("resourceClaimName"),
	STR("resourceClaimTemplateName"));

SCHEMA_STRUCT(PodSpec,
	ARR_OBJ("volumes", Volume),
	ARR_OBJ("initContainers", Container),
	ARR_OBJ("containers", Container),
	ARR_OBJ("ephemeralContainers", EphemeralContainer),
	STR("restartPolicy"),
	I64("terminationGracePeriodSeconds"),
	I64("activeDeadlineSeconds"),
	STR("dnsPolicy"),
	MAP_STR("nodeSelector"),
	STR("serviceAccountName"),
	STR("serviceAccount"),
	BOOL("automountServiceAccountToken"),
	STR("nodeName"),
	BOOL("hostNetwork"),
	BOOL("hostPID"),
	BOOL("hostIPC"),
	BOOL("shareProcessNamespace"),
	OBJ("securityContext", PodSecurityContext),
	ARR_OBJ("imagePullSecrets", LocalObjectReference),
	STR("hostname"),
	STR("subdomain"),
	OBJ("affinity", Affinity),
	STR("schedulerName"),
	ARR_OBJ("tolerations", Toleration),
	ARR_OBJ("hostAliases", HostAlias),
	STR("priorityClassName"),
	I32("priority"),
	OBJ("dnsConfig", PodDNSConfig),
	ARR_OBJ("readinessGates", PodReadinessGate),
	STR("runtimeClassName"),
	BOOL("enableServiceLinks"),
	STR("preemptionPolicy"),
	MAP_QTY("overhead"),
	ARR_OBJ("topologySpreadConstraints", TopologySpreadConstraint),
	BOOL("setHostnameAsFQDN"),
	OBJ("os", PodOS),
	BOOL("hostUsers"),
	ARR_OBJ("schedulingGates", PodSchedulingGate),
	ARR_OBJ("resourceClaims", PodResourceClaim),
	OBJ("resources", ResourceRequirements));

SCHEMA_STRUCT(PodCondition,
	STR("type"),
	STR("status"),
	TIME("lastProbeTime"),
	TIME("lastTransitionTime"),
	STR("reason"),
	STR("message"));

SCHEMA_STRUCT(HostIP,
	STR("ip"));

SCHEMA_STRUCT(PodIP,
	STR("ip"));

SCHEMA_STRUCT(PodResourceClaimStatus,
	STR("name"),
	STR("resourceClaimName"));

SCHEMA_STRUCT(PodStatus,
	STR("phase"),
	ARR_OBJ("conditions", PodCondition),
	STR("message"),
	STR("reason"),
	STR("nominatedNodeName"),
	STR("hostIP"),
	ARR_OBJ("hostIPs", HostIP),
	STR("podIP"),
	ARR_OBJ("podIPs", PodIP),
	TIME("startTime"),
	ARR_OBJ("initContainerStatuses", ContainerStatus),
	ARR_OBJ("containerStatuses", ContainerStatus),
	STR("qosClass"),
	ARR_OBJ("ephemeralContainerStatuses", ContainerStatus),
	STR("resize"),
	ARR_OBJ("resourceClaimStatuses", PodResourceClaimStatus));

SCHEMA_SHARED(PodTemplateSpec,
	OBJ("metadata", ObjectMeta),
	OBJ("spec", PodSpec));

SCHEMA_SHARED(Pod,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("spec", PodSpec),
	OBJ("status", PodStatus));
