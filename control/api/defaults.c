/* SetDefaults_* of core/v1 for Service, ReplicationController, Namespace, Node and
 * Endpoints, and the dispatch by kind (Pods: defaults_pod.c). */
#include "api/defaults.h"

#include <string.h>

#include <skiff/json.h>

void defaults_set(json_object *obj, const char *key, json_object *v)
{
	json_object *cur;

	if (!obj || !v || (json_object_object_get_ex(obj, key, &cur) && !json_object_is_type(cur, json_type_null))) {
		json_object_put(v);
		return;
	}
	json_object_object_add(obj, key, v);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = json_member(o, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

static json_object *string_array(const char *s)
{
	json_object *a = json_object_new_array();

	if (a)
		json_object_array_add(a, json_object_new_string(s));
	return a;
}

/* targetPort defaults to port; 0 and "" count as unset. */
static void service_port_defaults(json_object *p)
{
	json_object *tp = NULL;
	bool unset = !json_object_object_get_ex(p, "targetPort", &tp) || !tp ||
		     json_object_is_type(tp, json_type_null) ||
		     (json_object_is_type(tp, json_type_int) && json_object_get_int64(tp) == 0) ||
		     (json_object_is_type(tp, json_type_string) && !*json_object_get_string(tp));
	json_object *port = json_member(p, "port", json_type_int);

	defaults_set(p, "protocol", json_object_new_string("TCP"));
	if (unset && port)
		json_object_object_add(p, "targetPort", json_object_new_int64(json_object_get_int64(port)));
}

static void service_defaults(json_object *svc)
{
	json_object *spec = json_ensure_object(svc, "spec"), *ports = json_member(spec, "ports", json_type_array);
	const char *type, *ip;

	defaults_set(spec, "type", json_object_new_string("ClusterIP"));
	defaults_set(spec, "sessionAffinity", json_object_new_string("None"));
	type = str(spec, "type") ?: "ClusterIP";
	for (size_t i = 0; ports && i < json_object_array_length(ports); i++)
		service_port_defaults(json_object_array_get_idx(ports, i));
	if (strcmp(str(spec, "sessionAffinity") ?: "", "ClientIP") == 0) {
		json_object *cfg = json_ensure_object(json_ensure_object(spec, "sessionAffinityConfig"), "clientIP");

		defaults_set(cfg, "timeoutSeconds", json_object_new_int(10800));
	}
	if (strcmp(type, "ExternalName") == 0)
		return;
	defaults_set(spec, "internalTrafficPolicy", json_object_new_string("Cluster"));
	if (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0)
		defaults_set(spec, "externalTrafficPolicy", json_object_new_string("Cluster"));
	if (strcmp(type, "LoadBalancer") == 0)
		defaults_set(spec, "allocateLoadBalancerNodePorts", json_object_new_boolean(1));
	defaults_set(spec, "ipFamilies", string_array("IPv4"));
	defaults_set(spec, "ipFamilyPolicy", json_object_new_string("SingleStack"));
	ip = str(spec, "clusterIP");
	if (ip && *ip)
		defaults_set(spec, "clusterIPs", string_array(ip));
}

static void rc_defaults(json_object *rc)
{
	json_object *spec = json_ensure_object(rc, "spec"), *tmpl = json_member(spec, "template", json_type_object);
	json_object *labels = json_member(json_member(tmpl, "metadata", json_type_object), "labels", json_type_object);
	json_object *meta = json_ensure_object(rc, "metadata"), *sel = json_member(spec, "selector", json_type_object);
	json_object *own = json_member(meta, "labels", json_type_object);

	if (labels && (!sel || json_object_object_length(sel) == 0)) {
		json_object *copy = NULL;

		if (json_object_deep_copy(labels, &copy, NULL) == 0)
			json_object_object_add(spec, "selector", copy);
	}
	if (labels && (!own || json_object_object_length(own) == 0)) {
		json_object *copy = NULL;

		if (json_object_deep_copy(labels, &copy, NULL) == 0)
			json_object_object_add(meta, "labels", copy);
	}
	defaults_set(spec, "replicas", json_object_new_int(1));
	if (tmpl)
		defaults_pod_spec(json_ensure_object(tmpl, "spec"));
}

static void namespace_defaults(json_object *ns)
{
	json_object *meta = json_ensure_object(ns, "metadata");
	const char *name = str(meta, "name");

	defaults_set(json_ensure_object(ns, "spec"), "finalizers", string_array("kubernetes"));
	defaults_set(json_ensure_object(ns, "status"), "phase", json_object_new_string("Active"));
	/* Kubernetes labels every namespace with its own name, for namespace selectors. */
	if (name && *name)
		defaults_set(json_ensure_object(meta, "labels"), "kubernetes.io/metadata.name", json_object_new_string(name));
}

static void node_defaults(json_object *node)
{
	json_object *status = json_member(node, "status", json_type_object);
	json_object *capacity = json_member(status, "capacity", json_type_object);
	json_object *copy = NULL;

	if (capacity && !json_member(status, "allocatable", json_type_object) &&
	    json_object_deep_copy(capacity, &copy, NULL) == 0)
		json_object_object_add(status, "allocatable", copy);
}

static void endpoints_defaults(json_object *ep)
{
	json_object *subsets = json_member(ep, "subsets", json_type_array);

	for (size_t i = 0; subsets && i < json_object_array_length(subsets); i++) {
		json_object *ports = json_member(json_object_array_get_idx(subsets, i), "ports", json_type_array);

		for (size_t j = 0; ports && j < json_object_array_length(ports); j++)
			defaults_set(json_object_array_get_idx(ports, j), "protocol", json_object_new_string("TCP"));
	}
}

void defaults_apply(const struct resource *r, json_object *obj)
{
	if (!obj || !json_object_is_type(obj, json_type_object))
		return;
	if (strcmp(r->kind, "Pod") == 0)
		defaults_pod(obj);
	else if (strcmp(r->kind, "Service") == 0)
		service_defaults(obj);
	else if (strcmp(r->kind, "ReplicationController") == 0)
		rc_defaults(obj);
	else if (strcmp(r->kind, "Namespace") == 0)
		namespace_defaults(obj);
	else if (strcmp(r->kind, "Node") == 0)
		node_defaults(obj);
	else if (strcmp(r->kind, "Endpoints") == 0)
		endpoints_defaults(obj);
}
