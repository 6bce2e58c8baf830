/* The few protobuf request bodies kubectl's typed client sends (`kubectl create namespace`,
 * `kubectl create service ...`): the runtime.Unknown envelope ("k8s\0" + TypeMeta + raw) and,
 * inside it, a Namespace or a Service, turned into the JSON object the registry takes. Field
 * numbers are those of k8s.io/api/core/v1/generated.proto; proto2 sends unset strings as
 * empty ones, which are left out. Any other kind is refused with 415. */
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
		if (f.num >= 1 && f.num <= 3 && f.sub.end > f.sub.p)
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

static void add_nonempty(json_object *obj, const char *key, const struct pb *b)
{
	if (b->end > b->p)
		json_object_object_add(obj, key, pb_string(b));
}

static void append_string(json_object *obj, const char *key, const struct pb *b)
{
	json_object_array_add(json_ensure_array(obj, key), pb_string(b));
}

/* IntOrString: type = 1 (0 int, 1 string), intVal = 2, strVal = 3. */
static json_object *pb_int_or_string(struct pb b)
{
	struct pb_field f;
	uint64_t type = 0, ival = 0;
	struct pb sval = { NULL, NULL };

	while (pb_next(&b, &f) > 0) {
		if (f.wire == 0 && f.num == 1)
			type = f.varint;
		else if (f.wire == 0 && f.num == 2)
			ival = f.varint;
		else if (f.wire == 2 && f.num == 3)
			sval = f.sub;
	}
	return type == 1 && sval.p ? pb_string(&sval) : json_object_new_int((int32_t)ival);
}

/* ServicePort: name = 1, protocol = 2, port = 3, targetPort = 4, nodePort = 5, appProtocol = 6. */
static int pb_service_port(struct pb b, json_object *ports)
{
	json_object *port = json_object_new_object();
	struct pb_field f;
	int r;

	json_object_array_add(ports, port);
	while ((r = pb_next(&b, &f)) > 0) {
		if (f.wire == 2 && f.num == 1)
			add_nonempty(port, "name", &f.sub);
		else if (f.wire == 2 && f.num == 2)
			add_nonempty(port, "protocol", &f.sub);
		else if (f.wire == 0 && f.num == 3)
			json_object_object_add(port, "port", json_object_new_int((int32_t)f.varint));
		else if (f.wire == 2 && f.num == 4)
			json_object_object_add(port, "targetPort", pb_int_or_string(f.sub));
		else if (f.wire == 0 && f.num == 5 && f.varint)
			json_object_object_add(port, "nodePort", json_object_new_int((int32_t)f.varint));
		else if (f.wire == 2 && f.num == 6)
			add_nonempty(port, "appProtocol", &f.sub);
	}
	return r;
}

/* ServiceSpec: the fields `kubectl create service` and typed clients set. */
static int pb_service_spec(struct pb b, json_object *spec)
{
	static const char *const strings[] = { [3] = "clusterIP", [4] = "type", [7] = "sessionAffinity",
					       [10] = "externalName", [11] = "externalTrafficPolicy",
					       [17] = "ipFamilyPolicy", [22] = "internalTrafficPolicy" };
	struct pb_field f;
	int r;

	while ((r = pb_next(&b, &f)) > 0) {
		if (f.wire == 2 && f.num == 1 && pb_service_port(f.sub, json_ensure_array(spec, "ports")) < 0)
			return -EINVAL;
		if (f.wire == 2 && f.num == 2 && pb_map_entry(f.sub, json_ensure_object(spec, "selector")) < 0)
			return -EINVAL;
		if (f.wire == 2 && (f.num == 5 || f.num == 18))
			append_string(spec, f.num == 5 ? "externalIPs" : "clusterIPs", &f.sub);
		else if (f.wire == 2 && f.num < sizeof(strings) / sizeof(strings[0]) && strings[f.num])
			add_nonempty(spec, strings[f.num], &f.sub);
		else if (f.wire == 0 && f.num == 13 && f.varint)
			json_object_object_add(spec, "publishNotReadyAddresses", json_object_new_boolean(1));
	}
	return r;
}

/* Service: metadata = 1, spec = 2 (status = 3 is the server's). */
static int pb_service(struct pb b, json_object *obj)
{
	struct pb_field f;
	int r;

	while ((r = pb_next(&b, &f)) > 0) {
		if (f.wire == 2 && f.num == 1 && pb_object_meta(f.sub, json_ensure_object(obj, "metadata")) < 0)
			return -EINVAL;
		if (f.wire == 2 && f.num == 2 && pb_service_spec(f.sub, json_ensure_object(obj, "spec")) < 0)
			return -EINVAL;
	}
	return r;
}

/* runtime.Unknown: typeMeta = 1 (apiVersion = 1, kind = 2), raw = 2. */
int handlers_decode_protobuf(const char *body, size_t len, json_object **ret, struct api_status *st)
{
	struct pb b = { (const uint8_t *)body + 4, (const uint8_t *)body + len }, raw = { NULL, NULL };
	_cleanup_json_ json_object *obj = json_object_new_object();
	struct pb_field f, g;
	const char *kind;
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
	kind = json_get_string(obj, "kind");
	if (!kind || (strcmp(kind, "Namespace") != 0 && strcmp(kind, "Service") != 0)) {
		api_status_set(st, 415, "UnsupportedMediaType",
			       "the body of the request was in an unknown format - accepted media types include: "
			       "application/json, application/yaml");
		return -EOPNOTSUPP;
	}
	if ((strcmp(kind, "Namespace") == 0 ? pb_namespace(raw, obj) : pb_service(raw, obj)) < 0)
		goto bad;
	*ret = TAKE_PTR(obj);
	return 0;
bad:
	api_status_bad_request(st, "couldn't get version/kind; protobuf parse error: malformed body");
	return -EINVAL;
}
