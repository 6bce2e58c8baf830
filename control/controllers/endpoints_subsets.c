/* The endpoints controller's pure part: port resolution and the subsets of one Service,
 * grouped as Kubernetes repacks them (pods with the same resolved ports share a subset). */
#include "controllers/endpoints.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/meta.h"
#include "controllers/ctrl.h"

static const char *protocol_of(json_object *port)
{
	return json_get_string(port, "protocol") ?: "TCP";
}

static int find_named_port(json_object *pod, const char *name, const char *proto, int64_t *ret)
{
	json_object *containers = json_get_path(pod, "spec.containers");

	for (size_t i = 0; containers && i < json_object_array_length(containers); i++) {
		json_object *ports = json_get_path(json_object_array_get_idx(containers, i), "ports");

		for (size_t j = 0; ports && j < json_object_array_length(ports); j++) {
			json_object *p = json_object_array_get_idx(ports, j);
			const char *n = json_get_string(p, "name");
			json_object *num = json_get_path(p, "containerPort");

			if (n && num && strcmp(n, name) == 0 && strcmp(protocol_of(p), proto) == 0) {
				*ret = json_object_get_int64(num);
				return 0;
			}
		}
	}
	return -ENOENT;
}

int endpoints_resolve_port(json_object *svc_port, json_object *pod, int64_t *ret)
{
	json_object *target = json_get_path(svc_port, "targetPort"), *port = json_get_path(svc_port, "port");

	if (target && json_object_is_type(target, json_type_string))
		return find_named_port(pod, json_object_get_string(target), protocol_of(svc_port), ret);
	if (target && json_object_get_int64(target) > 0) {
		*ret = json_object_get_int64(target);
		return 0;
	}
	if (!port)
		return -ENOENT;
	*ret = json_object_get_int64(port);
	return 0;
}

static json_object *endpoint_port(json_object *svc_port, int64_t num)
{
	json_object *p = json_object_new_object();
	const char *name = json_get_string(svc_port, "name"), *app = json_get_string(svc_port, "appProtocol");

	if (name && *name)
		json_object_object_add(p, "name", json_object_new_string(name));
	json_object_object_add(p, "port", json_object_new_int64(num));
	json_object_object_add(p, "protocol", json_object_new_string(protocol_of(svc_port)));
	if (app && *app)
		json_object_object_add(p, "appProtocol", json_object_new_string(app));
	return p;
}

/* The pod's ports for every service port it resolves (a port it cannot is skipped for it). */
static json_object *pod_ports(json_object *svc, json_object *pod)
{
	json_object *sports = json_get_path(svc, "spec.ports"), *out = json_object_new_array();

	for (size_t i = 0; out && sports && i < json_object_array_length(sports); i++) {
		json_object *sp = json_object_array_get_idx(sports, i);
		int64_t num;

		if (endpoints_resolve_port(sp, pod, &num) == 0)
			json_object_array_add(out, endpoint_port(sp, num));
	}
	return out;
}

static json_object *address_of(json_object *pod)
{
	json_object *a = json_object_new_object(), *ref = json_object_new_object();
	const char *node = json_get_string(pod, "spec.nodeName");

	json_object_object_add(a, "ip", json_object_new_string(json_get_string(pod, "status.podIP")));
	if (node && *node)
		json_object_object_add(a, "nodeName", json_object_new_string(node));
	json_object_object_add(ref, "kind", json_object_new_string("Pod"));
	json_object_object_add(ref, "namespace", json_object_new_string(meta_namespace(pod) ?: ""));
	json_object_object_add(ref, "name", json_object_new_string(meta_name(pod) ?: ""));
	json_object_object_add(ref, "uid", json_object_new_string(json_get_string(pod, "metadata.uid") ?: ""));
	json_object_object_add(a, "targetRef", ref);
	return a;
}

/* The subset holding exactly these ports, added when missing (borrowed). */
static json_object *subset_for(json_object *subsets, json_object *ports)
{
	json_object *s;

	/* A Service without ports (headless) has subsets without a ports field. */
	if (json_object_array_length(ports) == 0)
		ports = NULL;
	for (size_t i = 0; i < json_object_array_length(subsets); i++) {
		s = json_object_array_get_idx(subsets, i);
		if (meta_json_equal(json_get_path(s, "ports"), ports))
			return s;
	}
	s = json_object_new_object();
	if (ports)
		json_object_object_add(s, "ports", json_object_get(ports));
	json_object_array_add(subsets, s);
	return s;
}

static void add_address(json_object *subset, const char *field, json_object *addr)
{
	json_object *arr = json_get_path(subset, field);

	if (!arr) {
		arr = json_object_new_array();
		json_object_object_add(subset, field, arr);
	}
	json_object_array_add(arr, addr);
}

/* Numeric order of IPv4 and IPv6 addresses, then by text. */
static int cmp_addr(const void *pa, const void *pb)
{
	const char *a = json_get_string(*(json_object *const *)pa, "ip") ?: "";
	const char *b = json_get_string(*(json_object *const *)pb, "ip") ?: "";
	unsigned char ba[16] = { 0 }, bb[16] = { 0 };
	int fa = strchr(a, ':') ? AF_INET6 : AF_INET, fb = strchr(b, ':') ? AF_INET6 : AF_INET;

	if (fa == fb && inet_pton(fa, a, ba) == 1 && inet_pton(fb, b, bb) == 1)
		return memcmp(ba, bb, sizeof(ba));
	return strcmp(a, b);
}

static void sort_addresses(json_object *subsets)
{
	static const char *const fields[] = { "addresses", "notReadyAddresses" };

	for (size_t i = 0; i < json_object_array_length(subsets); i++)
		for (size_t f = 0; f < ELEMENTSOF(fields); f++) {
			json_object *arr = json_get_path(json_object_array_get_idx(subsets, i), fields[f]);

			if (arr)
				json_object_array_sort(arr, cmp_addr);
		}
}

json_object *endpoints_subsets(json_object *svc, json_object **pods, size_t n)
{
	json_object *pub = json_get_path(svc, "spec.publishNotReadyAddresses");
	bool publish_all = pub && json_object_get_boolean(pub);
	json_object *subsets = json_object_new_array();

	if (!subsets)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *ip = json_get_string(pods[i], "status.podIP");
		_cleanup_json_ json_object *ports = NULL;
		bool ready;

		if (!ip || !*ip || pod_is_terminal(pods[i]))
			continue;
		ports = pod_ports(svc, pods[i]);
		/* A pod that resolves none of the Service's ports serves nothing through it. */
		if (!ports || (json_object_array_length(ports) == 0 && json_get_path(svc, "spec.ports") &&
			       json_object_array_length(json_get_path(svc, "spec.ports")) > 0))
			continue;
		ready = publish_all || pod_is_ready(pods[i]);
		add_address(subset_for(subsets, ports), ready ? "addresses" : "notReadyAddresses", address_of(pods[i]));
	}
	sort_addresses(subsets);
	return subsets;
}
