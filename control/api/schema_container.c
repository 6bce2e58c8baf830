/* Schema tables of core/v1 containers: Container and EphemeralContainer with their ports,
 * env, mounts, probes, lifecycle hooks and security context, and ContainerStatus. */
#include "api/schema_table.h"

SCHEMA_STRUCT(ContainerPort,
	STR("name"),
	I32("hostPort"),
	I32("containerPort"),
	STR("protocol"),
	STR("hostIP"));

SCHEMA_STRUCT(ConfigMapEnvSource,
	STR("name"),
	BOOL("optional"));

SCHEMA_STRUCT(SecretEnvSource,
	STR("name"),
	BOOL("optional"));

SCHEMA_STRUCT(EnvFromSource,
	STR("prefix"),
	OBJ("configMapRef", ConfigMapEnvSource),
	OBJ("secretRef", SecretEnvSource));

SCHEMA_STRUCT(ConfigMapKeySelector,
	STR("name"),
	STR("key"),
	BOOL("optional"));

SCHEMA_STRUCT(SecretKeySelector,
	STR("name"),
	STR("key"),
	BOOL("optional"));

SCHEMA_STRUCT(EnvVarSource,
	OBJ("fieldRef", ObjectFieldSelector),
	OBJ("resourceFieldRef", ResourceFieldSelector),
	OBJ("configMapKeyRef", ConfigMapKeySelector),
	OBJ("secretKeyRef", SecretKeySelector));

SCHEMA_STRUCT(EnvVar,
	STR("name"),
	STR("value"),
	OBJ("valueFrom", EnvVarSource));

SCHEMA_STRUCT(ContainerResizePolicy,
	STR("resourceName"),
	STR("restartPolicy"));

SCHEMA_STRUCT(VolumeMount,
	STR("name"),
	BOOL("readOnly"),
	STR("recursiveReadOnly"),
	STR("mountPath"),
	STR("subPath"),
	STR("mountPropagation"),
	STR("subPathExpr"));

SCHEMA_STRUCT(VolumeDevice,
	STR("name"),
	STR("devicePath"));

SCHEMA_STRUCT(ExecAction,
	ARR_STR("command"));

SCHEMA_STRUCT(HTTPHeader,
	STR("name"),
	STR("value"));

SCHEMA_STRUCT(HTTPGetAction,
	STR("path"),
	IOS("port"),
	STR("host"),
	STR("scheme"),
	ARR_OBJ("httpHeaders", HTTPHeader));

SCHEMA_STRUCT(TCPSocketAction,
	IOS("port"),
	STR("host"));

SCHEMA_STRUCT(GRPCAction,
	I32("port"),
	STR("service"));

SCHEMA_STRUCT(SleepAction,
	I64("seconds"));

SCHEMA_STRUCT(Probe,
	OBJ("exec", ExecAction),
	OBJ("httpGet", HTTPGetAction),
	OBJ("tcpSocket", TCPSocketAction),
	OBJ("grpc", GRPCAction),
	I32("initialDelaySeconds"),
	I32("timeoutSeconds"),
	I32("periodSeconds"),
	I32("successThreshold"),
	I32("failureThreshold"),
	I64("terminationGracePeriodSeconds"));

SCHEMA_STRUCT(LifecycleHandler,
	OBJ("exec", ExecAction),
	OBJ("httpGet", HTTPGetAction),
	OBJ("tcpSocket", TCPSocketAction),
	OBJ("sleep", SleepAction));

SCHEMA_STRUCT(Lifecycle,
	OBJ("postStart", LifecycleHandler),
	OBJ("preStop", LifecycleHandler));

SCHEMA_STRUCT(Capabilities,
	ARR_STR("add"),
	ARR_STR("drop"));

SCHEMA_STRUCT(SecurityContext,
	OBJ("capabilities", Capabilities),
	BOOL("privileged"),
	OBJ("seLinuxOptions", SELinuxOptions),
	OBJ("windowsOptions", WindowsSecurityContextOptions),
	I64("runAsUser"),
	I64("runAsGroup"),
	BOOL("runAsNonRoot"),
	BOOL("readOnlyRootFilesystem"),
	BOOL("allowPrivilegeEscalation"),
	STR("procMount"),
	OBJ("seccompProfile", SeccompProfile),
	OBJ("appArmorProfile", AppArmorProfile));

/* Go inlines EphemeralContainerCommon the same way: one field list, two structs. */
#define CONTAINER_FIELDS                                   \
	STR("name"),                                       \
	STR("image"),                                      \
	ARR_STR("command"),                                \
	ARR_STR("args"),                                   \
	STR("workingDir"),                                 \
	ARR_OBJ("ports", ContainerPort),                   \
	ARR_OBJ("envFrom", EnvFromSource),                 \
	ARR_OBJ("env", EnvVar),                            \
	OBJ("resources", ResourceRequirements),            \
	ARR_OBJ("resizePolicy", ContainerResizePolicy),    \
	STR("restartPolicy"),                              \
	ARR_OBJ("volumeMounts", VolumeMount),              \
	ARR_OBJ("volumeDevices", VolumeDevice),            \
	OBJ("livenessProbe", Probe),                       \
	OBJ("readinessProbe", Probe),                      \
	OBJ("startupProbe", Probe),                        \
	OBJ("lifecycle", Lifecycle),                       \
	STR("terminationMessagePath"),                     \
	STR("terminationMessagePolicy"),                   \
	STR("imagePullPolicy"),                            \
	OBJ("securityContext", SecurityContext),           \
	BOOL("stdin"),                                     \
	BOOL("stdinOnce"),                                 \
	BOOL("tty")

SCHEMA_SHARED(Container,
	CONTAINER_FIELDS);

SCHEMA_SHARED(EphemeralContainer,
	CONTAINER_FIELDS,
	STR("targetContainerName"));

SCHEMA_STRUCT(ContainerStateWaiting,
	STR("reason"),
	STR("message"));

SCHEMA_STRUCT(ContainerStateRunning,
	TIME("startedAt"));

SCHEMA_STRUCT(ContainerStateTerminated,
	I32("exitCode"),
	I32("signal"),
	STR("reason"),
	STR("message"),
	TIME("startedAt"),
	TIME("finishedAt"),
	STR("containerID"));

SCHEMA_STRUCT(ContainerState,
	OBJ("waiting", ContainerStateWaiting),
	OBJ("running", ContainerStateRunning),
	OBJ("terminated", ContainerStateTerminated));

SCHEMA_STRUCT(VolumeMountStatus,
	STR("name"),
	STR("mountPath"),
	BOOL("readOnly"),
	STR("recursiveReadOnly"));

SCHEMA_STRUCT(LinuxContainerUser,
	I64("uid"),
	I64("gid"),
	ARR_I64("supplementalGroups"));

SCHEMA_STRUCT(ContainerUser,
	OBJ("linux", LinuxContainerUser));

SCHEMA_STRUCT(ResourceHealth,
	STR("resourceID"),
	STR("health"));

SCHEMA_STRUCT(ResourceStatus,
	STR("name"),
	ARR_OBJ("resources", ResourceHealth));

SCHEMA_SHARED(ContainerStatus,
	STR("name"),
	OBJ("state", ContainerState),
	OBJ("lastState", ContainerState),
	BOOL("ready"),
	I32("restartCount"),
	STR("image"),
	STR("imageID"),
	STR("containerID"),
	BOOL("started"),
	MAP_QTY("allocatedResources"),
	OBJ("resources", ResourceRequirements),
	ARR_OBJ("volumeMounts", VolumeMountStatus),
	OBJ("user", ContainerUser),
	ARR_OBJ("allocatedResourcesStatus", ResourceStatus));
