/* The registry's lifecycle, get and list (see registry.h): lists at one revision with
 * selectors and limit/continue paging. */
#include "api/registry.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/admission.h"
#include "api/alloc.h"
#include "api/meta.h"
#include "api/selector.h"
#include "controllers/namespace.h"

/* Selectors narrow a page after it is read, so read more than the page size. */
#define LIST_FILTERED_BATCH 256

struct registry {
	struct store *store;
	struct alloc *alloc;
	struct namespace_controller *ns_controller;
};

void registry_options_init(struct registry_options *o)
{
	*o = (struct registry_options){
		.service_cidr = "10.96.0.0/12",
		.node_port_min = 30000,
		.node_port_max = 32767,
	};
}

static int create_namespace(struct registry *reg, const char *name)
{
	const struct resource *r = resource_by_name("namespaces");
	_cleanup_json_ json_object *ns = json_object_new_object();
	_cleanup_free_ char *key = NULL, *value = NULL;
	int ret;

	if (!ns)
		return -ENOMEM;
	json_object_object_add(ns, "kind", json_object_new_string("Namespace"));
	json_object_object_add(ns, "apiVersion", json_object_new_string("v1"));
	meta_set_string(ns, "name", name);
	ret = admission_prepare_create(r, ns);
	if (ret < 0)
		return ret;
	key = resource_key(r, NULL, name);
	value = meta_to_stored(ns);
	if (!key || !value)
		return -ENOMEM;
	ret = store_create(reg->store, key, value, NULL);
	return ret == -EEXIST ? 0 : ret;
}

struct registry *registry_new(struct store *s, const struct registry_options *opts)
{
	static const char *const builtin[] = { "default", "kube-system", "kube-public", "kube-node-lease" };
	struct registry_options defaults;
	struct registry *reg;
	int r = 0;

	if (!opts) {
		registry_options_init(&defaults);
		opts = &defaults;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return NULL;
	reg->store = s;
	reg->alloc = alloc_new(opts->service_cidr ? opts->service_cidr : "10.96.0.0/12",
			       opts->node_port_min ? opts->node_port_min : 30000,
			       opts->node_port_max ? opts->node_port_max : 32767);
	if (!reg->alloc) {
		r = -errno;
		goto fail;
	}
	for (size_t i = 0; i < ELEMENTSOF(builtin) && r == 0; i++)
		r = create_namespace(reg, builtin[i]);
	if (r < 0)
		goto fail;
	r = admission_ns_cache_attach(s);
	if (r < 0)
		goto fail;
	reg->ns_controller = namespace_controller_start(reg);
	if (!reg->ns_controller) {
		r = -errno;
		goto fail;
	}
	return reg;
fail:
	registry_free(reg);
	errno = -r;
	return NULL;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	namespace_controller_stop(reg->ns_controller);
	admission_ns_cache_detach(reg->store);
	alloc_free(reg->alloc);
	free(reg);
}

struct store *registry_store(struct registry *reg)
{
	return reg->store;
}

struct alloc *registry_alloc(struct registry *reg)
{
	return reg->alloc;
}

int registry_read(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		  json_object **ret, int64_t *ret_rev, struct api_status *st)
{
	_cleanup_free_ char *key = resource_key(r, ns, name);
	struct store_kv kv = { 0 };
	json_object *obj;
	int ret_code;

	if (!key)
		return -ENOMEM;
	ret_code = store_get(reg->store, key, &kv);
	if (ret_code == -ENOENT) {
		api_status_not_found(st, resource_qualified_name(r), name);
		return ret_code;
	}
	if (ret_code < 0) {
		api_status_internal(st, ret_code, "reading from the store");
		return ret_code;
	}
	obj = meta_from_kv(&kv);
	if (!obj) {
		store_kv_clear(&kv);
		api_status_internal(st, -EIO, "decoding a stored object");
		return -EIO;
	}
	if (ret_rev)
		*ret_rev = kv.mod_rev;
	store_kv_clear(&kv);
	if (ret)
		*ret = obj;
	else
		json_object_put(obj);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "app=x,tier=y", sorted as Kubernetes' labels.Set.String prints it. */
static char *selector_string(json_object *map)
{
	size_t n = 0, len = 1;
	const char **keys;
	char *out, *p;

	if (!map || !json_object_is_type(map, json_type_object))
		return strdup("");
	keys = calloc((size_t)json_object_object_length(map) + 1, sizeof(*keys));
	if (!keys)
		return NULL;
	json_object_object_foreach(map, k, v) {
		keys[n++] = k;
		len += strlen(k) + strlen(json_object_get_string(v)) + 2;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	out = p = malloc(len);
	if (out) {
		*p = '\0';
		for (size_t i = 0; i < n; i++)
			p += sprintf(p, "%s%s=%s", i ? "," : "", keys[i],
				     json_object_get_string(json_object_object_get(map, keys[i])));
	}
	free(keys);
	return out;
}

json_object *registry_scale_of(json_object *rc)
{
	static const char *const meta_fields[] = { "name", "namespace", "uid", "resourceVersion", "creationTimestamp" };
	json_object *scale = json_object_new_object(), *m, *spec, *status, *v;
	_cleanup_free_ char *sel = selector_string(json_get_path(rc, "spec.selector"));

	if (!scale || !sel) {
		json_object_put(scale);
		return NULL;
	}
	json_object_object_add(scale, "kind", json_object_new_string("Scale"));
	json_object_object_add(scale, "apiVersion", json_object_new_string("autoscaling/v1"));
	m = meta_of(scale);
	for (size_t i = 0; m && i < ELEMENTSOF(meta_fields); i++) {
		const char *s = json_get_string(json_get_path(rc, "metadata"), meta_fields[i]);

		if (s)
			json_object_object_add(m, meta_fields[i], json_object_new_string(s));
	}
	spec = json_ensure_object(scale, "spec");
	status = json_ensure_object(scale, "status");
	v = json_get_path(rc, "spec.replicas");
	json_object_object_add(spec, "replicas", json_object_new_int64(v ? json_object_get_int64(v) : 1));
	v = json_get_path(rc, "status.replicas");
	json_object_object_add(status, "replicas", json_object_new_int64(v ? json_object_get_int64(v) : 0));
	json_object_object_add(status, "selector", json_object_new_string(sel));
	return scale;
}

int registry_get(struct registry *reg, const struct resource *r, const char *ns, const char *name,
		 const char *subresource, json_object **ret, struct api_status *st)
{
	json_object *obj = NULL;
	int rc;

	if (subresource && strcmp(subresource, "scale") == 0 && !r->has_scale) {
		api_status_not_found(st, resource_qualified_name(r), name);
		return -ENOENT;
	}
	rc = registry_read(reg, r, ns, name, &obj, NULL, st);
	if (rc < 0)
		return rc;
	if (subresource && strcmp(subresource, "scale") == 0) {
		json_object *scale = registry_scale_of(obj);

		json_object_put(obj);
		if (!scale) {
			api_status_internal(st, -ENOMEM, "building the scale");
			return -ENOMEM;
		}
		obj = scale;
	}
	*ret = obj;
	return 0;
}

/* The continue token: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key after prefix>"},
 * Kubernetes' own layout, opaque to clients. */
static char *continue_encode(int64_t rev, const char *start)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	gnutls_datum_t in, out = { 0 };
	const char *s;
	char *token;

	if (!o)
		return NULL;
	json_object_object_add(o, "v", json_object_new_string("meta.k8s.io/v1"));
	json_object_object_add(o, "rv", json_object_new_int64(rev));
	json_object_object_add(o, "start", json_object_new_string(start));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	in = (gnutls_datum_t){ .data = (unsigned char *)s, .size = (unsigned)strlen(s) };
	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	token = strndup((char *)out.data, out.size);
	gnutls_free(out.data);
	return token;
}

static int continue_decode(const char *token, int64_t *ret_rev, char **ret_start)
{
	gnutls_datum_t in = { .data = (unsigned char *)token, .size = (unsigned)strlen(token) }, out = { 0 };
	_cleanup_json_ json_object *o = NULL;
	json_object *rv;
	const char *err, *start;

	if (gnutls_base64_decode2(&in, &out) < 0)
		return -EINVAL;
	o = json_parse_buffer((char *)out.data, out.size, &err);
	gnutls_free(out.data);
	start = json_get_string(o, "start");
	rv = json_get_path(o, "rv");
	if (!start || !rv || !json_object_is_type(rv, json_type_int) || json_object_get_int64(rv) <= 0 ||
	    strstr(start, ".."))
		return -EINVAL;
	*ret_start = strdup(start);
	if (!*ret_start)
		return -ENOMEM;
	*ret_rev = json_object_get_int64(rv);
	return 0;
}

struct list_query {
	struct label_selector *labels;
	struct field_selector *fields;
	char *prefix;      /* the keys listed */
	char *start_after; /* absolute key, from a continue token */
	int64_t rev;       /* 0 = current */
	size_t limit;      /* 0 = all */
	bool filtered;     /* a selector may drop items */
};

static void list_query_clear(struct list_query *q)
{
	label_selector_free(q->labels);
	field_selector_free(q->fields);
	free(q->prefix);
	free(q->start_after);
	*q = (struct list_query){ 0 };
}

static int list_query_parse(const struct resource *r, const char *ns, const struct list_options *lo,
			    struct list_query *q, struct api_status *st)
{
	_cleanup_free_ char *err = NULL, *start = NULL;
	const char *pinned_ns;
	int ret;

	ret = label_selector_parse(lo && lo->label_selector ? lo->label_selector : "", &q->labels, &err);
	if (ret == 0)
		ret = field_selector_parse(lo && lo->field_selector ? lo->field_selector : "", r->name, &q->fields, &err);
	if (ret < 0) {
		api_status_bad_request(st, "%s", err ? err : "invalid selector");
		return ret;
	}
	q->filtered = !label_selector_empty(q->labels) || (lo && lo->field_selector && *lo->field_selector);
	/* A field selector pinning the namespace narrows an all-namespaces list to one prefix. */
	pinned_ns = field_selector_exact(q->fields, "metadata.namespace");
	q->prefix = resource_prefix(r, r->namespaced ? (ns ? ns : pinned_ns) : NULL);
	if (!q->prefix)
		return -ENOMEM;
	q->limit = lo && lo->limit > 0 ? (size_t)lo->limit : 0;
	if (lo && lo->continue_token && *lo->continue_token) {
		ret = continue_decode(lo->continue_token, &q->rev, &start);
		if (ret < 0 || asprintf(&q->start_after, "%s%s", q->prefix, start) < 0) {
			q->start_after = NULL;
			api_status_bad_request(st, "continue key is not valid: %s", "invalid continue token");
			return -EINVAL;
		}
		return 0;
	}
	/* Any resourceVersion is served at the newest revision ("not older than"); only its syntax is checked. */
	if (lo && lo->resource_version && meta_parse_rv(lo->resource_version, &q->rev) < 0) {
		api_status_bad_request(st, "invalid resource version: %s", lo->resource_version);
		return -EINVAL;
	}
	q->rev = 0;
	return 0;
}

static bool list_matches(const struct list_query *q, json_object *obj)
{
	return label_selector_matches(q->labels, json_get_path(obj, "metadata.labels")) &&
	       field_selector_matches(q->fields, obj);
}

static void list_expired(struct api_status *st)
{
	api_status_set(st, 410, "Expired",
		       "The provided continue parameter is too old to display a consistent list result. You can "
		       "start a new list without the continue parameter.");
}

/* Reads pages at one revision until limit matching items are found or keys run out.
 * *ret_next is the key to continue after (NULL when the list is complete). */
static int list_collect(struct registry *reg, struct list_query *q, json_object *items, int64_t *ret_rev,
			char **ret_next, struct api_status *st)
{
	_cleanup_free_ char *after = q->start_after ? strdup(q->start_after) : NULL;
	size_t found = 0;
	int64_t rev = q->rev;

	for (;;) {
		struct store_list_result res = { 0 };
		size_t batch = q->limit ? q->limit - found : 0;
		int r;

		if (batch && q->filtered && batch < LIST_FILTERED_BATCH)
			batch = LIST_FILTERED_BATCH;
		r = store_list(reg->store, q->prefix, after, batch, rev, &res);
		if (r == -ERANGE) {
			list_expired(st);
			return r;
		}
		if (r < 0) {
			api_status_internal(st, r, "listing from the store");
			return r;
		}
		rev = res.revision;
		for (size_t i = 0; i < res.n; i++) {
			json_object *obj = meta_from_kv(&res.items[i]);

			if (obj && list_matches(q, obj)) {
				json_object_array_add(items, obj);
				found++;
			} else {
				json_object_put(obj);
			}
			if (q->limit && found == q->limit && (i + 1 < res.n || res.more)) {
				*ret_next = strdup(res.items[i].key);
				store_list_result_clear(&res);
				*ret_rev = rev;
				return *ret_next ? 0 : -ENOMEM;
			}
		}
		free(after);
		after = res.n ? strdup(res.items[res.n - 1].key) : NULL;
		if (!res.more || !after) {
			store_list_result_clear(&res);
			*ret_next = NULL;
			*ret_rev = rev;
			return 0;
		}
		store_list_result_clear(&res);
	}
}

int registry_list(struct registry *reg, const struct resource *r, const char *ns, const struct list_options *lo,
		  json_object **ret, struct api_status *st)
{
	struct list_query q = { 0 };
	_cleanup_json_ json_object *list = json_object_new_object();
	_cleanup_free_ char *next = NULL;
	json_object *items = json_object_new_array(), *m;
	int64_t rev = 0;
	int rc;

	if (!list || !items) {
		json_object_put(items);
		return -ENOMEM;
	}
	json_object_object_add(list, "kind", json_object_new_string(r->list_kind));
	json_object_object_add(list, "apiVersion", json_object_new_string(r->api_version));
	m = meta_of(list);
	json_object_object_add(list, "items", items);
	rc = list_query_parse(r, ns, lo, &q, st);
	if (rc == 0)
		rc = list_collect(reg, &q, items, &rev, &next, st);
	if (rc < 0)
		goto out;
	meta_set_rv(list, rev);
	if (next) {
		_cleanup_free_ char *token = continue_encode(rev, next + strlen(q.prefix));

		if (!token) {
			rc = -ENOMEM;
			goto out;
		}
		json_object_object_add(m, "continue", json_object_new_string(token));
	}
	*ret = TAKE_PTR(list);
out:
	list_query_clear(&q);
	return rc;
}
