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
/* DELETE. *ret is the object as it now is (graceful deletion: with deletionTimestamp,
 * *ret_code 202... Kubernetes answers 200 with the object) or the deleted object. */
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
/* 0 and *ret_type ("ADDED", "MODIFIED", "DELETED", "BOOKMARK") + *ret_obj (new reference);
 * -ETIMEDOUT; -ERANGE when the start revision is compacted (send 410 Gone: the caller
 * sends it as an ERROR event with a Status); -ECANCELED after cancel. */
int registry_watch_next(struct registry_watch *w, const char **ret_type, json_object **ret_obj, int timeout_ms);
int registry_watch_fd(struct registry_watch *w);
void registry_watch_cancel(struct registry_watch *w);
void registry_watch_free(struct registry_watch *w);

#endif
