/* Schema tables of the meta/v1 types every kind shares (ObjectMeta, references, selectors),
 * the small request kinds (Scale, Binding, DeleteOptions) and core/v1 Event. */
#include "api/schema_table.h"

SCHEMA_STRUCT(OwnerReference,
	STR("apiVersion"),
	STR("kind"),
	STR("name"),
	STR("uid"),
	BOOL("controller"),
	BOOL("blockOwnerDeletion"));

SCHEMA_STRUCT(ManagedFieldsEntry,
	STR("manager"),
	STR("operation"),
	STR("apiVersion"),
	TIME("time"),
	STR("fieldsType"),
	ANY("fieldsV1"),
	STR("subresource"));

SCHEMA_SHARED(ObjectMeta,
	STR("name"),
	STR("generateName"),
	STR("namespace"),
	STR("selfLink"),
	STR("uid"),
	STR("resourceVersion"),
	I64("generation"),
	TIME("creationTimestamp"),
	TIME("deletionTimestamp"),
	I64("deletionGracePeriodSeconds"),
	MAP_STR("labels"),
	MAP_STR("annotations"),
	ARR_OBJ("ownerReferences", OwnerReference),
	ARR_STR("finalizers"),
	ARR_OBJ("managedFields", ManagedFieldsEntry));

SCHEMA_SHARED(ObjectReference,
	STR("kind"),
	STR("namespace"),
	STR("name"),
	STR("uid"),
	STR("apiVersion"),
	STR("resourceVersion"),
	STR("fieldPath"));

SCHEMA_STRUCT(LabelSelectorRequirement,
	STR("key"),
	STR("operator"),
	ARR_STR("values"));

SCHEMA_SHARED(LabelSelector,
	MAP_STR("matchLabels"),
	ARR_OBJ("matchExpressions", LabelSelectorRequirement));

SCHEMA_SHARED(Condition,
	STR("type"),
	STR("status"),
	I64("observedGeneration"),
	TIME("lastTransitionTime"),
	STR("reason"),
	STR("message"));

/* autoscaling/v1 Scale, the replicationcontrollers/scale subresource. */
SCHEMA_STRUCT(ScaleSpec,
	I32("replicas"));

SCHEMA_STRUCT(ScaleStatus,
	I32("replicas"),
	STR("selector"));

SCHEMA_SHARED(Scale,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("spec", ScaleSpec),
	OBJ("status", ScaleStatus));

SCHEMA_SHARED(Binding,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("target", ObjectReference));

SCHEMA_STRUCT(Preconditions,
	STR("uid"),
	STR("resourceVersion"));

SCHEMA_SHARED(DeleteOptions,
	STR("apiVersion"),
	STR("kind"),
	I64("gracePeriodSeconds"),
	OBJ("preconditions", Preconditions),
	BOOL("orphanDependents"),
	STR("propagationPolicy"),
	ARR_STR("dryRun"),
	BOOL("ignoreStoreReadErrorWithClusterBreakingPotential"));

SCHEMA_STRUCT(EventSource,
	STR("component"),
	STR("host"));

SCHEMA_STRUCT(EventSeries,
	I32("count"),
	TIME("lastObservedTime"));

SCHEMA_SHARED(Event,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("involvedObject", ObjectReference),
	STR("reason"),
	STR("message"),
	OBJ("source", EventSource),
	TIME("firstTimestamp"),
	TIME("lastTimestamp"),
	I32("count"),
	STR("type"),
	TIME("eventTime"),
	OBJ("series", EventSeries),
	STR("action"),
	OBJ("related", ObjectReference),
	STR("reportingComponent"),
	STR("reportingInstance"));
