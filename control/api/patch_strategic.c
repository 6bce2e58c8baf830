/* Strategic merge patch with the server-side semantics of Kubernetes' apimachinery
 * strategicpatch: nulls delete, merge lists by key, $patch / $setElementOrder /
 * $deleteFromPrimitiveList / $retainKeys directives. */
#include "api/patch.h"

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIRECTIVE "$patch"
#define RETAIN_KEYS "$retainKeys"
#define SET_ORDER_PREFIX "$setElementOrder/"
#define DELETE_PRIMITIVE_PREFIX "$deleteFromPrimitiveList/"

/* A borrowed view of list items; the json arrays that own them outlive the vector. */
struct vec {
	json_object **v;
	size_t n, cap;
};

static int merge_map(json_object *dst, json_object *patch, const struct patch_field *type, char **err);
static int merge_list(json_object *cur, json_object *patch, const struct patch_field *f, json_object **ret,
		      char **err);

static int fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **err, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (err)
		*err = msg;
	else
		free(msg);
	return msg ? -EINVAL : -ENOMEM;
}

static const char *js(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int vec_push(struct vec *a, json_object *o)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		json_object **v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = o;
	return 0;
}

static int vec_from_array(struct vec *a, json_object *arr)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n; i++)
		if (vec_push(a, json_object_array_get_idx(arr, i)) < 0)
			return -ENOMEM;
	return 0;
}

static bool is_number(json_object *o)
{
	return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

/* Numbers compare by value (1 == 1.0), as Go's float64 JSON numbers do. */
static bool value_equal(json_object *a, json_object *b)
{
	if (is_number(a) && is_number(b)) {
		if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int))
			return json_object_get_int64(a) == json_object_get_int64(b) &&
			       json_object_get_uint64(a) == json_object_get_uint64(b);
		return json_object_get_double(a) == json_object_get_double(b);
	}
	return json_object_equal(a, b);
}

static json_object *merge_value(json_object *elem, const char *key)
{
	json_object *v;

	if (!json_object_is_type(elem, json_type_object) || !json_object_object_get_ex(elem, key, &v))
		return NULL;
	return v;
}

/* Position of item among the first n of items: by merge key for maps, by value otherwise. */
static ssize_t index_of(json_object **items, size_t n, json_object *item, const char *key)
{
	json_object *want = key ? merge_value(item, key) : item;

	if (key && !want)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *have = key ? merge_value(items[i], key) : items[i];

		if ((!key || have) && value_equal(have, want))
			return (ssize_t)i;
	}
	return -1;
}

/* Stable insertion sort of items by their position in order; items missing from order stay put. */
static int sort_by(struct vec *a, json_object **order, size_t n_order, const char *key)
{
	_cleanup_free_ ssize_t *pos = calloc(a->n ? a->n : 1, sizeof(*pos));

	if (!pos)
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++)
		pos[i] = index_of(order, n_order, a->v[i], key);
	for (size_t i = 1; i < a->n; i++) {
		json_object *x = a->v[i];
		ssize_t xi = pos[i];
		size_t j = i;

		while (xi >= 0 && j > 0 && pos[j - 1] > xi) {
			a->v[j] = a->v[j - 1];
			pos[j] = pos[j - 1];
			j--;
		}
		a->v[j] = x;
		pos[j] = xi;
	}
	return 0;
}

/* apimachinery's element order: items named in patch_order sorted by it, the others by
 * the server's order, then interleaved so server-only items keep their place relative
 * to the patch items the server already had. Returns a new array holding new refs. */
static int order_items(struct vec *merged, json_object **patch_order, size_t n_patch, json_object **server,
		       size_t n_server, const char *key, json_object **ret)
{
	struct vec in_patch = { 0 }, server_only = { 0 };
	json_object *out = NULL;
	size_t i = 0, j = 0;
	int r = -ENOMEM;

	for (size_t k = 0; k < merged->n; k++) {
		bool named = index_of(patch_order, n_patch, merged->v[k], key) >= 0;

		if (vec_push(named ? &in_patch : &server_only, merged->v[k]) < 0)
			goto out;
	}
	if (sort_by(&in_patch, patch_order, n_patch, key) < 0 || sort_by(&server_only, server, n_server, key) < 0)
		goto out;
	out = json_object_new_array();
	if (!out)
		goto out;
	while (i < server_only.n || j < in_patch.n) {
		json_object *next;

		if (j >= in_patch.n) {
			next = server_only.v[i++];
		} else if (i >= server_only.n) {
			next = in_patch.v[j++];
		} else {
			ssize_t li = index_of(server, n_server, server_only.v[i], key);
			ssize_t ri = index_of(server, n_server, in_patch.v[j], key);

			next = li >= 0 && ri >= 0 && li < ri ? server_only.v[i++] : in_patch.v[j++];
		}
		if (json_object_array_add(out, json_object_get(next)) < 0)
			goto out;
	}
	*ret = TAKE_PTR(out);
	r = 0;
out:
	json_object_put(out);
	free(in_patch.v);
	free(server_only.v);
	return r;
}

/* Whether the items of both lists are maps; errors for lists of lists and mixed lists. */
static int list_kind(json_object *a, json_object *b, bool *ret_maps, char **err)
{
	json_object *lists[] = { a, b };
	enum json_type seen = json_type_null;
	bool any = false;

	for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
		size_t n = json_object_is_type(lists[l], json_type_array) ? json_object_array_length(lists[l]) : 0;

		for (size_t i = 0; i < n; i++) {
			enum json_type t = json_object_get_type(json_object_array_get_idx(lists[l], i));

			if (t == json_type_array)
				return fail(err, "lists of lists are not supported");
			if (t == json_type_int)
				t = json_type_double; /* one JSON number type */
			if (any && t != seen)
				return fail(err, "list element types are not identical: %s and %s", js(a), js(b));
			seen = t;
			any = true;
		}
	}
	*ret_maps = seen == json_type_object;
	return 0;
}

/* A patch value for a field the original lacks: built into an empty container so
 * directives and nulls inside it are processed rather than stored. */
static int build_fresh(json_object *v, const struct patch_field *f, json_object **ret, char **err)
{
	_cleanup_json_ json_object *empty = NULL;
	int r;

	if (json_object_is_type(v, json_type_object)) {
		empty = json_object_new_object();
		if (!empty)
			return -ENOMEM;
		r = merge_map(empty, v, f ? f->type : NULL, err);
		if (r < 0)
			return r;
		*ret = TAKE_PTR(empty);
		return 0;
	}
	if (json_object_is_type(v, json_type_array)) {
		empty = json_object_new_array();
		if (!empty)
			return -ENOMEM;
		return merge_list(empty, v, f, ret, err);
	}
	*ret = json_object_get(v);
	return 0;
}

static int merge_primitives(json_object *cur, json_object *patch, json_object **ret)
{
	struct vec server = { 0 }, patch_items = { 0 }, merged = { 0 };
	int r = -ENOMEM;

	if (vec_from_array(&server, cur) < 0 || vec_from_array(&patch_items, patch) < 0)
		goto out;
	for (size_t i = 0; i < server.n + patch_items.n; i++) {
		json_object *o = i < server.n ? server.v[i] : patch_items.v[i - server.n];

		if (index_of(merged.v, merged.n, o, NULL) < 0 && vec_push(&merged, o) < 0)
			goto out;
	}
	r = order_items(&merged, patch_items.v, patch_items.n, server.v, server.n, NULL, ret);
out:
	free(server.v);
	free(patch_items.v);
	free(merged.v);
	return r;
}

/* Applies the $patch elements of a merge list: delete drops the matching items of
 * work, replace makes the plain patch items the whole list. */
static int list_directives(struct vec *work, json_object *patch, const char *key, struct vec *plain,
			   bool *ret_replace, char **err)
{
	size_t n = json_object_array_length(patch);

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(patch, i), *d, *mv;
		const char *how;

		if (!json_object_object_get_ex(p, DIRECTIVE, &d)) {
			if (vec_push(plain, p) < 0)
				return -ENOMEM;
			continue;
		}
		how = json_object_is_type(d, json_type_string) ? json_object_get_string(d) : "";
		if (strcmp(how, "replace") == 0) {
			*ret_replace = true;
		} else if (strcmp(how, "merge") == 0) {
			return fail(err, "merging lists cannot yet be specified in the patch");
		} else if (strcmp(how, "delete") == 0) {
			mv = merge_value(p, key);
			if (!mv)
				return fail(err, "map: %s does not contain declared merge key: %s", js(p), key);
			for (ssize_t k; (k = index_of(work->v, work->n, p, key)) >= 0;) {
				memmove(&work->v[k], &work->v[k + 1], (work->n - (size_t)k - 1) * sizeof(*work->v));
				work->n--;
			}
		} else {
			return fail(err, "unknown patch type: %s in map: %s", js(d), js(p));
		}
	}
	return 0;
}

static int merge_map_list(json_object *cur, json_object *patch, const struct patch_field *f, json_object **ret,
			  char **err)
{
	struct vec work = { 0 }, plain = { 0 }, fresh = { 0 };
	bool replace = false;
	size_t n_server;
	int r;

	r = vec_from_array(&work, cur);
	if (r < 0)
		goto out;
	r = list_directives(&work, patch, f->merge_key, &plain, &replace, err);
	if (r < 0)
		goto out;
	if (replace)
		work.n = 0;
	n_server = work.n;
	for (size_t i = 0; i < plain.n; i++) {
		json_object *p = plain.v[i], *built = NULL;
		ssize_t k = index_of(work.v, work.n, p, f->merge_key);

		/* A brand-new list keeps items without a key; validation judges them. */
		if (!replace && n_server > 0 && !merge_value(p, f->merge_key)) {
			r = fail(err, "map: %s does not contain declared merge key: %s", js(p), f->merge_key);
			goto out;
		}
		if (k >= 0 && !replace) {
			r = merge_map(work.v[k], p, f->type, err);
		} else {
			r = build_fresh(p, &(struct patch_field){ f->name, PATCH_STRATEGY_REPLACE, NULL, f->type },
					&built, err);
			if (r == 0 && (r = vec_push(&fresh, built)) < 0)
				json_object_put(built);
			if (r == 0)
				r = vec_push(&work, built);
		}
		if (r < 0)
			goto out;
	}
	if (replace)
		r = order_items(&work, NULL, 0, work.v, work.n, f->merge_key, ret);
	else
		r = order_items(&work, plain.v, plain.n, work.v, n_server, f->merge_key, ret);
out:
	for (size_t i = 0; i < fresh.n; i++)
		json_object_put(fresh.v[i]);
	free(work.v);
	free(plain.v);
	free(fresh.v);
	return r;
}

/* Merges list patch into cur (both arrays) as field f says; returns a new array. */
static int merge_list(json_object *cur, json_object *patch, const struct patch_field *f, json_object **ret,
		      char **err)
{
	bool maps = false;
	int r;

	if (!f || f->strategy != PATCH_STRATEGY_MERGE) {
		*ret = json_object_get(patch);
		return 0;
	}
	r = list_kind(cur, patch, &maps, err);
	if (r < 0)
		return r;
	if (!maps)
		return merge_primitives(cur, patch, ret);
	if (!f->merge_key)
		return fail(err, "cannot merge lists without merge key for %s", f->name);
	return merge_map_list(cur, patch, f, ret, err);
}

static int delete_keys_except(json_object *dst, json_object *keep)
{
	for (bool again = true; again;) {
		again = false;
		json_object_object_foreach(dst, k, v) {
			(void)v;
			if (!keep || !json_object_object_get_ex(keep, k, NULL)) {
				_cleanup_free_ char *name = strdup(k);

				if (!name)
					return -ENOMEM;
				json_object_object_del(dst, name);
				again = true;
				break;
			}
		}
	}
	return 0;
}

static int map_directive(json_object *dst, json_object *patch, json_object *d, char **err)
{
	const char *how = json_object_is_type(d, json_type_string) ? json_object_get_string(d) : "";
	int r;

	if (strcmp(how, "replace") != 0 && strcmp(how, "delete") != 0)
		return fail(err, "unknown patch type: %s in map: %s", js(d), js(patch));
	r = delete_keys_except(dst, NULL);
	if (r < 0 || strcmp(how, "delete") == 0)
		return r;
	/* replace: the patch is the new map, as is. */
	json_object_object_foreach(patch, k, v) {
		if (strcmp(k, DIRECTIVE) != 0 && json_object_object_add(dst, k, json_object_get(v)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int retain_keys(json_object *dst, json_object *patch, char **err)
{
	_cleanup_json_ json_object *keep = NULL;
	json_object *list;
	size_t n;

	if (!json_object_object_get_ex(patch, RETAIN_KEYS, &list))
		return 0;
	if (!json_object_is_type(list, json_type_array))
		return fail(err, "invalid patch format of retainKeys: %s", js(list));
	keep = json_object_new_object();
	if (!keep)
		return -ENOMEM;
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(list, i);

		if (!json_object_is_type(k, json_type_string))
			return fail(err, "invalid patch format of retainKeys: %s", js(list));
		json_object_object_add(keep, json_object_get_string(k), NULL);
	}
	json_object_object_foreach(patch, k, v) {
		if (!v || k[0] == '$')
			continue;
		if (!json_object_object_get_ex(keep, k, NULL))
			return fail(err, "invalid patch format of retainKeys: field %s is not in %s", k, js(list));
	}
	return delete_keys_except(dst, keep);
}

/* The list a $setElementOrder directive applies to, when the patch carries it as a list. */
static bool ordered_by_directive(json_object *patch, const char *k)
{
	_cleanup_free_ char *dk = NULL;
	json_object *v;

	if (!json_object_object_get_ex(patch, k, &v) || !json_object_is_type(v, json_type_array))
		return false;
	if (asprintf(&dk, SET_ORDER_PREFIX "%s", k) < 0)
		return false;
	return json_object_object_get_ex(patch, dk, NULL);
}

static int set_element_order(json_object *dst, json_object *patch, const char *name, json_object *order,
			     const struct patch_field *type, char **err)
{
	const struct patch_field *f = patch_schema_field(type, name);
	const char *key = f ? f->merge_key : NULL;
	_cleanup_json_ json_object *merged_list = NULL, *out = NULL;
	struct vec merged = { 0 }, ord = { 0 }, server = { 0 };
	json_object *cur = NULL, *pl = NULL;
	int r;

	if (!json_object_is_type(order, json_type_array) || !*name)
		return fail(err, "invalid patch format of $setElementOrder list: %s", js(order));
	json_object_object_get_ex(dst, name, &cur);
	json_object_object_get_ex(patch, name, &pl);
	if ((cur && !json_object_is_type(cur, json_type_array)) || (pl && !json_object_is_type(pl, json_type_array)))
		return fail(err, "field %s is not a list, but $setElementOrder/%s orders it", name, name);
	if (!cur && !pl)
		return 0;
	if (pl) {
		_cleanup_json_ json_object *empty = cur ? NULL : json_object_new_array();

		if (!cur && !empty)
			return -ENOMEM;
		r = merge_list(cur ? cur : empty, pl, f, &merged_list, err);
	} else {
		merged_list = json_object_get(cur);
		r = 0;
	}
	if (r < 0)
		return r;
	r = -ENOMEM;
	if (vec_from_array(&merged, merged_list) < 0 || vec_from_array(&ord, order) < 0 ||
	    vec_from_array(&server, cur) < 0)
		goto out;
	r = order_items(&merged, ord.v, ord.n, server.v, server.n, key, &out);
	if (r == 0 && json_object_object_add(dst, name, TAKE_PTR(out)) < 0)
		r = -ENOMEM;
out:
	free(merged.v);
	free(ord.v);
	free(server.v);
	return r;
}

static int delete_from_primitive_list(json_object *dst, const char *name, json_object *del, char **err)
{
	json_object *cur, *out;
	size_t n;

	if (!json_object_is_type(del, json_type_array) || !*name)
		return fail(err, "invalid patch format of $deleteFromPrimitiveList: %s", js(del));
	if (!json_object_object_get_ex(dst, name, &cur) || !json_object_is_type(cur, json_type_array))
		return 0;
	out = json_object_new_array();
	if (!out)
		return -ENOMEM;
	n = json_object_array_length(cur);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(cur, i);
		bool drop = false;

		for (size_t j = 0; j < json_object_array_length(del) && !drop; j++)
			drop = value_equal(o, json_object_array_get_idx(del, j));
		if (!drop)
			json_object_array_add(out, json_object_get(o));
	}
	return json_object_object_add(dst, name, out) < 0 ? -ENOMEM : 0;
}

static int merge_field(json_object *dst, const char *k, json_object *v, const struct patch_field *type, char **err)
{
	const struct patch_field *f = patch_schema_field(type, k);
	json_object *cur = NULL, *nv = NULL;
	int r;

	if (!v) {
		json_object_object_del(dst, k);
		return 0;
	}
	json_object_object_get_ex(dst, k, &cur);
	if (json_object_is_type(cur, json_type_object) && json_object_is_type(v, json_type_object))
		return merge_map(cur, v, f ? f->type : NULL, err);
	if (json_object_is_type(cur, json_type_array) && json_object_is_type(v, json_type_array))
		r = merge_list(cur, v, f, &nv, err);
	else
		r = build_fresh(v, f, &nv, err);
	if (r < 0)
		return r;
	return json_object_object_add(dst, k, nv) < 0 ? -ENOMEM : 0;
}

static int merge_map(json_object *dst, json_object *patch, const struct patch_field *type, char **err)
{
	json_object *d;
	int r;

	if (!json_object_is_type(patch, json_type_object))
		return fail(err, "invalid patch: %s is not a map", js(patch));
	if (json_object_object_get_ex(patch, DIRECTIVE, &d))
		return map_directive(dst, patch, d, err);
	r = retain_keys(dst, patch, err);
	if (r < 0)
		return r;
	json_object_object_foreach(patch, ok, ov) {
		if (has_prefix(ok, SET_ORDER_PREFIX)) {
			r = set_element_order(dst, patch, ok + strlen(SET_ORDER_PREFIX), ov, type, err);
			if (r < 0)
				return r;
		}
	}
	json_object_object_foreach(patch, k, v) {
		if (has_prefix(k, DELETE_PRIMITIVE_PREFIX))
			r = delete_from_primitive_list(dst, k + strlen(DELETE_PRIMITIVE_PREFIX), v, err);
		else if (strcmp(k, RETAIN_KEYS) == 0 || has_prefix(k, SET_ORDER_PREFIX) ||
			 ordered_by_directive(patch, k))
			r = 0;
		else
			r = merge_field(dst, k, v, type, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int patch_strategic(const char *kind, json_object *orig, json_object *patch, json_object **ret, char **ret_err)
{
	_cleanup_json_ json_object *result = NULL, *work = NULL;
	int r;

	if (!json_object_is_type(orig, json_type_object) || !json_object_is_type(patch, json_type_object))
		return fail(ret_err, "strategic merge patch: the object and the patch must be JSON objects");
	result = json_clone(orig);
	/* A private copy of the patch lets the result share its nodes safely. */
	work = json_clone(patch);
	if (!result || !work)
		return -ENOMEM;
	r = merge_map(result, work, patch_schema_kind(kind), ret_err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(result);
	return 0;
}
