/* The registry: what each API verb does to objects in the store — metadata, defaults,
 * validation, admission (ClusterIP/NodePort allocation, namespace existence), optimistic
 * concurrency, graceful deletion, namespace teardown — independent of HTTP. The HTTP
 * server (server.c and friends) parses requests, calls these, and encodes the results
 * (plain JSON or Tables). All calls return 0 or a negative errno; on failure *st holds
 * the Status to send. Objects returned carry metadata.resourceVersion. */
#ifndef SKIFF_API_REGISTRY_H
#define SKIFF_API_REGISTRY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/resources.h"
#include "api/status.h"
#include "store/store.h"

struct registry;

struct registry_options {
	const char *service_cidr;    /* default "10.96.0.0/12" */
	int node_port_min, node_port_max; /* default 30000-32767 */
};
void registry_options_init(struct registry_options *o);

/* Creates default and kube-system (and kube-node-lease) namespaces when missing and
 * starts the namespace-teardown thread. NULL with errno set. */
struct registry *registry_new(struct store *s, const struct registry_options *opts);
void registry_free(struct registry *reg);
struct store *registry_store(struct registry *reg);

struct list_options {
	const char *label_selector; /* raw query values or NULL */
	const char *field_selector;
	int64_t limit;              /* 0 = none */
	const char *continue_token;
	const char *resource_version; /* list: "" or "0" = current; watch: start point */
	bool allow_bookmarks;
};

struct write_options {
	bool dry_run;            /* dryRun=All: validate and answer, write nothing */
	bool strict;             /* fieldValidation=Strict (kubectl's default); "Ignore"/"Warn" not strict */
	const char *field_manager;
	bool force;              /* apply --force-conflicts */
};

struct delete_options {
	int64_t grace_period_seconds; /* -1 = not given */
	const char *propagation_policy; /* "Background" (default), "Foreground", "Orphan", or NULL */
	const char *precondition_uid;
	const char *precondition_rv;
	bool dry_run;
};

/* subresource: NULL, "status" or "scale" (scale returns an autoscaling/v1 Scale). */
int registry_get(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		 const char *subresource, json_object **ret, struct api_status *st);
/* ns NULL: all namespaces. Returns the List object (kind <Kind>List, apiVersion v1,
 * metadata.resourceVersion and continue, items). */
int registry_list(struct registry *reg, const struct resource *r, const char *ns, const struct list_options *lo,
		  json_object **ret, struct api_status *st);
/* POST. subresource NULL or "binding" (name = the pod). body is consumed (not freed). */
int registry_create(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const char *subresource, json_object *body, const struct write_options *wo, json_object **ret,
		    struct api_status *st);
/* PUT. subresource NULL, "status" or "scale". Creates when missing only where Kubernetes
 * does (never for pods; *ret_created tells). */
int registry_update(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const char *subresource, json_object *body, const struct write_options *wo, json_object **ret,
		    bool *ret_created, struct api_status *st);
/* PATCH. content_type chooses the patch type (merge, json-patch, strategic, apply-patch+yaml);
 * body is the raw request body. Apply creates the object when missing (*ret_created). */
int registry_patch(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		   const char *subresource, const char *content_type, const char *body, size_t body_len,
		   const struct write_options *wo, json_object **ret, bool *ret_created, struct api_status *st);
/* DELETE. *ret is the object as it now is (graceful pod deletion, finalizers pending,
 * namespace Terminating: with metadata.deletionTimestamp) or, once removed, the deleted
 * object (pods, services, namespaces) or a Success Status (other kinds); *ret_code 200.
 * propagationPolicy is checked; Orphan/Foreground act as Background until a garbage
 * collector exists. */
int registry_delete(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		    const struct delete_options *dopts, json_object **ret, int *ret_code, struct api_status *st);
/* DELETE on a collection: deletes what the selectors match; returns the List of deleted objects. */
int registry_delete_collection(struct registry *reg, const struct resource *r, const char *ns,
			       const struct list_options *lo, const struct delete_options *dopts, json_object **ret,
			       struct api_status *st);

/* Watches: events for objects matching ns and selectors after lo->resource_version
 * ("" or "0": the current state first as ADDED events, then changes). An object that
 * stops matching a selector is sent as DELETED, one that starts matching as ADDED. */
struct registry_watch;
int registry_watch_new(struct registry *reg, const struct resource *r, const char *ns,
		       const struct list_options *lo, struct registry_watch **ret, struct api_status *st);
/* 0 and *ret_type ("ADDED", "MODIFIED", "DELETED") + *ret_obj (new reference; DELETED
 * carries the deleting revision); the registry sends no BOOKMARKs (the server does);
 * -ETIMEDOUT; -ERANGE when the start revision is compacted (send 410 Gone: the caller
 * sends it as an ERROR event with a Status); -ECANCELED after cancel. */
int registry_watch_next(struct registry_watch *w, const char **ret_type, json_object **ret_obj, int timeout_ms);
int registry_watch_fd(struct registry_watch *w);
void registry_watch_cancel(struct registry_watch *w);
void registry_watch_free(struct registry_watch *w);

/* For the registry's own files and the controllers in this process, not the server. */
struct alloc;
struct field_errors;
struct alloc *registry_alloc(struct registry *reg);
/* One object by name: 0 and *ret (with resourceVersion; may be NULL) and *ret_rev (may be
 * NULL), or -ENOENT with a 404 in st. */
int registry_read(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		  json_object **ret, int64_t *ret_rev, struct api_status *st);
/* Removes the stored obj if still at expect_rev, with what it holds (a Service's
 * allocations), in one txn. -ESTALE when it changed meanwhile (st untouched), -ENOENT
 * when it is gone. */
int registry_remove(struct registry *reg, const struct resource *r, json_object *obj, int64_t expect_rev,
		    int64_t *ret_rev, struct api_status *st);
/* A 422 Invalid from errs (consumed); returns -EINVAL, or 0 when errs is empty. */
int registry_invalid(const char *kind, const char *name, struct field_errors *errs, struct api_status *st);
/* The write path's steps, shared by create, update, patch and binding. Body checks of a
 * write: kind/apiVersion (filled in when missing), strict decoding, namespace and name
 * against the URL (name NULL: not checked). */
int registry_decode(const struct resource *r, const char *ns, const char *name, json_object *body,
		    const struct write_options *wo, struct api_status *st);
/* Creates a decoded body (namespace checked, retried for generated names and addresses). */
int registry_create_object(struct registry *reg, const struct resource *r, const char *ns, json_object *body,
			   const struct write_options *wo, json_object **ret, struct api_status *st);
/* Writes desired over old (stored at old_rev): -ESTALE when old changed meanwhile. */
int registry_update_object(struct registry *reg, const struct resource *r, const char *subresource,
			   json_object *desired, json_object *old, int64_t old_rev, const struct write_options *wo,
			   json_object **ret, struct api_status *st);
/* The object a PUT or PATCH asks for: body itself, or for subresource "scale" the stored
 * RC old with the Scale's spec.replicas. New reference; NULL on ENOMEM. */
json_object *registry_desired_of(const char *subresource, json_object *body, json_object *old);
/* The metadata.resourceVersion an object asks to be written over (0 = any), or 400. */
int registry_precondition(json_object *obj, int64_t *ret_rev, struct api_status *st);
/* The txn of a write: obj_op first, then the allocation plan's ops (releases of keys
 * already gone are dropped). *ret_failed: the failing plan entry, -1 for obj_op. */
struct alloc_plan;
int registry_commit(struct registry *reg, const struct store_op *obj_op, struct alloc_plan *plan,
		    int64_t *ret_rev, ssize_t *ret_failed);
/* POST pods/NAME/binding. */
int registry_bind(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		  json_object *body, const struct write_options *wo, json_object **ret, struct api_status *st);
/* The autoscaling/v1 Scale of a ReplicationController. New reference; NULL on ENOMEM. */
json_object *registry_scale_of(json_object *rc);

#endif
