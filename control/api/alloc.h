/* ClusterIP and NodePort allocation for Services. An allocation is a key in the store
 * (/registry/ranges/serviceips/<ip>, /registry/ranges/servicenodeports/<port>) written in
 * the same store_txn as the Service, so nothing is handed out twice, also across restarts,
 * and a failed write leaves nothing allocated. */
#ifndef SKIFF_API_ALLOC_H
#define SKIFF_API_ALLOC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/validate.h"
#include "store/store.h"

#define ALLOC_IP_PREFIX "/registry/ranges/serviceips/"
#define ALLOC_PORT_PREFIX "/registry/ranges/servicenodeports/"

struct alloc;

/* cidr: an IPv4 prefix ("10.96.0.0/12"); ports: inclusive range. NULL with errno set. */
struct alloc *alloc_new(const char *service_cidr, int node_port_min, int node_port_max);
void alloc_free(struct alloc *a);

struct alloc_key {
	char *key;
	enum store_op_type type; /* STORE_OP_CREATE (allocate) or STORE_OP_DELETE (release) */
	bool requested;          /* asked for by the user: a collision is the user's 422, not a retry */
	char *field;             /* "spec.clusterIPs", "spec.ports[0].nodePort" */
	char *value;             /* "10.96.0.5", "30080" */
};

struct alloc_plan {
	struct alloc_key *v;
	size_t n, cap;
	char *owner; /* the allocation keys' value: {"namespace":..,"name":..} */
};
void alloc_plan_clear(struct alloc_plan *p);

/* Fills in svc's spec.clusterIP/clusterIPs and spec.ports[].nodePort where the user left
 * them out (copying them from old on update as Kubernetes does) and plans the keys to
 * allocate and release. old is the stored Service on update, NULL on create. Problems the
 * user caused (out of range, already allocated) go to errs; returns negative errno for
 * internal failures: -ENOSPC when a range is full (errs' last entry says which). */
int alloc_service(struct alloc *a, struct store *s, json_object *old, json_object *svc, struct alloc_plan *plan,
		  struct field_errors *errs);
/* Plans the release of everything svc holds (on delete). */
int alloc_service_release(json_object *svc, struct alloc_plan *plan);
/* Appends the plan's store ops at ops (room for p->n). Returns the count. */
size_t alloc_plan_ops(const struct alloc_plan *p, struct store_op *ops);
/* The txn failed -EEXIST at plan entry i: a requested value adds its 422 to errs and
 * returns -EEXIST; a random one returns -EAGAIN (allocate again and retry). */
int alloc_plan_conflict(const struct alloc_plan *p, size_t i, struct field_errors *errs);
/* Drops entry i (a release whose key is already gone, so the txn can be retried without it). */
void alloc_plan_drop(struct alloc_plan *p, size_t i);

#endif
