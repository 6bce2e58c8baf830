/* The scheduler's filters (see filter.h), each a pure function of a parsed pod and a
 * node with its accounting, so a decision reads no JSON and no store. */
#include "scheduler/filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

#define TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"

bool sched_tolerates(const struct sched_toleration *t, const char *key, const char *value, enum sched_effect effect)
{
	if (t->effect != SCHED_EFFECT_ANY && t->effect != effect)
		return false;
	if (t->key && strcmp(t->key, key) != 0)
		return false;
	return t->exists || strcmp(t->value, value) == 0;
}

static bool tolerated(const struct sched_pod *p, const char *key, const char *value, enum sched_effect effect)
{
	for (size_t i = 0; i < p->n_tols; i++)
		if (sched_tolerates(&p->tols[i], key, value, effect))
			return true;
	return false;
}

bool sched_filter_unschedulable(const struct sched_pod *p, const struct sched_node *n)
{
	return !n->unschedulable || tolerated(p, TAINT_UNSCHEDULABLE, "", SCHED_EFFECT_NO_SCHEDULE);
}

static bool has_no_schedule_taint(const struct sched_node *n, const char *key)
{
	for (size_t i = 0; i < n->n_taints; i++)
		if (n->taints[i].effect == SCHED_EFFECT_NO_SCHEDULE && strcmp(n->taints[i].key, key) == 0)
			return true;
	return false;
}

/* A node that is not Ready carries the NoSchedule taint Kubernetes gives it (TaintNodesByCondition)
 * whether or not a controller wrote it yet, so pods that tolerate it still land there. The
 * NoExecute taint of the same key that every pod tolerates for 300 s does not admit pods. */
bool sched_filter_taints(const struct sched_pod *p, const struct sched_node *n, const char **ret_key,
			 const char **ret_value)
{
	const char *ready_taint = n->ready == 'T' ? NULL : n->ready == 'U' ? TAINT_UNREACHABLE : TAINT_NOT_READY;

	for (size_t i = 0; i < n->n_taints; i++) {
		const struct sched_taint *t = &n->taints[i];

		if (t->effect == SCHED_EFFECT_PREFER_NO_SCHEDULE || tolerated(p, t->key, t->value, t->effect))
			continue;
		*ret_key = t->key;
		*ret_value = t->value;
		return false;
	}
	if (ready_taint && !has_no_schedule_taint(n, ready_taint) && !tolerated(p, ready_taint, "", SCHED_EFFECT_NO_SCHEDULE)) {
		*ret_key = ready_taint;
		*ret_value = "";
		return false;
	}
	return true;
}

static const char *node_label(const struct sched_node *n, const char *key)
{
	json_object *v;

	if (!n->labels || !json_object_object_get_ex(n->labels, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static bool in_values(const struct sched_requirement *r, const char *v)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static bool compare_int(const struct sched_requirement *r, const char *v)
{
	char *end;
	long long have, want;

	if (!v || r->n_values != 1)
		return false;
	have = strtoll(v, &end, 10);
	if (!*v || *end)
		return false;
	want = strtoll(r->values[0], &end, 10);
	if (!*r->values[0] || *end)
		return false;
	return r->op == SCHED_OP_GT ? have > want : have < want;
}

static bool requirement_matches(const struct sched_requirement *r, const struct sched_node *n)
{
	const char *v = r->field ? (strcmp(r->key, "metadata.name") == 0 ? n->name : NULL) : node_label(n, r->key);

	switch (r->op) {
	case SCHED_OP_IN:
		return v && in_values(r, v);
	case SCHED_OP_NOT_IN:
		return !v || !in_values(r, v);
	case SCHED_OP_EXISTS:
		return v != NULL;
	case SCHED_OP_DOES_NOT_EXIST:
		return v == NULL;
	case SCHED_OP_GT:
	case SCHED_OP_LT:
		return compare_int(r, v);
	}
	return false;
}

static bool term_matches(const struct sched_term *t, const struct sched_node *n)
{
	/* An empty term matches nothing, as in Kubernetes. */
	if (!t->n_reqs)
		return false;
	for (size_t i = 0; i < t->n_reqs; i++)
		if (!requirement_matches(&t->reqs[i], n))
			return false;
	return true;
}

bool sched_filter_affinity(const struct sched_pod *p, const struct sched_node *n)
{
	for (size_t i = 0; i < p->n_selector; i++)
		if (!requirement_matches(&p->selector[i], n))
			return false;
	if (!p->has_affinity)
		return true;
	for (size_t i = 0; i < p->n_terms; i++)
		if (term_matches(&p->terms[i], n))
			return true;
	return false;
}

static bool ports_conflict(const struct sched_port *a, const struct sched_port *b)
{
	return a->port == b->port && a->proto == b->proto && (!a->ip[0] || !b->ip[0] || strcmp(a->ip, b->ip) == 0);
}

bool sched_filter_ports(const struct sched_pod *p, const struct sched_node *n)
{
	for (size_t i = 0; i < p->n_ports; i++)
		for (size_t j = 0; j < n->n_ports; j++)
			if (ports_conflict(&p->ports[i], &n->ports[j]))
				return false;
	return true;
}

bool sched_filter_resources(const struct sched_pod *p, const struct sched_node *n, bool *ret_too_many,
			    uint32_t *ret_insufficient)
{
	uint32_t bits = 0;

	*ret_too_many = (int64_t)n->n_pods + 1 > n->alloc_pods;
	for (int i = 0; i < SCHED_RES_MAX; i++)
		if (p->req.v[i] > 0 && p->req.v[i] > n->alloc.v[i] - n->requested.v[i])
			bits |= 1u << i;
	*ret_insufficient = bits;
	return !*ret_too_many && !bits;
}

bool sched_filter(const struct sched_pod *p, const struct sched_node *n, struct sched_verdict *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!sched_filter_unschedulable(p, n))
		ret->fail = SCHED_FAIL_UNSCHEDULABLE;
	else if (!sched_filter_taints(p, n, &ret->taint_key, &ret->taint_value))
		ret->fail = SCHED_FAIL_TAINT;
	else if (!sched_filter_affinity(p, n))
		ret->fail = SCHED_FAIL_AFFINITY;
	else if (!sched_filter_ports(p, n))
		ret->fail = SCHED_FAIL_PORTS;
	else if (!sched_filter_resources(p, n, &ret->too_many_pods, &ret->insufficient))
		ret->fail = SCHED_FAIL_RESOURCES;
	return ret->fail == SCHED_FIT;
}
