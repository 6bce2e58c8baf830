/* The ReplicationController controller (see rc.h): a batch of pod and RC events marks
 * their namespaces dirty; each dirty namespace's RCs are then synced against its pods.
 * Expectations keep a sync from acting twice on writes its watch has not yet shown. */
#include "controllers/rc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"
#include "api/selector.h"
#include "controllers/ctrl.h"
#include "controllers/events.h"
#include "controllers/expectations.h"
#include "controllers/informer.h"
#include "controllers/slow_start.h"

#define RC_PREFIX "/registry/replicationcontrollers/"
#define POD_PREFIX "/registry/pods/"
#define COMPONENT "replication-controller"
/* Kubernetes' burstReplicas: the most creates or deletes one sync issues. */
#define BURST 500
/* Threads one batch of creates or deletes runs on: enough to fill a group commit. */
#define PARALLEL 64
#define EXPECTATION_TTL_MS (5 * 60 * 1000)
#define RESYNC_MS 30000

struct rc_controller {
	struct registry *reg;
	struct informer *inf;
	struct expectations *exp;
	struct strset dirty;
};

static const struct write_options wo = { .field_manager = COMPONENT };

static void expectation_key(json_object *obj, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", meta_namespace(obj) ?: "", name);
}

/* The RC (key) a pod's controller reference names, or false. */
static bool pod_owner_key(json_object *pod, char *buf, size_t len)
{
	json_object *ref = owner_controller_ref(pod);
	const char *kind = json_get_string(ref, "kind"), *name = json_get_string(ref, "name");

	if (!ref || !kind || !name || strcmp(kind, "ReplicationController") != 0)
		return false;
	expectation_key(pod, name, buf, len);
	return true;
}

/* Counts a pod's creation or deletion against its RC's expectations. */
static void observe_pod(struct rc_controller *c, const struct store_event *ev)
{
	_cleanup_json_ json_object *pod = NULL, *prev = NULL;
	char key[512];

	/* Most pods in a busy cluster may have no owner: skip parsing those. */
	if (!ev->value || !strstr(ev->value, "\"ownerReferences\""))
		return;
	pod = meta_from_stored(ev->value, ev->mod_rev);
	if (!pod || !pod_owner_key(pod, key, sizeof(key)))
		return;
	prev = ev->prev_value ? meta_from_stored(ev->prev_value, 0) : NULL;
	if (ev->type == STORE_EVENT_PUT && !ev->prev_value)
		expectations_created(c->exp, key);
	else if (ev->type == STORE_EVENT_PUT && prev && !meta_deleting(prev) && meta_deleting(pod))
		expectations_deleted(c->exp, key);
	else if (ev->type == STORE_EVENT_DELETE && !meta_deleting(pod))
		expectations_deleted(c->exp, key);
}

static void on_event(void *ctx, const struct store_event *ev)
{
	struct rc_controller *c = ctx;
	const char *rest;

	if ((rest = informer_key_rest(ev->key, RC_PREFIX))) {
		if (ev->type == STORE_EVENT_DELETE)
			expectations_forget(c->exp, rest);
		strset_add_prefix(&c->dirty, rest);
	} else if ((rest = informer_key_rest(ev->key, POD_PREFIX))) {
		observe_pod(c, ev);
		strset_add_prefix(&c->dirty, rest);
	}
}

static json_object *owner_ref_of(json_object *rc)
{
	json_object *ref = json_object_new_object();

	json_object_object_add(ref, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(ref, "kind", json_object_new_string("ReplicationController"));
	json_object_object_add(ref, "name", json_object_new_string(meta_name(rc)));
	json_object_object_add(ref, "uid", json_object_new_string(json_get_string(rc, "metadata.uid") ?: ""));
	json_object_object_add(ref, "controller", json_object_new_boolean(1));
	json_object_object_add(ref, "blockOwnerDeletion", json_object_new_boolean(1));
	return ref;
}

static json_object *pod_from_template(json_object *rc)
{
	json_object *pod = json_object_new_object(), *m, *refs = json_object_new_array();
	json_object *tmeta = json_get_path(rc, "spec.template.metadata");
	char prefix[64];

	/* Kubernetes keeps generated names within 63 characters: 58 of prefix, 5 random. */
	snprintf(prefix, sizeof(prefix), "%.57s-", meta_name(rc));
	json_object_object_add(pod, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(pod, "kind", json_object_new_string("Pod"));
	m = meta_of(pod);
	json_object_object_add(m, "generateName", json_object_new_string(prefix));
	json_object_object_add(m, "namespace", json_object_new_string(meta_namespace(rc)));
	if (json_get_path(tmeta, "labels"))
		json_object_object_add(m, "labels", json_clone(json_get_path(tmeta, "labels")));
	if (json_get_path(tmeta, "annotations"))
		json_object_object_add(m, "annotations", json_clone(json_get_path(tmeta, "annotations")));
	json_object_array_add(refs, owner_ref_of(rc));
	json_object_object_add(m, "ownerReferences", refs);
	json_object_object_add(pod, "spec", json_clone(json_get_path(rc, "spec.template.spec")));
	return pod;
}

/* What one sync's parallel creates or deletes share; read only while they run, but for
 * each call's own slot. */
struct rc_batch {
	struct rc_controller *c;
	json_object *rc;
	json_object **objs; /* creates: the pods to create; deletes: the pods to delete */
	char **created;     /* creates: the name a pod got, or */
	char **failed;      /* why it was refused (both NULL: never tried) */
	atomic_int gone;    /* deletes that found the pod already gone */
};

static int create_one(void *arg, int i)
{
	struct rc_batch *b = arg;
	_cleanup_json_ json_object *out = NULL;
	struct api_status st = { 0 };
	int r = registry_create_object(b->c->reg, resource_by_name("pods"), meta_namespace(b->rc), b->objs[i], &wo,
				       &out, &st);

	if (r == 0)
		b->created[i] = strdup(meta_name(out) ?: "");
	else
		b->failed[i] = strdup(st.message ?: strerror(-r));
	api_status_clear(&st);
	return r;
}

static int create_event(void *arg, int i)
{
	struct rc_batch *b = arg;

	if (b->created[i])
		event_record(b->c->reg, b->rc, COMPONENT, EVENT_NORMAL, "SuccessfulCreate", "Created pod: %s",
			     b->created[i]);
	else if (b->failed[i])
		event_record(b->c->reg, b->rc, COMPONENT, EVENT_WARNING, "FailedCreate", "Error creating: %s",
			     b->failed[i]);
	return 0;
}

static void create_pods(struct rc_controller *c, json_object *rc, const char *key, int n)
{
	struct rc_batch b = { .c = c, .rc = rc };
	int built = 0, ok = 0;

	if (n > BURST)
		n = BURST;
	/* The templates are built here so the creating threads only read the RC. */
	b.objs = calloc(n, sizeof(*b.objs));
	b.created = calloc(n, sizeof(*b.created));
	b.failed = calloc(n, sizeof(*b.failed));
	while (b.objs && b.created && b.failed && built < n && (b.objs[built] = pod_from_template(rc)))
		built++;
	if (built == 0 || expectations_expect(c->exp, key, built, 0, ctrl_now_ms()) < 0)
		goto out;
	ok = slow_start_batch(built, PARALLEL, create_one, &b);
	/* A failed or skipped create never shows up on the watch: stop waiting for it. This
	 * thread also runs the watch callbacks, so nothing lowers them meanwhile. */
	for (int i = ok; i < built; i++)
		expectations_created(c->exp, key);
	if (ok < built)
		log_info("replicationcontroller %s: %d of %d creates failed or skipped", key, built - ok, built);
	/* The events follow all at once, off the creates' path: each create waits one commit. */
	slow_start_all(built, PARALLEL, create_event, &b);
out:
	for (int i = 0; i < built; i++) {
		json_object_put(b.objs[i]);
		free(b.created[i]);
		free(b.failed[i]);
	}
	free(b.objs);
	free(b.created);
	free(b.failed);
}

static int delete_one(void *arg, int i)
{
	struct rc_batch *b = arg;
	json_object *pod = b->objs[i];
	int r = ctrl_delete(b->c->reg, "pods", meta_namespace(pod), meta_name(pod), -1,
			    json_get_string(pod, "metadata.uid"));

	if (r == -ENOENT) {
		/* Someone else's delete is no reason to slow down ours. */
		atomic_fetch_add(&b->gone, 1);
		return 0;
	}
	if (r == 0)
		event_record(b->c->reg, b->rc, COMPONENT, EVENT_NORMAL, "SuccessfulDelete", "Deleted pod: %s",
			     meta_name(pod));
	else
		event_record(b->c->reg, b->rc, COMPONENT, EVENT_WARNING, "FailedDelete",
			     "Error deleting: pod %s: %s", meta_name(pod), strerror(-r));
	return r;
}

static void delete_pods(struct rc_controller *c, json_object *rc, const char *key, json_object **active,
			size_t n_active, int n)
{
	struct rc_batch b = { .c = c, .rc = rc, .objs = active };
	int ok;

	if (n > BURST)
		n = BURST;
	rc_sort_for_deletion(active, n_active);
	if (expectations_expect(c->exp, key, 0, n, ctrl_now_ms()) < 0)
		return;
	ok = slow_start_batch(n, PARALLEL, delete_one, &b);
	/* Failed, skipped, or already gone (its delete event may have passed already). */
	ok -= atomic_load(&b.gone);
	for (int i = ok; i < n; i++)
		expectations_deleted(c->exp, key);
}

static int64_t want_replicas(json_object *rc)
{
	json_object *r = json_get_path(rc, "spec.replicas");

	return r ? json_object_get_int64(r) : 1;
}

struct adopt_arg {
	json_object *rc;
	bool adopt; /* false: release */
};

static int mutate_owner(json_object *pod, void *arg)
{
	struct adopt_arg *a = arg;
	json_object *ref = owner_controller_ref(pod), *refs;
	const char *uid = json_get_string(a->rc, "metadata.uid");

	if (meta_deleting(pod))
		return 1;
	if (!a->adopt)
		return ref && owner_ref_remove(pod, uid) ? 0 : 1;
	if (ref)
		return 1; /* someone else's now */
	refs = json_get_path(pod, "metadata.ownerReferences");
	if (!refs || !json_object_is_type(refs, json_type_array)) {
		refs = json_object_new_array();
		json_object_object_add(meta_of(pod), "ownerReferences", refs);
	}
	json_object_array_add(refs, owner_ref_of(a->rc));
	return 0;
}

/* Whether rc owns pod, adopting a matching orphan and releasing an owned pod that no
 * longer matches, as Kubernetes' ControllerRefManager does. */
static bool claim(struct rc_controller *c, json_object *rc, const struct label_selector *sel, json_object *pod)
{
	json_object *ref = owner_controller_ref(pod);
	const char *uid = json_get_string(rc, "metadata.uid"), *ref_uid = json_get_string(ref, "uid");
	bool match = label_selector_matches(sel, json_get_path(pod, "metadata.labels"));
	struct adopt_arg a = { .rc = rc, .adopt = !ref };

	if (ref && (!ref_uid || !uid || strcmp(ref_uid, uid) != 0))
		return false;
	if (ref && match)
		return true;
	if ((!ref && !match) || meta_deleting(pod) || (!ref && pod_is_terminal(pod)))
		return false;
	if (ctrl_update(c->reg, "pods", meta_namespace(pod), meta_name(pod), NULL, mutate_owner, &a, NULL) != 0)
		return false;
	log_info("replicationcontroller %s/%s: %s pod %s", meta_namespace(rc), meta_name(rc),
		 a.adopt ? "adopted" : "released", meta_name(pod));
	return a.adopt;
}

static int mutate_status(json_object *rc, void *arg)
{
	const struct rc_counts *n = arg;
	json_object *status = json_ensure_object(rc, "status"), *gen = json_get_path(rc, "metadata.generation");
	const struct {
		const char *field;
		int64_t v;
	} want[] = { { "replicas", n->replicas },
		     { "fullyLabeledReplicas", n->fully_labeled },
		     { "readyReplicas", n->ready },
		     { "availableReplicas", n->available },
		     { "observedGeneration", gen ? json_object_get_int64(gen) : 0 } };
	bool changed = false;

	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		json_object *have = json_get_path(status, want[i].field);

		if (have && json_object_get_int64(have) == want[i].v)
			continue;
		json_object_object_add(status, want[i].field, json_object_new_int64(want[i].v));
		changed = true;
	}
	return changed ? 0 : 1;
}

static void sync_rc(struct rc_controller *c, json_object *rc, json_object *pods)
{
	json_object **active = NULL, *copy;
	struct label_selector *sel = NULL;
	struct rc_counts counts;
	char key[512];
	size_t n = 0;
	int64_t diff;

	if (meta_deleting(rc) || label_selector_from_map(json_get_path(rc, "spec.selector"), &sel) < 0)
		return;
	active = calloc(json_object_array_length(pods) + 1, sizeof(*active));
	if (!active || label_selector_empty(sel))
		goto out; /* validation forbids it; never let an RC claim a whole namespace */
	expectation_key(rc, meta_name(rc), key, sizeof(key));
	for (size_t i = 0; i < json_object_array_length(pods); i++) {
		json_object *pod = json_object_array_get_idx(pods, i);

		if (claim(c, rc, sel, pod) && !pod_is_terminal(pod) && !meta_deleting(pod))
			active[n++] = pod;
	}
	rc_count(rc, active, n, time(NULL), &counts);
	if (expectations_satisfied(c->exp, key, ctrl_now_ms())) {
		diff = (int64_t)n - want_replicas(rc);
		if (diff < 0)
			create_pods(c, rc, key, (int)-diff);
		else if (diff > 0)
			delete_pods(c, rc, key, active, n, (int)diff);
	}
	/* The listed RC tells whether there is anything to write, without another read. */
	copy = json_clone(rc);
	if (copy && mutate_status(copy, &counts) == 0)
		ctrl_update(c->reg, "replicationcontrollers", meta_namespace(rc), meta_name(rc), "status",
			    mutate_status, &counts, NULL);
	json_object_put(copy);
out:
	free(active);
	label_selector_free(sel);
}

static void sync_namespace(struct rc_controller *c, const char *ns)
{
	_cleanup_json_ json_object *rcl = NULL, *pl = NULL;
	json_object *rcs, *pods;

	if (ctrl_list(c->reg, "replicationcontrollers", ns, NULL, &rcl, &rcs) < 0 || json_object_array_length(rcs) == 0)
		return;
	if (ctrl_list(c->reg, "pods", ns, NULL, &pl, &pods) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(rcs); i++)
		sync_rc(c, json_object_array_get_idx(rcs, i), pods);
}

static void flush(void *ctx)
{
	struct rc_controller *c = ctx;
	struct strset dirty = c->dirty;

	c->dirty = (struct strset){ 0 };
	for (size_t i = 0; i < dirty.n; i++)
		sync_namespace(c, dirty.v[i]);
	strset_clear(&dirty);
}

static void resync(void *ctx)
{
	struct rc_controller *c = ctx;
	_cleanup_json_ json_object *list = NULL;
	json_object *items;

	/* Writes here are synchronous, so the lists below already hold every pod this
	 * controller made: a full resync needs no expectations, and a watch that fell behind
	 * may have lost the events that would have lowered them. */
	expectations_clear(c->exp);
	if (ctrl_list(c->reg, "replicationcontrollers", NULL, NULL, &list, &items) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(items); i++)
		strset_add(&c->dirty, meta_namespace(json_object_array_get_idx(items, i)));
	flush(c);
}

static const char *const prefixes[] = { RC_PREFIX, POD_PREFIX, NULL };
static const struct informer_ops ops = {
	.name = "replication controller",
	.thread_name = "ctrl-rc",
	.prefixes = prefixes,
	.event = on_event,
	.flush = flush,
	.resync = resync,
	.resync_ms = RESYNC_MS,
};

struct rc_controller *rc_controller_start(struct registry *reg)
{
	struct rc_controller *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->reg = reg;
	c->exp = expectations_new(EXPECTATION_TTL_MS);
	if (c->exp)
		c->inf = informer_start(reg, &ops, c);
	if (!c->inf) {
		int err = errno ?: ENOMEM;

		expectations_free(c->exp);
		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void rc_controller_stop(struct rc_controller *c)
{
	if (!c)
		return;
	informer_stop(c->inf);
	expectations_free(c->exp);
	strset_clear(&c->dirty);
	free(c);
}
