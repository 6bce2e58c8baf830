/* json-c conveniences (see include/skiff/json.h). */
#include <skiff/json.h>

#include <errno.h>
#include <string.h>

json_object *json_get_path(json_object *obj, const char *dotted)
{
	char key[256];
	const char *p = dotted;

	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (len >= sizeof(key) || !json_object_is_type(obj, json_type_object))
			return NULL;
		memcpy(key, p, len);
		key[len] = '\0';
		if (!json_object_object_get_ex(obj, key, &obj))
			return NULL;
		p += len + (dot ? 1 : 0);
	}
	return obj;
}

const char *json_get_string(json_object *obj, const char *dotted)
{
	json_object *v = json_get_path(obj, dotted);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

json_object *json_member(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

json_object *json_ensure_object(json_object *obj, const char *key)
{
	json_object *v = json_member(obj, key, json_type_object);

	if (v || !obj)
		return v;
	v = json_object_new_object();
	if (!v)
		return NULL;
	json_object_object_add(obj, key, v);
	return v;
}

json_object *json_ensure_array(json_object *obj, const char *key)
{
	json_object *v = json_member(obj, key, json_type_array);

	if (v || !obj)
		return v;
	v = json_object_new_array();
	if (!v)
		return NULL;
	json_object_object_add(obj, key, v);
	return v;
}

json_object *json_clone(json_object *obj)
{
	json_object *copy = NULL;

	if (!obj)
		return NULL;
	if (json_object_deep_copy(obj, &copy, NULL) < 0)
		return NULL;
	return copy;
}

json_object *json_parse_buffer(const char *buf, size_t len, const char **ret_err)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;

	if (len > INT32_MAX) {
		*ret_err = "document too large";
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok) {
		*ret_err = strerror(ENOMEM);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		*ret_err = "unexpected end of JSON input";
		json_object_put(obj);
		obj = NULL;
	} else if (jerr != json_tokener_success) {
		*ret_err = json_tokener_error_desc(jerr);
		json_object_put(obj);
		obj = NULL;
	} else if (json_tokener_get_parse_end(tok) < len) {
		/* Trailing garbage after one complete value is an error, as in Go's decoder. */
		size_t i = json_tokener_get_parse_end(tok);
		while (i < len && strchr(" \t\r\n", buf[i]))
			i++;
		if (i < len) {
			*ret_err = "invalid character after top-level value";
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}
