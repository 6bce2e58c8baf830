/* Waiting on the cluster through its own API, from the host (over the host-facing veth): the
 * server answers /readyz, then every node of the cluster reports Ready=True. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "api/client.h"
#include "api/kubeconfig.h"
#include "cluster.h"

#define POLL_US 200000

char *cluster_kubeconfig(const struct cluster *c)
{
	return cluster_path(c, "control/admin.kubeconfig");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct api_client *client_new(const struct cluster *c)
{
	_cleanup_free_ char *path = cluster_kubeconfig(c), *err = NULL;
	struct kubeconfig kc = { 0 };
	struct api_client *api;

	if (!path || kubeconfig_load(path, &kc, &err) < 0)
		return NULL;
	api = api_client_new(kc.server, kc.ca_pem, kc.token);
	kubeconfig_done(&kc);
	return api;
}

int cluster_wait_control(const struct cluster *c, int timeout_s)
{
	double deadline = now_s() + timeout_s;
	struct api_client *api = NULL;
	int status = 0;

	while (now_s() < deadline) {
		json_object *body = NULL;

		if (!proc_alive(&c->control))
			break;
		if (!api)
			api = client_new(c); /* the server writes the kubeconfig on its first start */
		if (api) {
			status = api_get(api, "/readyz", &body);
			json_object_put(body);
			if (status == 200)
				break;
		}
		usleep(POLL_US);
	}
	api_client_free(api);
	if (status == 200)
		return 0;
	if (!proc_alive(&c->control))
		return log_error_errno(-ESRCH, "cluster %s: skiff-control exited", c->name);
	return log_error_errno(-ETIMEDOUT, "cluster %s: skiff-control not ready after %d s", c->name, timeout_s);
}

static bool node_ready(json_object *node)
{
	json_object *conds = json_get_path(node, "status.conditions");

	for (size_t i = 0; json_object_is_type(conds, json_type_array) && i < json_object_array_length(conds); i++) {
		json_object *cond = json_object_array_get_idx(conds, i);
		const char *type = json_get_string(cond, "type"), *status = json_get_string(cond, "status");

		if (type && status && strcmp(type, "Ready") == 0)
			return strcmp(status, "True") == 0;
	}
	return false;
}

/* Ready nodes named <name>-node-<i>, i in 1..nodes. */
static unsigned count_ready(const struct cluster *c, json_object *list)
{
	json_object *items = json_get_path(list, "items");
	unsigned n = 0;

	for (size_t k = 0; json_object_is_type(items, json_type_array) && k < json_object_array_length(items); k++) {
		json_object *node = json_object_array_get_idx(items, k);
		const char *name = json_get_string(node, "metadata.name");
		unsigned i;
		char tail;

		if (!name || strncmp(name, c->name, strlen(c->name)) != 0 ||
		    sscanf(name + strlen(c->name), "-node-%u%c", &i, &tail) != 1 || i < 1 || i > c->nodes)
			continue;
		if (node_ready(node))
			n++;
	}
	return n;
}

int cluster_wait_ready(const struct cluster *c, int timeout_s)
{
	double deadline = now_s() + timeout_s;
	struct api_client *api = client_new(c);
	unsigned ready = 0;

	if (!api)
		return log_error_errno(-errno ? -errno : -EINVAL, "cluster %s: API client: %m", c->name);
	while (ready < c->nodes && now_s() < deadline) {
		json_object *body = NULL;

		for (unsigned i = 1; i <= c->nodes; i++)
			if (!proc_alive(&c->agents[i - 1])) {
				api_client_free(api);
				return log_error_errno(-ESRCH, "cluster %s: the agent of node %u exited", c->name, i);
			}
		if (api_get(api, "/api/v1/nodes", &body) == 200)
			ready = count_ready(c, body);
		json_object_put(body);
		if (ready < c->nodes)
			usleep(POLL_US);
	}
	api_client_free(api);
	if (ready < c->nodes)
		return log_error_errno(-ETIMEDOUT, "cluster %s: %u of %u nodes Ready after %d s", c->name, ready,
				       c->nodes, timeout_s);
	return 0;
}
