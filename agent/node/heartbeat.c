/* Registration, Lease renewals and Node status posts over the API client. */
#include "node/heartbeat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "node/health.h"
#include "node/object.h"

#define LEASES "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"

static int status_of(int st)
{
	if (st < 0)
		return st;
	if (st == 404)
		return -ENOENT;
	if (st == 409)
		return -EEXIST;
	return api_status_ok(st) ? 0 : -EIO;
}

json_object *heartbeat_lease_build(const char *node, const char *node_uid, const char *now)
{
	json_object *l = json_object_new_object(), *meta = json_object_new_object(), *spec = json_object_new_object();

	json_object_object_add(l, "apiVersion", json_object_new_string("coordination.k8s.io/v1"));
	json_object_object_add(l, "kind", json_object_new_string("Lease"));
	json_object_object_add(meta, "name", json_object_new_string(node));
	json_object_object_add(meta, "namespace", json_object_new_string("kube-node-lease"));
	if (node_uid) {
		/* Owned by the Node, so the garbage collector removes it with the Node. */
		json_object *refs = json_object_new_array(), *ref = json_object_new_object();

		json_object_object_add(ref, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(ref, "kind", json_object_new_string("Node"));
		json_object_object_add(ref, "name", json_object_new_string(node));
		json_object_object_add(ref, "uid", json_object_new_string(node_uid));
		json_object_array_add(refs, ref);
		json_object_object_add(meta, "ownerReferences", refs);
	}
	json_object_object_add(l, "metadata", meta);
	json_object_object_add(spec, "holderIdentity", json_object_new_string(node));
	json_object_object_add(spec, "leaseDurationSeconds", json_object_new_int(NODE_LEASE_DURATION_SECONDS));
	json_object_object_add(spec, "renewTime", json_object_new_string(now));
	json_object_object_add(l, "spec", spec);
	return l;
}

static int lease_renew(struct heartbeat *hb)
{
	_cleanup_json_ json_object *patch = NULL, *lease = NULL, *spec = NULL, *resp = NULL;
	_cleanup_free_ char *path = NULL;
	char now[40];
	int st;

	node_time_format(now, sizeof(now), true);
	if (asprintf(&path, LEASES "/%s", hb->facts.name) < 0)
		return -ENOMEM;
	patch = json_object_new_object();
	spec = json_object_new_object();
	json_object_object_add(spec, "holderIdentity", json_object_new_string(hb->facts.name));
	json_object_object_add(spec, "leaseDurationSeconds", json_object_new_int(NODE_LEASE_DURATION_SECONDS));
	json_object_object_add(spec, "renewTime", json_object_new_string(now));
	json_object_object_add(patch, "spec", json_object_get(spec));
	st = api_patch(hb->api, path, API_PATCH_MERGE, patch, &resp);
	if (st == 404) {
		lease = heartbeat_lease_build(hb->facts.name, hb->node_uid, now);
		json_object_put(resp);
		resp = NULL;
		st = api_create(hb->api, LEASES, lease, &resp);
	}
	if (status_of(st) < 0)
		return log_warn_errno(status_of(st), "node %s: renewing Lease kube-node-lease/%s: %s", hb->facts.name,
				      hb->facts.name, st < 0 ? strerror(-st) : api_error_message(resp));
	hb->lease_renewals++;
	return 0;
}

static json_object *status_now(struct heartbeat *hb, int *ret)
{
	struct node_health h;
	json_object *s;
	char now[40];
	int r;

	r = node_health_check(hb->cgroup_mount, hb->cgroup_parent, hb->pause_path, &h);
	if (r < 0) {
		*ret = r;
		return NULL;
	}
	if (hb->runtime_error && h.runtime_ok) {
		h.runtime_ok = false;
		h.not_ready = strdup(hb->runtime_error);
	}
	if (h.missing && !hb->missing_logged) {
		log_warn("node %s: %s not available on this host's cgroup2: limits are not enforced", hb->facts.name,
			 h.missing);
		hb->missing_logged = true;
	}
	if (!h.runtime_ok && (hb->ready || hb->status_posts == 0))
		log_warn("node %s: not ready: %s", hb->facts.name, h.not_ready);
	hb->ready = h.runtime_ok;
	node_time_format(now, sizeof(now), false);
	s = node_status_build(&hb->facts, &h, now);
	/* Where the API server finds this agent's logs/exec endpoint. */
	if (s && hb->endpoint_port > 0) {
		json_object *ep = json_object_new_object(), *kubelet = json_object_new_object();

		json_object_object_add(kubelet, "Port", json_object_new_int((int)hb->endpoint_port));
		json_object_object_add(ep, "kubeletEndpoint", kubelet);
		json_object_object_add(s, "daemonEndpoints", ep);
	}
	node_health_done(&h);
	*ret = 0;
	return s;
}

static int status_post(struct heartbeat *hb, json_object *status, json_object *server_status)
{
	_cleanup_json_ json_object *patch = json_object_new_object(), *resp = NULL;
	_cleanup_free_ char *path = NULL;
	int st;

	node_status_carry_transitions(status, server_status);
	if (asprintf(&path, "/api/v1/nodes/%s/status", hb->facts.name) < 0)
		return -ENOMEM;
	json_object_object_add(patch, "status", json_object_get(status));
	st = api_patch(hb->api, path, API_PATCH_MERGE, patch, &resp);
	if (status_of(st) < 0)
		return log_warn_errno(status_of(st), "node %s: posting status: %s", hb->facts.name,
				      st < 0 ? strerror(-st) : api_error_message(resp));
	json_object_put(hb->posted);
	hb->posted = json_object_get(status);
	hb->status_posts++;
	return 0;
}

static void keep_uid(struct heartbeat *hb, json_object *node)
{
	const char *uid = json_get_string(node, "metadata.uid");

	if (uid && (!hb->node_uid || strcmp(uid, hb->node_uid) != 0)) {
		free(hb->node_uid);
		hb->node_uid = strdup(uid);
	}
}

static int update_existing(struct heartbeat *hb, json_object *node, json_object *status)
{
	_cleanup_json_ json_object *patch = json_object_new_object(), *resp = NULL;
	_cleanup_json_ json_object *want = node_object_build(&hb->facts, &(struct node_health){ 0 }, "");
	_cleanup_free_ char *path = NULL;
	int st;

	if (asprintf(&path, "/api/v1/nodes/%s", hb->facts.name) < 0)
		return -ENOMEM;
	json_object_object_add(json_ensure_object(patch, "metadata"), "labels",
			       json_object_get(json_get_path(want, "metadata.labels")));
	st = api_patch(hb->api, path, API_PATCH_MERGE, patch, &resp);
	if (status_of(st) < 0)
		return log_warn_errno(status_of(st), "node %s: updating labels: %s", hb->facts.name,
				      st < 0 ? strerror(-st) : api_error_message(resp));
	return status_post(hb, status, json_get_path(node, "status"));
}

int heartbeat_register(struct heartbeat *hb)
{
	_cleanup_json_ json_object *status = NULL, *node = NULL, *obj = NULL, *resp = NULL;
	_cleanup_free_ char *path = NULL;
	int r, st;

	status = status_now(hb, &r);
	if (!status)
		return log_error_errno(r, "node %s: checking the runtime: %m", hb->facts.name);
	if (asprintf(&path, "/api/v1/nodes/%s", hb->facts.name) < 0)
		return -ENOMEM;
	st = api_get(hb->api, path, &node);
	if (st == 200) {
		keep_uid(hb, node);
		r = update_existing(hb, node, status);
		if (r >= 0)
			log_info("node %s: updated the existing Node (Ready=%s)", hb->facts.name, hb->ready ? "True" : "False");
		return r;
	}
	if (st != 404)
		return log_warn_errno(st < 0 ? st : -EIO, "node %s: reading the Node: %s", hb->facts.name,
				      st < 0 ? strerror(-st) : api_error_message(node));
	obj = node_object_build(&hb->facts, &(struct node_health){ 0 }, "");
	json_object_object_add(obj, "status", json_object_get(status));
	if (hb->taints && json_object_array_length(hb->taints) > 0)
		json_object_object_add(json_get_path(obj, "spec"), "taints", json_object_get(hb->taints));
	st = api_create(hb->api, "/api/v1/nodes", obj, &resp);
	if (st == 409) /* made by someone else since our GET: update it next period */
		return -EAGAIN;
	if (status_of(st) < 0)
		return log_warn_errno(status_of(st), "node %s: creating the Node: %s", hb->facts.name,
				      st < 0 ? strerror(-st) : api_error_message(resp));
	keep_uid(hb, resp);
	json_object_put(hb->posted);
	hb->posted = json_object_get(status);
	hb->status_posts++;
	log_info("node %s: registered (Ready=%s)", hb->facts.name, hb->ready ? "True" : "False");
	return 0;
}

int heartbeat_tick(struct heartbeat *hb)
{
	_cleanup_json_ json_object *status = NULL, *node = NULL;
	_cleanup_free_ char *path = NULL;
	const char *server_ready, *ours;
	int r, st;

	r = lease_renew(hb);
	status = status_now(hb, &r);
	if (!status)
		return log_error_errno(r, "node %s: checking the runtime: %m", hb->facts.name);
	if (asprintf(&path, "/api/v1/nodes/%s", hb->facts.name) < 0)
		return -ENOMEM;
	st = api_get(hb->api, path, &node);
	if (st == 404) {
		log_info("node %s: the Node was deleted, registering again", hb->facts.name);
		return heartbeat_register(hb);
	}
	if (st != 200)
		return log_warn_errno(st < 0 ? st : -EIO, "node %s: reading the Node: %s", hb->facts.name,
				      st < 0 ? strerror(-st) : api_error_message(node));
	keep_uid(hb, node);
	server_ready = node_condition_status(json_get_path(node, "status"), "Ready");
	ours = node_condition_status(status, "Ready");
	if (server_ready && ours && strcmp(server_ready, ours) != 0)
		log_info("node %s: the server says Ready=%s, posting Ready=%s", hb->facts.name, server_ready, ours);
	else if (!node_status_differs(status, hb->posted))
		return r;
	return status_post(hb, status, json_get_path(node, "status"));
}

void heartbeat_done(struct heartbeat *hb)
{
	node_facts_done(&hb->facts);
	json_object_put(hb->posted);
	free(hb->node_uid);
	hb->posted = NULL;
	hb->node_uid = NULL;
}
