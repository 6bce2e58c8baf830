/* The garbage collector (see gc.h). It remembers which uids some object names as owner,
 * so a deletion costs a scan of the owner's namespace only when something depended on it. */
#include "controllers/gc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "controllers/ctrl.h"
#include "controllers/informer.h"

#define COMPONENT "garbage-collector-controller"
#define RESYNC_MS 60000
#define RETRY_MS 2000

struct gc_controller {
	struct registry *reg;
	struct informer *inf;
	struct strset owners;     /* uids named in some ownerReference */
	struct strset gone;       /* owner uids deleted in this batch */
	struct strset gone_ns;    /* their namespaces ("" for cluster-scoped owners) */
	struct strset finalizing; /* "resource/ns/name" of owners with orphan or foreground finalizers */
	struct strset present;    /* owner uids seen to exist during this pass: one read per owner */
};

/* Resources whose objects can be dependents (Events never are). */
static bool scanned(const struct resource *r)
{
	return strcmp(r->kind, "Event") != 0;
}

static const struct resource *resource_of_key(const char *key, const char **ret_rest)
{
	for (size_t i = 0; i < resource_count; i++) {
		char prefix[128];
		const char *rest;

		/* resource_prefix(r, NULL) without an allocation per event and resource. */
		snprintf(prefix, sizeof(prefix), "/registry/%s/", resource_table[i].name);
		rest = informer_key_rest(key, prefix);

		if (rest) {
			*ret_rest = rest;
			return &resource_table[i];
		}
	}
	return NULL;
}

static void remember_owners(struct gc_controller *c, json_object *obj)
{
	json_object *refs = json_get_path(obj, "metadata.ownerReferences");

	for (size_t i = 0; refs && json_object_is_type(refs, json_type_array) && i < json_object_array_length(refs); i++) {
		const char *uid = json_get_string(json_object_array_get_idx(refs, i), "uid");

		if (uid)
			strset_add(&c->owners, uid);
	}
}

/* Whether the owner a reference names still exists (with that uid). Owners of kinds
 * skiff does not serve cannot be checked and count as present. */
static bool owner_exists(struct gc_controller *c, json_object *dependent, json_object *ref)
{
	const char *kind = json_get_string(ref, "kind"), *name = json_get_string(ref, "name");
	const char *api = json_get_string(ref, "apiVersion"), *uid = json_get_string(ref, "uid");
	const struct resource *r = kind ? resource_by_kind(kind) : NULL;
	_cleanup_json_ json_object *owner = NULL;
	struct api_status st = { 0 };
	int rc;

	if (!r || !name || !uid || (api && strcmp(api, "v1") != 0))
		return true;
	rc = registry_read(c->reg, r, r->namespaced ? meta_namespace(dependent) : NULL, name, &owner, NULL, &st);
	api_status_clear(&st);
	if (rc == -ENOENT)
		return false;
	return rc < 0 || strcmp(json_get_string(owner, "metadata.uid") ?: "", uid) == 0;
}

struct drop_arg {
	struct strset *uids;
};

static int mutate_drop_refs(json_object *obj, void *arg)
{
	struct drop_arg *a = arg;
	bool changed = false;

	for (size_t i = 0; i < a->uids->n; i++)
		changed |= owner_ref_remove(obj, a->uids->v[i]);
	return changed ? 0 : 1;
}

/* Deletes obj when none of its owners is left; drops the references to the gone ones
 * when some are. */
static void collect(struct gc_controller *c, const struct resource *r, json_object *obj)
{
	json_object *refs = json_get_path(obj, "metadata.ownerReferences");
	struct strset missing = { 0 };
	size_t n = refs && json_object_is_type(refs, json_type_array) ? json_object_array_length(refs) : 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		json_object *ref = json_object_array_get_idx(refs, i);
		const char *uid = json_get_string(ref, "uid") ?: "";

		if (strset_has(&c->present, uid))
			continue;
		if (owner_exists(c, obj, ref))
			strset_add(&c->present, uid);
		else
			strset_add(&missing, uid);
	}
	if (missing.n == 0 || meta_deleting(obj))
		goto out;
	if (missing.n < n) {
		struct drop_arg a = { .uids = &missing };

		ctrl_update(c->reg, r->name, meta_namespace(obj), meta_name(obj), NULL, mutate_drop_refs, &a, NULL);
		goto out;
	}
	rc = ctrl_delete(c->reg, r->name, meta_namespace(obj), meta_name(obj), -1, json_get_string(obj, "metadata.uid"));
	if (rc == 0)
		log_info("garbage collector: deleted %s %s%s%s, its owner is gone", r->singular,
			 meta_namespace(obj) ?: "", meta_namespace(obj) ? "/" : "", meta_name(obj));
	else if (rc != -ENOENT && rc != -ESTALE)
		log_warn_errno(rc, "garbage collector: deleting %s %s: %m", r->singular, meta_name(obj));
out:
	strset_clear(&missing);
}

static bool refs_any(json_object *obj, const struct strset *uids)
{
	for (size_t i = 0; i < uids->n; i++)
		if (owner_ref_by_uid(obj, uids->v[i]))
			return true;
	return false;
}

/* Calls fn on every object of the scanned resources in ns (NULL: everywhere). */
static void scan(struct gc_controller *c, const char *ns,
		 void (*fn)(struct gc_controller *, const struct resource *, json_object *, void *), void *arg)
{
	for (size_t i = 0; i < resource_count; i++) {
		const struct resource *r = &resource_table[i];
		_cleanup_json_ json_object *list = NULL;
		json_object *items;

		if (!scanned(r) || (ns && !r->namespaced) || ctrl_list(c->reg, r->name, ns, NULL, &list, &items) < 0)
			continue;
		for (size_t j = 0; j < json_object_array_length(items); j++)
			fn(c, r, json_object_array_get_idx(items, j), arg);
	}
}

static void collect_if_dependent(struct gc_controller *c, const struct resource *r, json_object *obj, void *arg)
{
	if (refs_any(obj, arg))
		collect(c, r, obj);
}

static void on_event(void *ctx, const struct store_event *ev)
{
	struct gc_controller *c = ctx;
	_cleanup_json_ json_object *obj = NULL;
	const struct resource *r;
	const char *rest, *uid;

	r = resource_of_key(ev->key, &rest);
	if (!r || !ev->value)
		return;
	/* Parse only what can matter: a deletion while something has owners, or an object
	 * with owners or finalizers. */
	if (ev->type == STORE_EVENT_DELETE ? c->owners.n == 0
					   : !strstr(ev->value, "\"ownerReferences\"") && !strstr(ev->value, "\"finalizers\""))
		return;
	obj = meta_from_stored(ev->value, ev->mod_rev);
	if (!obj)
		return;
	uid = json_get_string(obj, "metadata.uid");
	if (ev->type == STORE_EVENT_DELETE) {
		if (uid && strset_has(&c->owners, uid)) {
			strset_add(&c->gone, uid);
			strset_add(&c->gone_ns, r->namespaced ? meta_namespace(obj) ?: "" : "");
		}
		return;
	}
	remember_owners(c, obj);
	/* A new dependent may name an owner that is already gone. */
	if (!ev->prev_value && json_get_path(obj, "metadata.ownerReferences"))
		collect(c, r, obj);
	if (meta_deleting(obj) && (json_array_has_string(json_get_path(obj, "metadata.finalizers"), FINALIZER_ORPHAN) ||
				   json_array_has_string(json_get_path(obj, "metadata.finalizers"), FINALIZER_FOREGROUND)))
		strset_add(&c->finalizing, ev->key);
}

struct finalize_arg {
	const char *uid;
	bool orphan;
	size_t left; /* dependents still there (foreground) */
};

static void finalize_dependent(struct gc_controller *c, const struct resource *r, json_object *obj, void *arg)
{
	struct finalize_arg *a = arg;
	struct strset one = { 0 };
	struct drop_arg d = { .uids = &one };

	if (!owner_ref_by_uid(obj, a->uid))
		return;
	if (a->orphan) {
		strset_add(&one, a->uid);
		ctrl_update(c->reg, r->name, meta_namespace(obj), meta_name(obj), NULL, mutate_drop_refs, &d, NULL);
		strset_clear(&one);
		return;
	}
	a->left++;
	if (!meta_deleting(obj))
		ctrl_delete(c->reg, r->name, meta_namespace(obj), meta_name(obj), -1, json_get_string(obj, "metadata.uid"));
}

static int mutate_drop_finalizer(json_object *obj, void *arg)
{
	json_object *fin = json_get_path(obj, "metadata.finalizers");

	for (size_t i = 0; fin && i < json_object_array_length(fin); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(fin, i)) ?: "", arg) == 0) {
			json_object_array_del_idx(fin, i, 1);
			return 0;
		}
	return 1;
}

/* Orphan: dependents lose their reference, then the finalizer goes. Foreground: dependents
 * are deleted, and the finalizer goes once none is left. 0 when done, -EAGAIN to retry. */
static int finalize(struct gc_controller *c, const char *key)
{
	const char *rest, *slash;
	const struct resource *r = resource_of_key(key, &rest);
	_cleanup_json_ json_object *obj = NULL;
	_cleanup_free_ char *ns = NULL;
	struct finalize_arg a = { 0 };
	struct api_status st = { 0 };
	json_object *fin;
	int rc;

	if (!r)
		return 0;
	slash = r->namespaced ? strchr(rest, '/') : NULL;
	ns = slash ? ctrl_ns_of(rest) : NULL;
	rc = registry_read(c->reg, r, ns, slash ? slash + 1 : rest, &obj, NULL, &st);
	api_status_clear(&st);
	if (rc < 0)
		return rc == -ENOENT ? 0 : -EAGAIN;
	fin = json_get_path(obj, "metadata.finalizers");
	a.uid = json_get_string(obj, "metadata.uid");
	a.orphan = json_array_has_string(fin, FINALIZER_ORPHAN);
	if (!meta_deleting(obj) || !a.uid || (!a.orphan && !json_array_has_string(fin, FINALIZER_FOREGROUND)))
		return 0;
	scan(c, r->namespaced ? ns : NULL, finalize_dependent, &a);
	if (!a.orphan && a.left > 0)
		return -EAGAIN;
	rc = ctrl_update(c->reg, r->name, ns, meta_name(obj), NULL, mutate_drop_finalizer,
			 a.orphan ? FINALIZER_ORPHAN : FINALIZER_FOREGROUND, NULL);
	return rc < 0 && rc != -ENOENT ? -EAGAIN : 0;
}

static void flush(void *ctx)
{
	struct gc_controller *c = ctx;
	struct strset gone = c->gone, gone_ns = c->gone_ns, fin = c->finalizing;

	c->gone = c->gone_ns = c->finalizing = (struct strset){ 0 };
	strset_clear(&c->present);
	if (gone.n > 0 && strset_has(&gone_ns, ""))
		scan(c, NULL, collect_if_dependent, &gone);
	else
		for (size_t i = 0; i < gone_ns.n; i++)
			scan(c, gone_ns.v[i], collect_if_dependent, &gone);
	for (size_t i = 0; i < fin.n; i++)
		if (finalize(c, fin.v[i]) == -EAGAIN)
			strset_add(&c->finalizing, fin.v[i]);
	strset_clear(&gone);
	strset_clear(&gone_ns);
	strset_clear(&fin);
	strset_clear(&c->present);
}

static void tick(void *ctx)
{
	struct gc_controller *c = ctx;

	if (c->finalizing.n > 0)
		flush(c);
}

static void resync_one(struct gc_controller *c, const struct resource *r, json_object *obj, void *arg)
{
	_cleanup_free_ char *key = resource_key(r, meta_namespace(obj), meta_name(obj));

	(void)arg;
	remember_owners(c, obj);
	if (json_get_path(obj, "metadata.ownerReferences"))
		collect(c, r, obj);
	if (key && meta_deleting(obj) &&
	    (json_array_has_string(json_get_path(obj, "metadata.finalizers"), FINALIZER_ORPHAN) ||
	     json_array_has_string(json_get_path(obj, "metadata.finalizers"), FINALIZER_FOREGROUND)))
		strset_add(&c->finalizing, key);
}

static void resync(void *ctx)
{
	struct gc_controller *c = ctx;

	strset_clear(&c->owners);
	strset_clear(&c->present);
	scan(c, NULL, resync_one, NULL);
	flush(c);
}

static const char *const prefixes[] = { "/registry/", NULL };
static const struct informer_ops ops = {
	.name = "garbage collector",
	.thread_name = "ctrl-gc",
	.prefixes = prefixes,
	.event = on_event,
	.flush = flush,
	.resync = resync,
	.tick = tick,
	.tick_ms = RETRY_MS,
	.resync_ms = RESYNC_MS,
};

struct gc_controller *gc_controller_start(struct registry *reg)
{
	struct gc_controller *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->reg = reg;
	c->inf = informer_start(reg, &ops, c);
	if (!c->inf) {
		int err = errno;

		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void gc_controller_stop(struct gc_controller *c)
{
	if (!c)
		return;
	informer_stop(c->inf);
	strset_clear(&c->owners);
	strset_clear(&c->gone);
	strset_clear(&c->gone_ns);
	strset_clear(&c->finalizing);
	strset_clear(&c->present);
	free(c);
}
