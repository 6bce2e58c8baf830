/* The scores that rank the nodes a pod fits, each 0..100 (higher is better), and their
 * weighted sum: least-allocated and balanced allocation of cpu and memory, spread of a
 * controller's pods across nodes, and GPU packing. */
#ifndef SKIFF_SCHEDULER_SCORE_H
#define SKIFF_SCHEDULER_SCORE_H

#include <stdint.h>

#include "scheduler/model.h"

#define SCHED_MAX_SCORE 100

/* Weights of the sum, as kube-scheduler weighs its plugins; GPU packing outweighs the
 * spreading scores so GPU pods fill partly used GPU nodes first. */
#define SCHED_WEIGHT_LEAST 1
#define SCHED_WEIGHT_BALANCED 1
#define SCHED_WEIGHT_SPREAD 2
#define SCHED_WEIGHT_GPU_POD 5
#define SCHED_WEIGHT_GPU_OTHER 1

/* Free share of cpu and memory after placing the pod (requests with non-zero defaults). */
int64_t sched_score_least_allocated(const struct sched_pod *p, const struct sched_node *n);
/* How evenly cpu and memory would be used: 100 minus the spread of their fractions. */
int64_t sched_score_balanced(const struct sched_pod *p, const struct sched_node *n);
/* Fewer pods of the same controller on this node than on the fullest feasible one scores
 * higher; count is this node's, max the largest over the feasible nodes. */
int64_t sched_score_spread(int count, int max);
/* GPU pods: the GPU share used after placing the pod (pack). Other pods: 100 on nodes
 * without GPUs, 0 on GPU nodes (keep those free). */
int64_t sched_score_gpu(const struct sched_pod *p, const struct sched_node *n);

/* The weighted sum. */
int64_t sched_score(const struct sched_pod *p, const struct sched_node *n, int owner_count, int owner_max);

#endif
