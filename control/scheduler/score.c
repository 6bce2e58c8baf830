/* The scheduler's scores (see score.h): integer arithmetic over the cached accounting. */
#include "scheduler/score.h"

static int64_t least(int64_t requested, int64_t capacity)
{
	if (capacity <= 0 || requested > capacity)
		return 0;
	return (capacity - requested) * SCHED_MAX_SCORE / capacity;
}

int64_t sched_score_least_allocated(const struct sched_pod *p, const struct sched_node *n)
{
	int64_t cpu = least(n->score_cpu + p->score_cpu, n->alloc.v[SCHED_RES_CPU]);
	int64_t mem = least(n->score_mem + p->score_mem, n->alloc.v[SCHED_RES_MEMORY]);

	return (cpu + mem) / 2;
}

/* A fraction in millionths, capped at one. */
static int64_t fraction(int64_t requested, int64_t capacity)
{
	if (capacity <= 0 || requested >= capacity)
		return 1000000;
	return requested * 1000000 / capacity;
}

int64_t sched_score_balanced(const struct sched_pod *p, const struct sched_node *n)
{
	int64_t fc = fraction(n->score_cpu + p->score_cpu, n->alloc.v[SCHED_RES_CPU]);
	int64_t fm = fraction(n->score_mem + p->score_mem, n->alloc.v[SCHED_RES_MEMORY]);
	/* The standard deviation of two values is half their distance. */
	int64_t std = (fc > fm ? fc - fm : fm - fc) / 2;

	return (1000000 - std) * SCHED_MAX_SCORE / 1000000;
}

int64_t sched_score_spread(int count, int max)
{
	if (max <= 0)
		return SCHED_MAX_SCORE;
	return (int64_t)(max - count) * SCHED_MAX_SCORE / max;
}

int64_t sched_score_gpu(const struct sched_pod *p, const struct sched_node *n)
{
	if (!p->gpus)
		return n->alloc_gpus > 0 ? 0 : SCHED_MAX_SCORE;
	if (n->alloc_gpus <= 0)
		return 0;
	if (n->gpus_used + p->gpus >= n->alloc_gpus)
		return SCHED_MAX_SCORE;
	return (n->gpus_used + p->gpus) * SCHED_MAX_SCORE / n->alloc_gpus;
}

int64_t sched_score(const struct sched_pod *p, const struct sched_node *n, int owner_count, int owner_max)
{
	int64_t s = SCHED_WEIGHT_LEAST * sched_score_least_allocated(p, n) +
		    SCHED_WEIGHT_BALANCED * sched_score_balanced(p, n) +
		    sched_score_gpu(p, n) * (p->gpus ? SCHED_WEIGHT_GPU_POD : SCHED_WEIGHT_GPU_OTHER);

	if (p->owner)
		s += SCHED_WEIGHT_SPREAD * sched_score_spread(owner_count, owner_max);
	return s;
}
