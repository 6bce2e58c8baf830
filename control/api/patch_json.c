/* RFC 6902 JSON patch with RFC 6901 pointers: add, remove, replace, move, copy, test. */
#include "api/patch.h"

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a pointer leads: the container holding the target and the target's key there. */
struct loc {
	json_object *parent; /* NULL: the pointer is the whole document ("") */
	char *token;         /* unescaped last reference token */
};

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

static bool values_equal(json_object *a, json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	bool na = ta == json_type_int || ta == json_type_double, nb = tb == json_type_int || tb == json_type_double;

	if (na && nb) {
		if (ta == json_type_int && tb == json_type_int)
			return json_object_get_int64(a) == json_object_get_int64(b) &&
			       json_object_get_uint64(a) == json_object_get_uint64(b);
		return json_object_get_double(a) == json_object_get_double(b);
	}
	if (ta != tb)
		return false;
	if (ta == json_type_array) {
		size_t n = json_object_array_length(a);

		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!values_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
				return false;
		return true;
	}
	if (ta == json_type_object) {
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, k, v) {
			json_object *w;

			if (!json_object_object_get_ex(b, k, &w) || !values_equal(v, w))
				return false;
		}
		return true;
	}
	return json_object_equal(a, b);
}

/* Decodes one reference token (~1 is '/', ~0 is '~'); NULL with errno EINVAL on a bad escape. */
static char *unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '~') {
			*o++ = s[i];
		} else if (i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
			*o++ = s[++i] == '0' ? '~' : '/';
		} else {
			free(out);
			errno = EINVAL;
			return NULL;
		}
	}
	*o = '\0';
	return out;
}

/* Array index: digits without a leading zero; -1 when not one. */
static ssize_t parse_index(const char *tok)
{
	size_t v = 0;

	if (!*tok || (tok[0] == '0' && tok[1]) || strlen(tok) > 9)
		return -1;
	for (const char *p = tok; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (size_t)(*p - '0');
	}
	return (ssize_t)v;
}

/* The value one token down from o, or NULL (ret_found false) when there is none. */
static json_object *child(json_object *o, const char *tok, bool *ret_found)
{
	json_object *v = NULL;

	*ret_found = false;
	if (json_object_is_type(o, json_type_object)) {
		*ret_found = json_object_object_get_ex(o, tok, &v);
	} else if (json_object_is_type(o, json_type_array)) {
		ssize_t i = parse_index(tok);

		if (i >= 0 && (size_t)i < json_object_array_length(o)) {
			v = json_object_array_get_idx(o, (size_t)i);
			*ret_found = true;
		}
	}
	return v;
}

static int locate(json_object *doc, const char *path, struct loc *ret, char **err)
{
	json_object *cur = doc;
	const char *p = path;

	if (!*path) {
		*ret = (struct loc){ NULL, NULL };
		return 0;
	}
	if (*path != '/')
		return fail(err, "path \"%s\" is not a JSON pointer (it must start with '/')", path);
	for (;;) {
		const char *start = p + 1, *end = strchr(start, '/');
		size_t len = end ? (size_t)(end - start) : strlen(start);
		_cleanup_free_ char *tok = unescape(start, len);
		bool found;

		if (!tok)
			return errno == EINVAL ? fail(err, "path \"%s\": bad '~' escape", path) : -ENOMEM;
		if (!end) {
			if (!json_object_is_type(cur, json_type_object) && !json_object_is_type(cur, json_type_array))
				return fail(err, "path \"%s\": parent is not an object or array", path);
			*ret = (struct loc){ cur, TAKE_PTR(tok) };
			return 0;
		}
		cur = child(cur, tok, &found);
		if (!found)
			return fail(err, "path \"%s\": \"%s\" does not exist", path, tok);
		p = end;
	}
}

static json_object *loc_get(const struct loc *l, json_object *doc, bool *ret_found)
{
	if (!l->parent) {
		*ret_found = true;
		return doc;
	}
	return child(l->parent, l->token, ret_found);
}

/* Inserts value (a reference the function takes) at l; *doc changes for the root. */
static int loc_add(const struct loc *l, json_object **doc, json_object *value, const char *path, char **err)
{
	json_object *arr = l->parent;
	ssize_t idx;
	size_t n;

	if (!arr) {
		json_object_put(*doc);
		*doc = value;
		return 0;
	}
	if (json_object_is_type(arr, json_type_object))
		return json_object_object_add(arr, l->token, value) < 0 ? -ENOMEM : 0;
	n = json_object_array_length(arr);
	idx = strcmp(l->token, "-") == 0 ? (ssize_t)n : parse_index(l->token);
	if (idx < 0 || (size_t)idx > n) {
		json_object_put(value);
		return fail(err, "path \"%s\": array index \"%s\" is invalid or out of range (length %zu)", path, l->token, n);
	}
	/* json-c has no insert: grow by one, shift the tail up, then place the value. */
	if (json_object_array_add(arr, NULL) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	for (size_t i = n; i > (size_t)idx; i--)
		json_object_array_put_idx(arr, i, json_object_get(json_object_array_get_idx(arr, i - 1)));
	json_object_array_put_idx(arr, (size_t)idx, value);
	return 0;
}

static int loc_remove(const struct loc *l, const char *path, char **err)
{
	bool found;

	if (!l->parent)
		return fail(err, "path \"%s\": cannot remove the whole document", path);
	loc_get(l, NULL, &found);
	if (!found)
		return fail(err, "path \"%s\" does not exist", path);
	if (json_object_is_type(l->parent, json_type_object))
		json_object_object_del(l->parent, l->token);
	else
		json_object_array_del_idx(l->parent, (size_t)parse_index(l->token), 1);
	return 0;
}

static int op_value(json_object *op, json_object **ret, char **err)
{
	if (!json_object_object_get_ex(op, "value", ret))
		return fail(err, "missing \"value\"");
	return 0;
}

/* Runs one operation on *doc; the caller prefixes errors with the operation. */
static int apply_op(json_object **doc, const char *name, const char *path, json_object *op, char **err)
{
	struct loc to = { 0 }, from = { 0 };
	const char *from_path = NULL;
	json_object *v = NULL, *value = NULL;
	bool found;
	int r;

	r = locate(*doc, path, &to, err);
	if (r < 0)
		goto out;
	if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
		json_object *f;

		if (!json_object_object_get_ex(op, "from", &f) || !json_object_is_type(f, json_type_string)) {
			r = fail(err, "missing \"from\"");
			goto out;
		}
		from_path = json_object_get_string(f);
		r = locate(*doc, from_path, &from, err);
		if (r < 0)
			goto out;
		v = loc_get(&from, *doc, &found);
		if (!found) {
			r = fail(err, "from \"%s\" does not exist", from_path);
			goto out;
		}
	}
	if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
		r = op_value(op, &v, err);
		if (r < 0)
			goto out;
		if (strcmp(name, "replace") == 0 && (loc_get(&to, *doc, &found), !found)) {
			r = fail(err, "path \"%s\" does not exist", path);
			goto out;
		}
		if (strcmp(name, "replace") == 0 && json_object_is_type(to.parent, json_type_array))
			r = json_object_array_put_idx(to.parent, (size_t)parse_index(to.token), json_clone(v)) < 0
				    ? -ENOMEM
				    : 0;
		else
			r = loc_add(&to, doc, json_clone(v), path, err);
	} else if (strcmp(name, "remove") == 0) {
		r = loc_remove(&to, path, err);
	} else if (strcmp(name, "test") == 0) {
		r = op_value(op, &value, err);
		if (r == 0 && (v = loc_get(&to, *doc, &found), !found))
			r = fail(err, "path \"%s\" does not exist", path);
		else if (r == 0 && !values_equal(v, value))
			r = fail(err, "test failed: value at \"%s\" is %s, not %s", path,
				 json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
				 json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN));
	} else if (strcmp(name, "copy") == 0) {
		r = loc_add(&to, doc, json_clone(v), path, err);
	} else if (from_path) { /* move */
		size_t fl = strlen(from_path);

		if (strcmp(from_path, path) == 0)
			goto out;
		if (strncmp(path, from_path, fl) == 0 && path[fl] == '/') {
			r = fail(err, "cannot move \"%s\" into its own child \"%s\"", from_path, path);
			goto out;
		}
		json_object_get(v);
		r = loc_remove(&from, from_path, err);
		/* Removal may have shifted an array the target points into: find it again. */
		free(to.token);
		to.token = NULL;
		if (r == 0)
			r = locate(*doc, path, &to, err);
		if (r == 0)
			r = loc_add(&to, doc, v, path, err);
		else
			json_object_put(v);
	}
out:
	free(to.token);
	free(from.token);
	return r;
}

static bool known_op(const char *name)
{
	static const char *const ops[] = { "add", "remove", "replace", "move", "copy", "test" };

	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		if (strcmp(ops[i], name) == 0)
			return true;
	return false;
}

int patch_json(json_object *orig, json_object *ops, json_object **ret, char **ret_err)
{
	_cleanup_json_ json_object *doc = NULL;
	size_t n;

	if (!json_object_is_type(ops, json_type_array))
		return fail(ret_err, "json patch: the patch must be a JSON array of operations");
	doc = json_clone(orig);
	if (orig && !doc)
		return -ENOMEM;
	n = json_object_array_length(ops);
	for (size_t i = 0; i < n; i++) {
		json_object *op = json_object_array_get_idx(ops, i), *o, *p;
		_cleanup_free_ char *why = NULL;
		const char *name;
		int r;

		if (!json_object_is_type(op, json_type_object))
			return fail(ret_err, "json patch: operation %zu is not a JSON object", i);
		if (!json_object_object_get_ex(op, "op", &o) || !json_object_is_type(o, json_type_string))
			return fail(ret_err, "json patch: operation %zu has no \"op\"", i);
		name = json_object_get_string(o);
		if (!known_op(name))
			return fail(ret_err, "json patch: operation %zu: unknown op \"%s\"", i, name);
		if (!json_object_object_get_ex(op, "path", &p) || !json_object_is_type(p, json_type_string))
			return fail(ret_err, "json patch: operation %zu (%s) has no \"path\"", i, name);
		r = apply_op(&doc, name, json_object_get_string(p), op, &why);
		if (r == -EINVAL)
			return fail(ret_err, "json patch: operation %zu (%s %s): %s", i, name,
				    json_object_get_string(p), why ? why : "invalid");
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(doc);
	return 0;
}
