/* kube-scheduler's FitError message: each node's reasons counted, the "<count> <reason>"
 * strings sorted byte-wise (as Go's sort.Strings does) and joined. */
#include "scheduler/filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/cleanup.h>

struct reason_count {
	char *reason;
	size_t count;
};

struct histogram {
	struct reason_count *v;
	size_t n;
};

static int count(struct histogram *h, const char *reason)
{
	struct reason_count *v;

	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].reason, reason) == 0) {
			h->v[i].count++;
			return 0;
		}
	v = realloc(h->v, (h->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	v[h->n].reason = strdup(reason);
	if (!v[h->n].reason)
		return -ENOMEM;
	v[h->n++].count = 1;
	return 0;
}

static int count_verdict(struct histogram *h, const struct sched_verdict *v)
{
	_cleanup_free_ char *taint = NULL;
	int rc = 0;

	switch (v->fail) {
	case SCHED_FIT:
		return 0;
	case SCHED_FAIL_UNSCHEDULABLE:
		return count(h, "node(s) were unschedulable");
	case SCHED_FAIL_TAINT:
		if (asprintf(&taint, "node(s) had untolerated taint {%s: %s}", v->taint_key, v->taint_value) < 0) {
			taint = NULL;
			return -ENOMEM;
		}
		return count(h, taint);
	case SCHED_FAIL_AFFINITY:
		return count(h, "node(s) didn't match Pod's node affinity/selector");
	case SCHED_FAIL_PORTS:
		return count(h, "node(s) didn't have free ports for the requested pod ports");
	case SCHED_FAIL_RESOURCES:
		if (v->too_many_pods)
			rc = count(h, "Too many pods");
		for (int i = 0; i < SCHED_RES_MAX && rc == 0; i++)
			if (v->insufficient & (1u << i)) {
				char buf[300];

				snprintf(buf, sizeof(buf), "Insufficient %s", sched_res_name(i));
				rc = count(h, buf);
			}
		return rc;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "<count> <reason>" for each, sorted, joined with ", ". */
static char *join_sorted(const struct histogram *h)
{
	char **strs = calloc(h->n ? h->n : 1, sizeof(char *)), *out = NULL;
	size_t len = 0, n = 0;
	FILE *f = NULL;

	if (!strs)
		return NULL;
	for (; n < h->n; n++)
		if (asprintf(&strs[n], "%zu %s", h->v[n].count, h->v[n].reason) < 0)
			goto out;
	qsort(strs, n, sizeof(char *), cmp_str);
	f = open_memstream(&out, &len);
	if (!f)
		goto out;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", strs[i]);
	if (fclose(f) != 0) {
		free(out);
		out = NULL;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(strs[i]);
	free(strs);
	return out;
}

char *sched_fit_message(const struct sched_verdict *v, size_t n)
{
	struct histogram h = { 0 };
	_cleanup_free_ char *reasons = NULL;
	char *msg = NULL;
	int rc = 0;

	if (n == 0)
		return strdup("no nodes available to schedule pods");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = count_verdict(&h, &v[i]);
	if (rc == 0)
		reasons = join_sorted(&h);
	if (reasons && asprintf(&msg, "0/%zu nodes are available: %s.", n, reasons) < 0)
		msg = NULL;
	for (size_t i = 0; i < h.n; i++)
		free(h.v[i].reason);
	free(h.v);
	return msg;
}
