/* What the scheduler knows of a pod and a node, parsed once from their JSON into integers
 * and small arrays so that filtering and scoring read no JSON on the hot path. */
#ifndef SKIFF_SCHEDULER_MODEL_H
#define SKIFF_SCHEDULER_MODEL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Resource slots: the fixed ones, then integer extended resources (nvidia.com/gpu, ...)
 * interned process-wide in the order first seen. */
enum {
	SCHED_RES_CPU,       /* millicores */
	SCHED_RES_MEMORY,    /* bytes */
	SCHED_RES_EPHEMERAL, /* bytes of ephemeral-storage */
	SCHED_RES_FIXED,
};
#define SCHED_RES_MAX 16

struct sched_res {
	int64_t v[SCHED_RES_MAX];
};

/* The slot of a resource name, interned when new; -ENOSPC when the table is full,
 * -EINVAL for names the scheduler does not count (hugepages, pods). */
int sched_res_index(const char *name);
/* The name of a slot ("cpu", "nvidia.com/gpu"). */
const char *sched_res_name(int slot);
/* Whether a slot is a GPU ("<vendor>/gpu"): such pods pack together. */
bool sched_res_is_gpu(int slot);

enum sched_effect {
	SCHED_EFFECT_ANY, /* a toleration without effect */
	SCHED_EFFECT_NO_SCHEDULE,
	SCHED_EFFECT_PREFER_NO_SCHEDULE,
	SCHED_EFFECT_NO_EXECUTE,
};

struct sched_taint {
	char *key, *value;
	enum sched_effect effect;
};

struct sched_toleration {
	char *key, *value; /* key NULL: every key (operator Exists) */
	bool exists;       /* operator Exists (else Equal) */
	enum sched_effect effect;
};

enum sched_op { SCHED_OP_IN, SCHED_OP_NOT_IN, SCHED_OP_EXISTS, SCHED_OP_DOES_NOT_EXIST, SCHED_OP_GT, SCHED_OP_LT };

struct sched_requirement {
	char *key;
	enum sched_op op;
	bool field; /* matchFields (metadata.name), not a label */
	char **values;
	size_t n_values;
};

struct sched_term {
	struct sched_requirement *reqs;
	size_t n_reqs;
};

struct sched_port {
	char ip[48]; /* "" = every address */
	int port;
	char proto; /* 'T', 'U', 'S' */
};

struct sched_pod {
	char *key; /* "namespace/name" */
	char *ns, *name, *uid, *rv;
	char *node_name;    /* spec.nodeName, NULL while pending */
	uint64_t owner;     /* hash of the controller ownerReference's uid; 0: none */
	bool terminal;      /* Succeeded or Failed: holds no resources */
	bool ours;          /* schedulerName empty or default-scheduler */
	bool deleting;
	bool assumed; /* placed by this scheduler, its binding not yet seen in the watch */
	struct sched_res req;  /* what the fit filter counts */
	int64_t score_cpu, score_mem; /* requests with Kubernetes' non-zero defaults, for scoring */
	int64_t gpus; /* the sum of its GPU slots' requests */
	struct sched_port *ports;
	size_t n_ports;
	struct sched_toleration *tols;
	size_t n_tols;
	struct sched_requirement *selector; /* spec.nodeSelector, as In requirements */
	size_t n_selector;
	struct sched_term *terms; /* required node affinity; NULL: none */
	size_t n_terms;
	bool has_affinity;
	uint64_t shape; /* hash of spec and metadata.labels, to tell relevant updates */
};

struct sched_node_owner {
	uint64_t owner;
	int count;
};

struct sched_node {
	char *name;
	bool exists; /* false: a placeholder for pods bound to a node not (yet) seen */
	json_object *labels; /* owned reference, NULL when none */
	bool unschedulable;
	char ready; /* Ready: 'T', 'F', 'U' (Unknown); no Ready condition counts as 'F' */
	struct sched_taint *taints;
	size_t n_taints;
	struct sched_res alloc;
	int64_t alloc_pods;
	int64_t alloc_gpus;
	/* Accounting of the pods bound (or assumed) here. */
	struct sched_res requested;
	int64_t score_cpu, score_mem;
	size_t n_pods;
	int64_t gpus_used;
	struct sched_port *ports;
	size_t n_ports;
	struct sched_node_owner *owners;
	size_t n_owners;
};

/* Parses a pod; NULL with errno set (EINVAL without metadata.name). */
struct sched_pod *sched_pod_parse(json_object *pod);
void sched_pod_free(struct sched_pod *p);
/* Whether an update of a pending pod can change where it fits (spec or labels changed). */
bool sched_pod_relevant_change(const struct sched_pod *old, const struct sched_pod *cur);

/* Parses a node's scheduling facts into n (name, labels, taints, allocatable, readiness),
 * keeping n's accounting. 0 or -ENOMEM/-EINVAL. */
int sched_node_parse(json_object *node, struct sched_node *n);
/* Frees the parsed facts (not the accounting). */
void sched_node_clear_facts(struct sched_node *n);
void sched_node_free(struct sched_node *n);
/* Whether two parsed nodes differ in what filters and scores read. */
bool sched_node_facts_differ(const struct sched_node *a, const struct sched_node *b);

/* Adds or removes a pod's requests, ports and owner to a node's accounting. */
void sched_node_add_pod(struct sched_node *n, const struct sched_pod *p);
void sched_node_remove_pod(struct sched_node *n, const struct sched_pod *p);
/* How many pods of this controller (sched_pod.owner) the node runs. */
int sched_node_owner_count(const struct sched_node *n, uint64_t owner);

#endif
