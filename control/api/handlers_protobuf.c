/* The few protobuf request bodies kubectl's typed client sends (`kubectl create namespace`):
 * the runtime.Unknown envelope ("k8s\0" + TypeMeta + raw) and, inside it, a Namespace's
 * metadata and finalizers, turned into the JSON object the registry takes. Any other kind
 * is refused with 415 so the caller can send JSON instead. */
#include "api/handlers.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

struct pb {
	const uint8_t *p, *end;
};

struct pb_field {
	unsigned num;
	unsigned wire;
	uint64_t varint;
	struct pb sub; /* wire type 2: the bytes */
};

static int pb_varint(struct pb *b, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (b->p >= b->end)
			return -EINVAL;
		v |= (uint64_t)(*b->p & 0x7f) << shift;
		if (!(*b->p++ & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EINVAL;
}

/* 1 and *f filled, 0 at the end, -EINVAL on malformed input. */
static int pb_next(struct pb *b, struct pb_field *f)
{
	uint64_t key, len;

	if (b->p >= b->end)
		return 0;
	if (pb_varint(b, &key) < 0)
		return -EINVAL;
	f->num = (unsigned)(key >> 3);
	f->wire = (unsigned)(key & 7);
	switch (f->wire) {
	case 0:
		return pb_varint(b, &f->varint) < 0 ? -EINVAL : 1;
	case 1:
	case 5: {
		size_t n = f->wire == 1 ? 8 : 4;

		if ((size_t)(b->end - b->p) < n)
			return -EINVAL;
		b->p += n;
		return 1;
	}
	case 2:
		if (pb_varint(b, &len) < 0 || len > (uint64_t)(b->end - b->p))
			return -EINVAL;
		f->sub = (struct pb){ b->p, b->p + len };
		b->p += len;
		return 1;
	default:
		return -EINVAL;
	}
}

static json_object *pb_string(const struct pb *b)
{
	return json_object_new_string_len((const char *)b->p, (int)(b->end - b->p));
}

/* map<string,string> entry: key = 1, value = 2. */
static int pb_map_entry(struct pb b, json_object *map)
{
	struct pb_field f;
	json_object *key = NULL, *val = NULL;
	int r;

	while ((r = pb_next(&b, &f)) > 0) {
		if (f.wire == 2 && f.num == 1 && !key)
			key = pb_string(&f.sub);
		else if (f.wire == 2 && f.num == 2 && !val)
			val = pb_string(&f.sub);
	}
	if (r == 0 && key)
		json_object_object_add(map, json_object_get_string(key), val ? val : json_object_new_string(""));
	else if (val)
		json_object_put(val);
	if (key)
		json_object_put(key);
	return r;
}

/* ObjectMeta: the fields a client sets on create. */
static int pb_object_meta(struct pb b, json_object *meta)
{
	static const char *const strings[] = { [1] = "name", [2] = "generateName", [3] = "namespace" };
	struct pb_field f;
	int r;

	while ((r = pb_next(&b, &f)) > 0) {
		if (f.wire != 2)
			continue;
		if (f.num >= 1 && f.num <= 3)
			json_object_object_add(meta, strings[f.num], pb_string(&f.sub));
		else if ((f.num == 11 || f.num == 12) &&
			 pb_map_entry(f.sub, json_ensure_object(meta, f.num == 11 ? "labels" : "annotations")) < 0)
			return -EINVAL;
		else if (f.num == 14) {
			if (!json_object_object_get(meta, "finalizers"))
				json_object_object_add(meta, "finalizers", json_object_new_array());
			json_object_array_add(json_object_object_get(meta, "finalizers"), pb_string(&f.sub));
		}
	}
	return r;
}

/* Namespace: metadata = 1, spec = 2 (finalizers = 1). */
static int pb_namespace(struct pb b, json_object *obj)
{
	struct pb_field f, g;
	int r;

	while ((r = pb_next(&b, &f)) > 0) {
		if (f.wire == 2 && f.num == 1 && pb_object_meta(f.sub, json_ensure_object(obj, "metadata")) < 0)
			return -EINVAL;
		if (f.wire == 2 && f.num == 2) {
			json_object *spec = json_ensure_object(obj, "spec");

			while ((r = pb_next(&f.sub, &g)) > 0)
				if (g.wire == 2 && g.num == 1) {
					if (!json_object_object_get(spec, "finalizers"))
						json_object_object_add(spec, "finalizers", json_object_new_array());
					json_object_array_add(json_object_object_get(spec, "finalizers"),
							      pb_string(&g.sub));
				}
			if (r < 0)
				return r;
		}
	}
	return r;
}

/* runtime.Unknown: typeMeta = 1 (apiVersion = 1, kind = 2), raw = 2. */
int handlers_decode_protobuf(const char *body, size_t len, json_object **ret, struct api_status *st)
{
	struct pb b = { (const uint8_t *)body + 4, (const uint8_t *)body + len }, raw = { NULL, NULL };
	_cleanup_json_ json_object *obj = json_object_new_object();
	struct pb_field f, g;
	int r;

	if (len < 4 || memcmp(body, "k8s\0", 4) != 0)
		goto bad;
	while ((r = pb_next(&b, &f)) > 0) {
		if (f.wire == 2 && f.num == 1) {
			while ((r = pb_next(&f.sub, &g)) > 0)
				if (g.wire == 2 && (g.num == 1 || g.num == 2))
					json_object_object_add(obj, g.num == 1 ? "apiVersion" : "kind",
							       pb_string(&g.sub));
			if (r < 0)
				goto bad;
		} else if (f.wire == 2 && f.num == 2) {
			raw = f.sub;
		}
	}
	if (r < 0 || !raw.p)
		goto bad;
	if (!json_get_string(obj, "kind") || strcmp(json_get_string(obj, "kind"), "Namespace") != 0) {
		api_status_set(st, 415, "UnsupportedMediaType",
			       "the body of the request was in an unknown format - accepted media types include: "
			       "application/json, application/yaml");
		return -EOPNOTSUPP;
	}
	if (pb_namespace(raw, obj) < 0)
		goto bad;
	*ret = TAKE_PTR(obj);
	return 0;
bad:
	api_status_bad_request(st, "couldn't get version/kind; protobuf parse error: malformed body");
	return -EINVAL;
}
