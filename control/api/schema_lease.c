/* Schema table of coordination.k8s.io/v1 Lease: node heartbeats and leader election. */
#include "api/schema_table.h"

SCHEMA_STRUCT(LeaseSpec,
	STR("holderIdentity"),
	I32("leaseDurationSeconds"),
	TIME("acquireTime"),
	TIME("renewTime"),
	I32("leaseTransitions"),
	STR("strategy"),
	STR("preferredHolder"));

SCHEMA_SHARED(Lease,
	STR("apiVersion"),
	STR("kind"),
	OBJ("metadata", ObjectMeta),
	OBJ("spec", LeaseSpec));
