/* One scheduling decision over the cached nodes: filter (stopping once enough nodes fit,
 * as kube-scheduler's percentageOfNodesToScore does), score, pick the best at random among
 * ties; or, when no node fits, the FitError message. */
#ifndef SKIFF_SCHEDULER_SELECT_H
#define SKIFF_SCHEDULER_SELECT_H

#include <stddef.h>

#include "scheduler/filter.h"
#include "scheduler/model.h"

/* Buffers reused across decisions so the hot path does not allocate. */
struct sched_select_buf {
	struct sched_verdict *verdicts;
	size_t *feasible;
	int *owners; /* per feasible node: pods of the same controller there */
	size_t cap;
};
void sched_select_buf_free(struct sched_select_buf *b);

/* How many feasible nodes are enough out of n (Kubernetes' adaptive percentage). */
size_t sched_nodes_to_find(size_t n);

/* nodes[0..n) (entries with !exists are skipped), filtered from *start on, which then
 * advances past the last node examined. 0 and *ret_index, or -ENOSPC and *ret_msg
 * (caller frees), or -ENOMEM. */
int sched_select(struct sched_node *const *nodes, size_t n, size_t *start, const struct sched_pod *p, unsigned *seed,
		 struct sched_select_buf *buf, size_t *ret_index, char **ret_msg);

#endif
