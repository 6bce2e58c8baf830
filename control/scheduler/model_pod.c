/* A pod's scheduling facts parsed once: requests as Kubernetes aggregates them (containers,
 * init containers and sidecars, overhead), host ports, tolerations, node selector and
 * required node affinity, controller owner. */
#include "scheduler/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "api/quantity.h"

/* Kubernetes' defaults for a container without requests, used by scores only. */
#define NONZERO_MILLI_CPU 100
#define NONZERO_MEMORY (200LL * 1024 * 1024)

/* The length of a JSON array; 0 for anything else (a pod the API accepted has arrays here). */
static size_t arr_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int64_t parse_quantity(int slot, const char *s)
{
	int64_t v = 0;

	if (!s)
		return 0;
	if (slot == SCHED_RES_CPU ? quantity_parse_milli(s, &v) < 0 : quantity_parse_value(s, &v) < 0)
		return 0;
	return v;
}

/* Adds a resource list ({"cpu":"100m",...}) into r. */
static void add_list(json_object *list, struct sched_res *r)
{
	if (!list || !json_object_is_type(list, json_type_object))
		return;
	json_object_object_foreach(list, k, v)
	{
		int slot = sched_res_index(k);

		if (slot >= 0)
			r->v[slot] += parse_quantity(slot, json_object_get_string(v));
	}
}

/* A container's requests; a resource with only a limit requests the limit, as the API
 * server's defaulting makes it. */
static void container_requests(json_object *c, bool nonzero, struct sched_res *r)
{
	json_object *req = json_get_path(c, "resources.requests");
	json_object *lim = json_get_path(c, "resources.limits");

	memset(r, 0, sizeof(*r));
	add_list(req, r);
	if (lim && json_object_is_type(lim, json_type_object)) {
		json_object_object_foreach(lim, k, v)
		{
			int slot = sched_res_index(k);

			if (slot >= 0 && !json_object_object_get_ex(req, k, NULL))
				r->v[slot] += parse_quantity(slot, json_object_get_string(v));
		}
	}
	if (nonzero) {
		if (!json_object_object_get_ex(req, "cpu", NULL) && !json_object_object_get_ex(lim, "cpu", NULL))
			r->v[SCHED_RES_CPU] = NONZERO_MILLI_CPU;
		if (!json_object_object_get_ex(req, "memory", NULL) && !json_object_object_get_ex(lim, "memory", NULL))
			r->v[SCHED_RES_MEMORY] = NONZERO_MEMORY;
	}
}

static void res_add(struct sched_res *a, const struct sched_res *b)
{
	for (int i = 0; i < SCHED_RES_MAX; i++)
		a->v[i] += b->v[i];
}

static void res_max(struct sched_res *a, const struct sched_res *b)
{
	for (int i = 0; i < SCHED_RES_MAX; i++)
		if (b->v[i] > a->v[i])
			a->v[i] = b->v[i];
}

/* max(sum of containers + sidecars, each init container with the sidecars started before
 * it) + overhead: Kubernetes' AggregateContainerRequests. */
static void pod_requests(json_object *spec, bool nonzero, struct sched_res *ret)
{
	json_object *cs = json_get_path(spec, "containers"), *ics = json_get_path(spec, "initContainers");
	struct sched_res sum = { 0 }, sidecars = { 0 }, init_max = { 0 }, c;

	for (size_t i = 0; i < arr_len(cs); i++) {
		container_requests(json_object_array_get_idx(cs, i), nonzero, &c);
		res_add(&sum, &c);
	}
	for (size_t i = 0; i < arr_len(ics); i++) {
		json_object *ic = json_object_array_get_idx(ics, i);
		const char *policy = json_get_string(ic, "restartPolicy");

		container_requests(ic, nonzero, &c);
		if (policy && strcmp(policy, "Always") == 0) {
			res_add(&sidecars, &c);
			c = sidecars;
		} else {
			res_add(&c, &sidecars);
		}
		res_max(&init_max, &c);
	}
	res_add(&sum, &sidecars);
	res_max(&sum, &init_max);
	add_list(json_get_path(spec, "overhead"), &sum);
	*ret = sum;
}

static enum sched_effect parse_effect(const char *s)
{
	if (!s || !*s)
		return SCHED_EFFECT_ANY;
	if (strcmp(s, "NoSchedule") == 0)
		return SCHED_EFFECT_NO_SCHEDULE;
	if (strcmp(s, "PreferNoSchedule") == 0)
		return SCHED_EFFECT_PREFER_NO_SCHEDULE;
	return SCHED_EFFECT_NO_EXECUTE;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static int parse_tolerations(json_object *arr, struct sched_pod *p)
{
	size_t n = arr_len(arr);

	if (!n)
		return 0;
	p->tols = calloc(n, sizeof(*p->tols));
	if (!p->tols)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(arr, i);
		struct sched_toleration *d = &p->tols[p->n_tols++];
		const char *op = json_get_string(t, "operator");

		d->key = dup_or_null(json_get_string(t, "key"));
		d->value = strdup(json_get_string(t, "value") ?: "");
		d->exists = op && strcmp(op, "Exists") == 0;
		d->effect = parse_effect(json_get_string(t, "effect"));
		if (!d->value)
			return -ENOMEM;
	}
	return 0;
}

static void parse_port(json_object *port, struct sched_port *d)
{
	const char *ip = json_get_string(port, "hostIP"), *proto = json_get_string(port, "protocol");

	memset(d, 0, sizeof(*d));
	if (ip && strcmp(ip, "0.0.0.0") != 0 && strcmp(ip, "::") != 0)
		snprintf(d->ip, sizeof(d->ip), "%s", ip);
	d->port = json_object_get_int(json_get_path(port, "hostPort"));
	d->proto = proto && *proto ? proto[0] : 'T';
}

static int parse_ports(json_object *spec, struct sched_pod *p)
{
	json_object *cs = json_get_path(spec, "containers");

	for (size_t i = 0; i < arr_len(cs); i++) {
		json_object *ports = json_get_path(json_object_array_get_idx(cs, i), "ports");

		for (size_t j = 0; j < arr_len(ports); j++) {
			json_object *port = json_object_array_get_idx(ports, j);
			struct sched_port *v;

			if (json_object_get_int(json_get_path(port, "hostPort")) <= 0)
				continue;
			v = realloc(p->ports, (p->n_ports + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			p->ports = v;
			parse_port(port, &p->ports[p->n_ports++]);
		}
	}
	return 0;
}

static enum sched_op parse_op(const char *s)
{
	static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt" };

	for (size_t i = 0; s && i < ELEMENTSOF(ops); i++)
		if (strcmp(s, ops[i]) == 0)
			return (enum sched_op)i;
	return SCHED_OP_IN; /* validation rejects others; In with no value matches nothing */
}

static int parse_requirement(json_object *e, bool field, struct sched_requirement *r)
{
	json_object *vals = json_get_path(e, "values");
	size_t n = arr_len(vals);

	r->key = strdup(json_get_string(e, "key") ?: "");
	r->op = parse_op(json_get_string(e, "operator"));
	r->field = field;
	r->values = n ? calloc(n, sizeof(char *)) : NULL;
	if (!r->key || (n && !r->values))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r->values[i] = strdup(json_object_get_string(json_object_array_get_idx(vals, i)) ?: "");
		if (!r->values[i])
			return -ENOMEM;
		r->n_values++;
	}
	return 0;
}

static int parse_term(json_object *term, struct sched_term *t)
{
	json_object *exprs = json_get_path(term, "matchExpressions"), *fields = json_get_path(term, "matchFields");
	size_t ne = arr_len(exprs), nf = arr_len(fields);
	int rc = 0;

	if (!ne && !nf)
		return 0;
	t->reqs = calloc(ne + nf, sizeof(*t->reqs));
	if (!t->reqs)
		return -ENOMEM;
	for (size_t i = 0; i < ne + nf && rc == 0; i++, t->n_reqs++)
		rc = parse_requirement(i < ne ? json_object_array_get_idx(exprs, i) : json_object_array_get_idx(fields, i - ne),
				       i >= ne, &t->reqs[i]);
	return rc;
}

static int parse_affinity(json_object *spec, struct sched_pod *p)
{
	json_object *req = json_get_path(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
	json_object *terms = json_get_path(req, "nodeSelectorTerms");
	size_t n = arr_len(terms);
	int rc = 0;

	if (!req)
		return 0;
	p->has_affinity = true;
	p->terms = n ? calloc(n, sizeof(*p->terms)) : NULL;
	if (n && !p->terms)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++, p->n_terms++)
		rc = parse_term(json_object_array_get_idx(terms, i), &p->terms[i]);
	return rc;
}

static int parse_selector(json_object *sel, struct sched_pod *p)
{
	size_t n = sel && json_object_is_type(sel, json_type_object) ? (size_t)json_object_object_length(sel) : 0;

	if (!n)
		return 0;
	p->selector = calloc(n, sizeof(*p->selector));
	if (!p->selector)
		return -ENOMEM;
	json_object_object_foreach(sel, k, v)
	{
		struct sched_requirement *r = &p->selector[p->n_selector++];

		r->key = strdup(k);
		r->values = calloc(1, sizeof(char *));
		if (!r->key || !r->values)
			return -ENOMEM;
		r->values[0] = strdup(json_object_get_string(v) ?: "");
		if (!r->values[0])
			return -ENOMEM;
		r->n_values = 1;
	}
	return 0;
}

static const char *controller_uid(json_object *pod)
{
	json_object *refs = json_get_path(pod, "metadata.ownerReferences");

	for (size_t i = 0; i < arr_len(refs); i++) {
		json_object *ref = json_object_array_get_idx(refs, i);

		if (json_object_get_boolean(json_get_path(ref, "controller")))
			return json_get_string(ref, "uid");
	}
	return NULL;
}

static int parse_identity(json_object *pod, struct sched_pod *p)
{
	const char *ns = json_get_string(pod, "metadata.namespace") ?: "default";
	const char *name = json_get_string(pod, "metadata.name");
	const char *sched = json_get_string(pod, "spec.schedulerName");
	const char *phase = json_get_string(pod, "status.phase");
	json_object *spec = json_get_path(pod, "spec");

	if (!name)
		return -EINVAL;
	if (asprintf(&p->key, "%s/%s", ns, name) < 0) {
		p->key = NULL;
		return -ENOMEM;
	}
	p->ns = strdup(ns);
	p->name = strdup(name);
	p->uid = strdup(json_get_string(pod, "metadata.uid") ?: "");
	p->rv = strdup(json_get_string(pod, "metadata.resourceVersion") ?: "");
	p->node_name = dup_or_null(json_get_string(pod, "spec.nodeName"));
	/* Compared per node on the hot path: an integer, not the uid string. */
	p->owner = controller_uid(pod) ? fnv(14695981039346656037ULL, controller_uid(pod)) | 1 : 0;
	p->terminal = phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
	p->ours = !sched || !*sched || strcmp(sched, "default-scheduler") == 0;
	p->deleting = json_get_path(pod, "metadata.deletionTimestamp") != NULL;
	p->shape = fnv(fnv(14695981039346656037ULL, json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN)),
		       json_object_to_json_string_ext(json_get_path(pod, "metadata.labels"), JSON_C_TO_STRING_PLAIN));
	if (!p->ns || !p->name || !p->uid || !p->rv)
		return -ENOMEM;
	return 0;
}

struct sched_pod *sched_pod_parse(json_object *pod)
{
	struct sched_pod *p = calloc(1, sizeof(*p));
	json_object *spec = json_get_path(pod, "spec");
	struct sched_res nz;
	int rc;

	if (!p)
		return NULL;
	rc = parse_identity(pod, p);
	if (rc == 0)
		rc = parse_tolerations(json_get_path(spec, "tolerations"), p);
	if (rc == 0)
		rc = parse_ports(spec, p);
	if (rc == 0)
		rc = parse_selector(json_get_path(spec, "nodeSelector"), p);
	if (rc == 0)
		rc = parse_affinity(spec, p);
	if (rc < 0) {
		sched_pod_free(p);
		errno = -rc;
		return NULL;
	}
	pod_requests(spec, false, &p->req);
	pod_requests(spec, true, &nz);
	p->score_cpu = nz.v[SCHED_RES_CPU];
	p->score_mem = nz.v[SCHED_RES_MEMORY];
	for (int i = SCHED_RES_FIXED; i < SCHED_RES_MAX; i++)
		if (p->req.v[i] && sched_res_is_gpu(i))
			p->gpus += p->req.v[i];
	return p;
}

static void free_requirements(struct sched_requirement *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		for (size_t j = 0; j < r[i].n_values; j++)
			free(r[i].values[j]);
		free(r[i].values);
	}
	free(r);
}

void sched_pod_free(struct sched_pod *p)
{
	if (!p)
		return;
	free(p->key);
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->rv);
	free(p->node_name);
	free(p->ports);
	for (size_t i = 0; i < p->n_tols; i++) {
		free(p->tols[i].key);
		free(p->tols[i].value);
	}
	free(p->tols);
	free_requirements(p->selector, p->n_selector);
	for (size_t i = 0; i < p->n_terms; i++)
		free_requirements(p->terms[i].reqs, p->terms[i].n_reqs);
	free(p->terms);
	free(p);
}

bool sched_pod_relevant_change(const struct sched_pod *old, const struct sched_pod *cur)
{
	return !old || old->shape != cur->shape;
}
