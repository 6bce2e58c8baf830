/* Object metadata helpers (see meta.h). */
#include "api/meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <skiff/json.h>

static int random_bytes(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom((char *)buf + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int meta_new_uid(char ret[META_UID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	size_t o = 0;
	int r;

	r = random_bytes(b, sizeof(b));
	if (r < 0)
		return r;
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			ret[o++] = '-';
		ret[o++] = hex[b[i] >> 4];
		ret[o++] = hex[b[i] & 0xf];
	}
	ret[o] = '\0';
	return 0;
}

void meta_timestamp(time_t t, char ret[META_TIMESTAMP_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ret, META_TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *meta_generate_name(const char *prefix)
{
	/* Kubernetes' alphabet: no vowels (no words) and no look-alikes. */
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	uint8_t b[5];
	char suffix[6];
	char *name = NULL;

	if (random_bytes(b, sizeof(b)) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(b); i++)
		suffix[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
	suffix[5] = '\0';
	if (asprintf(&name, "%s%s", prefix, suffix) < 0)
		return NULL;
	return name;
}

json_object *meta_of(json_object *obj)
{
	return json_ensure_object(obj, "metadata");
}

const char *meta_name(json_object *obj)
{
	return json_get_string(obj, "metadata.name");
}

const char *meta_namespace(json_object *obj)
{
	return json_get_string(obj, "metadata.namespace");
}

void meta_set_string(json_object *obj, const char *field, const char *value)
{
	json_object *m = meta_of(obj);

	if (m)
		json_object_object_add(m, field, json_object_new_string(value));
}

void meta_remove(json_object *obj, const char *field)
{
	json_object *m = json_get_path(obj, "metadata");

	if (m && json_object_is_type(m, json_type_object))
		json_object_object_del(m, field);
}

int meta_parse_rv(const char *s, int64_t *ret_rev)
{
	char *end;
	long long v;

	if (!s || !*s) {
		*ret_rev = 0;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	*ret_rev = v;
	return 0;
}

void meta_set_rv(json_object *obj, int64_t rev)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)rev);
	meta_set_string(obj, "resourceVersion", buf);
}

json_object *meta_from_stored(const char *value, int64_t rev)
{
	const char *err;
	json_object *obj;

	if (!value)
		return NULL;
	obj = json_parse_buffer(value, strlen(value), &err);
	if (!obj)
		return NULL;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return NULL;
	}
	meta_set_rv(obj, rev);
	return obj;
}

json_object *meta_from_kv(const struct store_kv *kv)
{
	return meta_from_stored(kv->value, kv->mod_rev);
}

char *meta_to_stored(json_object *obj)
{
	json_object *m = json_get_path(obj, "metadata");
	json_object *rv = NULL;
	char *out;

	/* Take resourceVersion out for the serialisation only, then put it back. */
	if (m && json_object_object_get_ex(m, "resourceVersion", &rv)) {
		json_object_get(rv);
		json_object_object_del(m, "resourceVersion");
	}
	out = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (rv)
		json_object_object_add(m, "resourceVersion", rv);
	return out;
}

bool meta_json_equal(json_object *a, json_object *b)
{
	return json_object_equal(a, b) != 0;
}

bool meta_deleting(json_object *obj)
{
	return json_get_path(obj, "metadata.deletionTimestamp") != NULL;
}

bool meta_has_finalizers(json_object *obj)
{
	json_object *f = json_get_path(obj, "metadata.finalizers");

	return f && json_object_is_type(f, json_type_array) && json_object_array_length(f) > 0;
}

int meta_add_finalizer(json_object *obj, const char *name)
{
	json_object *m = meta_of(obj), *f = json_get_path(obj, "metadata.finalizers"), *s;

	if (!f || !json_object_is_type(f, json_type_array)) {
		f = json_object_new_array();
		if (!f)
			return -ENOMEM;
		json_object_object_add(m, "finalizers", f);
	}
	for (size_t i = 0; i < json_object_array_length(f); i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(f, i));

		if (v && strcmp(v, name) == 0)
			return 0;
	}
	s = json_object_new_string(name);
	if (!s || json_object_array_add(f, s) < 0) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}
