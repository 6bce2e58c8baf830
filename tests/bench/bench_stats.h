/* Timing and nearest-rank percentiles shared by the bench programs (each is its own binary,
 * linked with no bench library: hence static inline). */
#ifndef SKIFF_BENCH_STATS_H
#define SKIFF_BENCH_STATS_H

#include <stdlib.h>
#include <time.h>

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..1) of n sorted values; -1 when there are none. */
static inline double percentile_sorted(const double *sorted, size_t n, double p)
{
	size_t rank = (size_t)(p * n + 0.999999);

	return n ? sorted[rank ? rank - 1 : 0] : -1;
}

/* The same of n values, sorted in place first. */
static inline double percentile(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return percentile_sorted(v, n, p);
}

#endif
