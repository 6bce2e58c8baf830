/* The namespace teardown loop (see namespace.h): one thread on a store watch of
 * /registry/namespaces/, so a namespace marked for deletion is emptied and removed at once. */
#include "controllers/namespace.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/meta.h"

#define NS_PREFIX "/registry/namespaces/"
/* Namespaces whose objects wait on finalizers are retried this often. */
#define RETRY_MS 2000

struct namespace_controller {
	struct registry *reg;
	struct store_watch *sw;
	pthread_t thread;
	pthread_mutex_t lock; /* guards sw's replacement against stop()'s cancel */
	bool stopping;
	char **pending; /* namespaces not yet empty */
	size_t n_pending;
};

/* Deletes every object of one resource in the namespace. */
static int empty_resource(struct registry *reg, const struct resource *r, const char *ns)
{
	/* TODO: pods on nodes should end gracefully (their agents confirming) once agents exist;
	 * for now a terminating namespace removes its pods at once. */
	const struct delete_options now = { .grace_period_seconds = 0, .propagation_policy = "Background" };
	const struct list_options all = { 0 };
	_cleanup_json_ json_object *list = NULL;
	struct api_status st = { 0 };
	json_object *items;
	int rc;

	rc = registry_list(reg, r, ns, &all, &list, &st);
	api_status_clear(&st);
	if (rc < 0)
		return rc;
	items = json_get_path(list, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		_cleanup_json_ json_object *out = NULL;
		int code = 0;

		rc = registry_delete(reg, r, ns, meta_name(json_object_array_get_idx(items, i)), &now, &out, &code, &st);
		if (rc < 0 && rc != -ENOENT)
			log_debug("namespace %s: deleting %s %s: %s", ns, r->name,
				  meta_name(json_object_array_get_idx(items, i)), st.message ? st.message : "");
		api_status_clear(&st);
	}
	return 0;
}

static int count_left(struct registry *reg, const char *ns, size_t *ret)
{
	*ret = 0;
	for (size_t i = 0; i < resource_count; i++) {
		_cleanup_free_ char *prefix = NULL;
		size_t n = 0;
		int rc;

		if (!resource_table[i].namespaced)
			continue;
		prefix = resource_prefix(&resource_table[i], ns);
		if (!prefix)
			return -ENOMEM;
		rc = store_count(registry_store(reg), prefix, &n);
		if (rc < 0)
			return rc;
		*ret += n;
	}
	return 0;
}

/* Empties a terminating namespace and removes it. 0 when done (or it is not terminating),
 * -EAGAIN while objects remain (finalizers) or the namespace changed meanwhile. */
static int teardown(struct registry *reg, const char *ns)
{
	const struct resource *nsr = resource_by_name("namespaces");
	_cleanup_json_ json_object *obj = NULL;
	struct api_status st = { 0 };
	int64_t rev = 0;
	size_t left = 0;
	int rc;

	rc = registry_read(reg, nsr, NULL, ns, &obj, &rev, &st);
	api_status_clear(&st);
	if (rc == -ENOENT || (rc == 0 && !meta_deleting(obj)))
		return 0;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < resource_count; i++)
		if (resource_table[i].namespaced) {
			rc = empty_resource(reg, &resource_table[i], ns);
			if (rc < 0)
				return rc;
		}
	rc = count_left(reg, ns, &left);
	if (rc < 0)
		return rc;
	if (left > 0)
		return -EAGAIN;
	rc = registry_remove(reg, nsr, obj, rev, NULL, &st);
	api_status_clear(&st);
	if (rc == -ESTALE)
		return -EAGAIN;
	if (rc == 0)
		log_info("namespace %s: deleted", ns);
	return rc == -ENOENT ? 0 : rc;
}

static void pending_add(struct namespace_controller *c, const char *ns)
{
	char **v;

	for (size_t i = 0; i < c->n_pending; i++)
		if (strcmp(c->pending[i], ns) == 0)
			return;
	v = realloc(c->pending, (c->n_pending + 1) * sizeof(*v));
	if (!v)
		return;
	c->pending = v;
	c->pending[c->n_pending] = strdup(ns);
	if (c->pending[c->n_pending])
		c->n_pending++;
}

static void handle(struct namespace_controller *c, const char *ns)
{
	int rc = teardown(c->reg, ns);

	if (rc == -EAGAIN)
		pending_add(c, ns);
	else if (rc < 0)
		log_warn_errno(rc, "namespace %s: teardown failed: %m", ns);
}

static void retry_pending(struct namespace_controller *c)
{
	size_t n = c->n_pending;
	char **v = c->pending;

	c->pending = NULL;
	c->n_pending = 0;
	for (size_t i = 0; i < n; i++) {
		handle(c, v[i]);
		free(v[i]);
	}
	free(v);
}

/* Tears down every namespace already marked (at start, and after the watch fell behind). */
static void scan_all(struct namespace_controller *c)
{
	_cleanup_json_ json_object *list = NULL;
	const struct list_options all = { 0 };
	struct api_status st = { 0 };
	json_object *items;

	if (registry_list(c->reg, resource_by_name("namespaces"), NULL, &all, &list, &st) < 0) {
		log_warn("namespace controller: listing namespaces: %s", st.message ? st.message : "");
		api_status_clear(&st);
		return;
	}
	items = json_get_path(list, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		json_object *ns = json_object_array_get_idx(items, i);

		if (meta_deleting(ns))
			handle(c, meta_name(ns));
	}
}

/* The watch fell behind compaction: start a new one from now (then rescan). */
static int rewatch(struct namespace_controller *c)
{
	struct store_watch *sw = NULL;
	int rc;

	rc = store_watch_new(registry_store(c->reg), NS_PREFIX, 0, &sw);
	if (rc < 0) {
		log_error_errno(rc, "namespace controller: cannot watch namespaces again, stopping: %m");
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	store_watch_free(c->sw);
	c->sw = sw;
	if (c->stopping)
		store_watch_cancel(sw);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void *run(void *arg)
{
	struct namespace_controller *c = arg;

	scan_all(c);
	for (;;) {
		struct store_event ev = { 0 };
		int rc = store_watch_next(c->sw, &ev, c->n_pending ? RETRY_MS : -1);

		if (rc == -ECANCELED)
			break;
		if (rc == -ETIMEDOUT) {
			retry_pending(c);
		} else if (rc == -ERANGE) {
			if (rewatch(c) < 0)
				break;
			scan_all(c);
		} else if (rc < 0) {
			log_warn_errno(rc, "namespace controller: watch: %m");
		} else if (ev.type == STORE_EVENT_PUT && ev.key && strncmp(ev.key, NS_PREFIX, strlen(NS_PREFIX)) == 0) {
			_cleanup_json_ json_object *ns = meta_from_stored(ev.value, ev.mod_rev);

			if (ns && meta_deleting(ns))
				handle(c, ev.key + strlen(NS_PREFIX));
		}
		store_event_clear(&ev);
	}
	return NULL;
}

struct namespace_controller *namespace_controller_start(struct registry *reg)
{
	struct namespace_controller *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return NULL;
	c->reg = reg;
	pthread_mutex_init(&c->lock, NULL);
	/* Watch first, then scan: a namespace marked between the two is seen twice, never missed. */
	rc = store_watch_new(registry_store(reg), NS_PREFIX, 0, &c->sw);
	if (rc == 0)
		rc = -pthread_create(&c->thread, NULL, run, c);
	if (rc < 0) {
		store_watch_free(c->sw);
		free(c);
		errno = -rc;
		return NULL;
	}
	return c;
}

void namespace_controller_stop(struct namespace_controller *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	store_watch_cancel(c->sw);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	store_watch_free(c->sw);
	for (size_t i = 0; i < c->n_pending; i++)
		free(c->pending[i]);
	free(c->pending);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
