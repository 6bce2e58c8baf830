/* A node's scheduling facts (labels, taints, readiness, allocatable) parsed once, and the
 * accounting of the pods bound to it: requests, host ports, controller owners. */
#include "scheduler/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/json.h>

#include "api/quantity.h"

static int parse_taints(json_object *arr, struct sched_node *n)
{
	size_t len = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	if (!len)
		return 0;
	n->taints = calloc(len, sizeof(*n->taints));
	if (!n->taints)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *t = json_object_array_get_idx(arr, i);
		const char *effect = json_get_string(t, "effect") ?: "";
		struct sched_taint *d = &n->taints[n->n_taints++];

		d->key = strdup(json_get_string(t, "key") ?: "");
		d->value = strdup(json_get_string(t, "value") ?: "");
		d->effect = strcmp(effect, "NoSchedule") == 0	    ? SCHED_EFFECT_NO_SCHEDULE
			    : strcmp(effect, "PreferNoSchedule") == 0 ? SCHED_EFFECT_PREFER_NO_SCHEDULE
								      : SCHED_EFFECT_NO_EXECUTE;
		if (!d->key || !d->value)
			return -ENOMEM;
	}
	return 0;
}

static char parse_ready(json_object *node)
{
	json_object *conds = json_get_path(node, "status.conditions");

	for (size_t i = 0; conds && json_object_is_type(conds, json_type_array) && i < json_object_array_length(conds);
	     i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = json_get_string(c, "type"), *status = json_get_string(c, "status");

		if (type && strcmp(type, "Ready") == 0)
			return status && strcmp(status, "True") == 0 ? 'T' : status && strcmp(status, "False") == 0 ? 'F' : 'U';
	}
	/* A node that has never reported is not ready yet, as a registering kubelet's taint says. */
	return 'F';
}

static void parse_allocatable(json_object *list, struct sched_node *n)
{
	if (!list || !json_object_is_type(list, json_type_object))
		return;
	json_object_object_foreach(list, k, v)
	{
		const char *s = json_object_get_string(v);
		int64_t val = 0;
		int slot;

		if (strcmp(k, "pods") == 0) {
			if (quantity_parse_value(s, &val) == 0)
				n->alloc_pods = val;
			continue;
		}
		slot = sched_res_index(k);
		if (slot < 0)
			continue;
		if (slot == SCHED_RES_CPU ? quantity_parse_milli(s, &val) < 0 : quantity_parse_value(s, &val) < 0)
			continue;
		n->alloc.v[slot] = val;
		if (sched_res_is_gpu(slot))
			n->alloc_gpus += val;
	}
}

int sched_node_parse(json_object *node, struct sched_node *n)
{
	const char *name = json_get_string(node, "metadata.name");
	json_object *labels = json_get_path(node, "metadata.labels");
	json_object *alloc = json_get_path(node, "status.allocatable");

	if (!name)
		return -EINVAL;
	if (!n->name) {
		n->name = strdup(name);
		if (!n->name)
			return -ENOMEM;
	}
	n->exists = true;
	n->labels = labels ? json_object_get(labels) : NULL;
	n->unschedulable = json_object_get_boolean(json_get_path(node, "spec.unschedulable"));
	n->ready = parse_ready(node);
	memset(&n->alloc, 0, sizeof(n->alloc));
	n->alloc_pods = 0;
	n->alloc_gpus = 0;
	/* A node that reports capacity only offers all of it. */
	parse_allocatable(alloc ? alloc : json_get_path(node, "status.capacity"), n);
	return parse_taints(json_get_path(node, "spec.taints"), n);
}

void sched_node_clear_facts(struct sched_node *n)
{
	json_object_put(n->labels);
	n->labels = NULL;
	for (size_t i = 0; i < n->n_taints; i++) {
		free(n->taints[i].key);
		free(n->taints[i].value);
	}
	free(n->taints);
	n->taints = NULL;
	n->n_taints = 0;
	n->exists = false;
}

void sched_node_free(struct sched_node *n)
{
	if (!n)
		return;
	sched_node_clear_facts(n);
	free(n->owners);
	free(n->ports);
	free(n->name);
	free(n);
}

bool sched_node_facts_differ(const struct sched_node *a, const struct sched_node *b)
{
	if (a->exists != b->exists || a->unschedulable != b->unschedulable || a->ready != b->ready ||
	    a->alloc_pods != b->alloc_pods || memcmp(&a->alloc, &b->alloc, sizeof(a->alloc)) != 0 ||
	    a->n_taints != b->n_taints || !json_object_equal(a->labels, b->labels))
		return true;
	for (size_t i = 0; i < a->n_taints; i++)
		if (a->taints[i].effect != b->taints[i].effect || strcmp(a->taints[i].key, b->taints[i].key) != 0 ||
		    strcmp(a->taints[i].value, b->taints[i].value) != 0)
			return true;
	return false;
}

static void owner_add(struct sched_node *n, uint64_t owner, int delta)
{
	struct sched_node_owner *v;

	for (size_t i = 0; i < n->n_owners; i++)
		if (n->owners[i].owner == owner) {
			n->owners[i].count += delta;
			if (n->owners[i].count <= 0)
				n->owners[i] = n->owners[--n->n_owners];
			return;
		}
	if (delta <= 0)
		return;
	v = realloc(n->owners, (n->n_owners + 1) * sizeof(*v));
	if (!v)
		return;
	n->owners = v;
	v[n->n_owners].owner = owner;
	v[n->n_owners++].count = delta;
}

int sched_node_owner_count(const struct sched_node *n, uint64_t owner)
{
	for (size_t i = 0; owner && i < n->n_owners; i++)
		if (n->owners[i].owner == owner)
			return n->owners[i].count;
	return 0;
}

static void ports_add(struct sched_node *n, const struct sched_pod *p)
{
	struct sched_port *v = realloc(n->ports, (n->n_ports + p->n_ports) * sizeof(*v));

	if (!v)
		return;
	n->ports = v;
	memcpy(n->ports + n->n_ports, p->ports, p->n_ports * sizeof(*v));
	n->n_ports += p->n_ports;
}

static void ports_remove(struct sched_node *n, const struct sched_pod *p)
{
	for (size_t i = 0; i < p->n_ports; i++)
		for (size_t j = 0; j < n->n_ports; j++)
			if (memcmp(&n->ports[j], &p->ports[i], sizeof(p->ports[i])) == 0) {
				n->ports[j] = n->ports[--n->n_ports];
				break;
			}
}

void sched_node_add_pod(struct sched_node *n, const struct sched_pod *p)
{
	for (int i = 0; i < SCHED_RES_MAX; i++)
		n->requested.v[i] += p->req.v[i];
	n->score_cpu += p->score_cpu;
	n->score_mem += p->score_mem;
	n->gpus_used += p->gpus;
	n->n_pods++;
	if (p->n_ports)
		ports_add(n, p);
	if (p->owner)
		owner_add(n, p->owner, 1);
}

void sched_node_remove_pod(struct sched_node *n, const struct sched_pod *p)
{
	for (int i = 0; i < SCHED_RES_MAX; i++)
		n->requested.v[i] -= p->req.v[i];
	n->score_cpu -= p->score_cpu;
	n->score_mem -= p->score_mem;
	n->gpus_used -= p->gpus;
	n->n_pods--;
	if (p->n_ports)
		ports_remove(n, p);
	if (p->owner)
		owner_add(n, p->owner, -1);
}
