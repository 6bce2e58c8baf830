/* The scheduling decision (see select.h): a pass of filters from a rotating start, a pass
 * of scores over the nodes that fit, and reservoir sampling among the best. */
#include "scheduler/select.h"

#include <errno.h>
#include <stdlib.h>

#include "scheduler/score.h"

#define MIN_FEASIBLE 100
#define MIN_PERCENT 5

void sched_select_buf_free(struct sched_select_buf *b)
{
	free(b->verdicts);
	free(b->feasible);
	free(b->owners);
	*b = (struct sched_select_buf){ 0 };
}

static int buf_reserve(struct sched_select_buf *b, size_t n)
{
	struct sched_verdict *v;
	size_t *f;
	int *o;

	if (n <= b->cap)
		return 0;
	v = realloc(b->verdicts, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	b->verdicts = v;
	f = realloc(b->feasible, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	b->feasible = f;
	o = realloc(b->owners, n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	b->owners = o;
	b->cap = n;
	return 0;
}

size_t sched_nodes_to_find(size_t n)
{
	size_t percent, want;

	if (n < MIN_FEASIBLE)
		return n;
	percent = n / 125 < 50 - MIN_PERCENT ? 50 - n / 125 : MIN_PERCENT;
	want = n * percent / 100;
	return want < MIN_FEASIBLE ? MIN_FEASIBLE : want;
}

/* Filters from *start until enough fit or every node was seen; returns the count that fit
 * and the number of existing nodes in *ret_existing (only exact when none fit). */
static size_t filter_pass(struct sched_node *const *nodes, size_t n, size_t *start, const struct sched_pod *p,
			  struct sched_select_buf *b, size_t *ret_existing)
{
	size_t want = sched_nodes_to_find(n), found = 0, existing = 0, i, idx = *start;

	for (i = 0; i < n && found < want; i++) {
		idx = (*start + i) % n;
		if (!nodes[idx]->exists)
			continue;
		if (sched_filter(p, nodes[idx], &b->verdicts[existing]))
			b->feasible[found++] = idx;
		existing++;
	}
	*start = n ? (idx + 1) % n : 0;
	*ret_existing = existing;
	return found;
}

static size_t pick_best(struct sched_node *const *nodes, struct sched_select_buf *b, size_t found,
			const struct sched_pod *p, unsigned *seed)
{
	int64_t best = -1;
	size_t pick = b->feasible[0], ties = 0;
	int owner_max = 0;

	for (size_t i = 0; i < found; i++) {
		b->owners[i] = sched_node_owner_count(nodes[b->feasible[i]], p->owner);
		if (b->owners[i] > owner_max)
			owner_max = b->owners[i];
	}
	for (size_t i = 0; i < found; i++) {
		int64_t s = sched_score(p, nodes[b->feasible[i]], b->owners[i], owner_max);

		if (s > best) {
			best = s;
			pick = b->feasible[i];
			ties = 1;
		} else if (s == best && (size_t)rand_r(seed) % ++ties == 0) {
			pick = b->feasible[i];
		}
	}
	return pick;
}

int sched_select(struct sched_node *const *nodes, size_t n, size_t *start, const struct sched_pod *p, unsigned *seed,
		 struct sched_select_buf *buf, size_t *ret_index, char **ret_msg)
{
	size_t found, existing;

	if (buf_reserve(buf, n ? n : 1) < 0)
		return -ENOMEM;
	found = filter_pass(nodes, n, start, p, buf, &existing);
	if (!found) {
		*ret_msg = sched_fit_message(buf->verdicts, existing);
		return *ret_msg ? -ENOSPC : -ENOMEM;
	}
	*ret_index = found == 1 ? buf->feasible[0] : pick_best(nodes, buf, found, p, seed);
	return 0;
}
