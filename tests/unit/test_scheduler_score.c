/* The scheduler's scores and its choice among nodes: least-allocated and balanced
 * allocation, controller spread, GPU packing, random tie-break, how many nodes it
 * examines, and "fits nowhere". Nodes and pods are JSON fixtures. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/model.h"
#include "scheduler/score.h"
#include "scheduler/select.h"

static struct sched_node *node_new(const char *name, const char *cpu, const char *mem, const char *gpus)
{
	char text[1024];
	json_object *o;
	struct sched_node *n = calloc(1, sizeof(*n));

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
		 "\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"%s%s%s}}}",
		 name, cpu, mem, gpus ? ",\"nvidia.com/gpu\":\"" : "", gpus ? gpus : "", gpus ? "\"" : "");
	o = json_tokener_parse(text);
	cr_assert_not_null(o);
	cr_assert_not_null(n);
	cr_assert_eq(sched_node_parse(o, n), 0);
	json_object_put(o);
	return n;
}

/* A pod with requests (NULL: none) and an optional controller uid. */
static struct sched_pod *pod_new(const char *name, const char *cpu, const char *mem, const char *gpus, const char *owner)
{
	char text[1024], res[256] = "", own[256] = "";
	json_object *o;
	struct sched_pod *p;

	if (cpu)
		snprintf(res, sizeof(res), ",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"%s%s%s}}", cpu, mem,
			 gpus ? ",\"nvidia.com/gpu\":\"" : "", gpus ? gpus : "", gpus ? "\"" : "");
	if (owner)
		snprintf(own, sizeof(own),
			 ",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"name\":\"rc\","
			 "\"uid\":\"%s\",\"controller\":true}]",
			 owner);
	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"u-%s\"%s},"
		 "\"spec\":{\"containers\":[{\"name\":\"c\"%s}]}}",
		 name, name, own, res);
	o = json_tokener_parse(text);
	cr_assert_not_null(o, "%s", text);
	p = sched_pod_parse(o);
	cr_assert_not_null(p);
	json_object_put(o);
	return p;
}

Test(scheduler_score, least_allocated)
{
	struct sched_node *n = node_new("n", "4", "8Gi", NULL);
	struct sched_pod *p = pod_new("p", "1", "2Gi", NULL, NULL);

	cr_assert_eq(sched_score_least_allocated(p, n), 75);
	sched_node_add_pod(n, p);
	cr_assert_eq(sched_score_least_allocated(p, n), 50);
	sched_pod_free(p);
	/* Without requests the pod counts as 100m and 200Mi. */
	p = pod_new("q", NULL, NULL, NULL, NULL);
	cr_assert_eq(sched_score_least_allocated(p, n), (((4000 - 1100) * 100 / 4000) +
							  ((8192LL - 2048 - 200) * 100 / 8192)) / 2);
	sched_pod_free(p);
	sched_node_free(n);
}

Test(scheduler_score, balanced_allocation)
{
	struct sched_node *n = node_new("n", "4", "8Gi", NULL);
	struct sched_pod *even = pod_new("e", "1", "2Gi", NULL, NULL), *skewed = pod_new("s", "2", "1Gi", NULL, NULL);

	cr_assert_eq(sched_score_balanced(even, n), 100);
	/* 0.5 cpu against 0.125 memory: a deviation of 0.1875. */
	cr_assert_eq(sched_score_balanced(skewed, n), 81);
	sched_pod_free(even);
	sched_pod_free(skewed);
	sched_node_free(n);
}

Test(scheduler_score, spread)
{
	cr_assert_eq(sched_score_spread(0, 0), 100);
	cr_assert_eq(sched_score_spread(0, 2), 100);
	cr_assert_eq(sched_score_spread(1, 2), 50);
	cr_assert_eq(sched_score_spread(2, 2), 0);
}

Test(scheduler_score, gpu_packing)
{
	struct sched_node *g = node_new("g", "8", "8Gi", "8"), *plain = node_new("c", "8", "8Gi", NULL);
	struct sched_pod *gp = pod_new("gp", "1", "1Gi", "1", NULL), *cpu = pod_new("cp", "1", "1Gi", NULL, NULL);

	cr_assert_eq(gp->gpus, 1);
	cr_assert_eq(sched_score_gpu(gp, g), 12);
	sched_node_add_pod(g, gp);
	sched_node_add_pod(g, gp);
	sched_node_add_pod(g, gp);
	cr_assert_eq(g->gpus_used, 3);
	cr_assert_eq(sched_score_gpu(gp, g), 50);
	cr_assert_eq(sched_score_gpu(gp, plain), 0);
	cr_assert_eq(sched_score_gpu(cpu, g), 0);
	cr_assert_eq(sched_score_gpu(cpu, plain), 100);
	sched_pod_free(gp);
	sched_pod_free(cpu);
	sched_node_free(g);
	sched_node_free(plain);
}

static int pick(struct sched_node **nodes, size_t n, const struct sched_pod *p, unsigned seed)
{
	struct sched_select_buf buf = { 0 };
	size_t start = 0, idx = 99;
	char *msg = NULL;
	int rc = sched_select(nodes, n, &start, p, &seed, &buf, &idx, &msg);

	sched_select_buf_free(&buf);
	cr_assert_eq(rc, 0, "no node chosen: %s", msg ? msg : "");
	return (int)idx;
}

Test(scheduler_score, prefers_the_emptier_node)
{
	struct sched_node *nodes[2] = { node_new("busy", "4", "8Gi", NULL), node_new("idle", "4", "8Gi", NULL) };
	struct sched_pod *load = pod_new("load", "3", "6Gi", NULL, NULL), *p = pod_new("p", "500m", "1Gi", NULL, NULL);

	sched_node_add_pod(nodes[0], load);
	for (unsigned seed = 1; seed < 20; seed++)
		cr_assert_eq(pick(nodes, 2, p, seed), 1);
	sched_pod_free(load);
	sched_pod_free(p);
	sched_node_free(nodes[0]);
	sched_node_free(nodes[1]);
}

Test(scheduler_score, spreads_a_controllers_pods)
{
	struct sched_node *nodes[3] = { node_new("a", "4", "8Gi", NULL), node_new("b", "4", "8Gi", NULL),
					node_new("c", "4", "8Gi", NULL) };
	struct sched_pod *r1 = pod_new("r1", "100m", "100Mi", NULL, "rc-1"), *r2 = pod_new("r2", "100m", "100Mi", NULL, "rc-1");
	struct sched_pod *other = pod_new("o", "100m", "100Mi", NULL, "rc-2");
	struct sched_pod *r3 = pod_new("r3", "100m", "100Mi", NULL, "rc-1");

	sched_node_add_pod(nodes[0], r1);
	sched_node_add_pod(nodes[1], r2);
	/* Another controller's pods on c do not count against rc-1. */
	sched_node_add_pod(nodes[2], other);
	cr_assert_neq(r1->owner, 0);
	cr_assert_eq(r1->owner, r3->owner);
	cr_assert_neq(r1->owner, other->owner);
	cr_assert_eq(sched_node_owner_count(nodes[0], r3->owner), 1);
	cr_assert_eq(sched_node_owner_count(nodes[2], r3->owner), 0);
	for (unsigned seed = 1; seed < 20; seed++)
		cr_assert_eq(pick(nodes, 3, r3, seed), 2);
	sched_node_remove_pod(nodes[0], r1);
	cr_assert_eq(sched_node_owner_count(nodes[0], r3->owner), 0);
	sched_pod_free(r1);
	sched_pod_free(r2);
	sched_pod_free(r3);
	sched_pod_free(other);
	for (int i = 0; i < 3; i++)
		sched_node_free(nodes[i]);
}

Test(scheduler_score, gpu_pods_pack_onto_used_gpu_nodes)
{
	struct sched_node *nodes[3] = { node_new("g-free", "8", "16Gi", "4"), node_new("g-used", "8", "16Gi", "4"),
					node_new("cpu", "8", "16Gi", NULL) };
	struct sched_pod *used = pod_new("u", "1", "1Gi", "1", NULL), *p = pod_new("p", "1", "1Gi", "1", NULL);
	struct sched_pod *plain = pod_new("c", "1", "1Gi", NULL, NULL);

	sched_node_add_pod(nodes[1], used);
	for (unsigned seed = 1; seed < 20; seed++)
		cr_assert_eq(pick(nodes, 3, p, seed), 1, "GPU pod packs onto g-used");
	/* A pod without GPUs keeps off the GPU nodes even though g-free is emptier. */
	for (unsigned seed = 1; seed < 20; seed++)
		cr_assert_eq(pick(nodes, 3, plain, seed), 2);
	sched_pod_free(used);
	sched_pod_free(p);
	sched_pod_free(plain);
	for (int i = 0; i < 3; i++)
		sched_node_free(nodes[i]);
}

Test(scheduler_score, ties_are_broken_at_random)
{
	struct sched_node *nodes[2] = { node_new("a", "4", "8Gi", NULL), node_new("b", "4", "8Gi", NULL) };
	struct sched_pod *p = pod_new("p", "1", "1Gi", NULL, NULL);
	int seen[2] = { 0, 0 };

	for (unsigned seed = 1; seed <= 64; seed++)
		seen[pick(nodes, 2, p, seed)]++;
	cr_assert_gt(seen[0], 0);
	cr_assert_gt(seen[1], 0);
	sched_pod_free(p);
	sched_node_free(nodes[0]);
	sched_node_free(nodes[1]);
}

Test(scheduler_score, fits_nowhere_gives_the_message)
{
	struct sched_node *nodes[2] = { node_new("a", "1", "1Gi", NULL), node_new("b", "1", "1Gi", NULL) };
	struct sched_pod *p = pod_new("p", "2", "100Mi", NULL, NULL);
	struct sched_select_buf buf = { 0 };
	size_t start = 0, idx = 0;
	unsigned seed = 1;
	char *msg = NULL;

	cr_assert_eq(sched_select(nodes, 2, &start, p, &seed, &buf, &idx, &msg), -ENOSPC);
	cr_assert_str_eq(msg, "0/2 nodes are available: 2 Insufficient cpu.");
	free(msg);
	sched_select_buf_free(&buf);
	sched_pod_free(p);
	sched_node_free(nodes[0]);
	sched_node_free(nodes[1]);
}

Test(scheduler_score, nodes_examined_follow_kubernetes_percentage)
{
	cr_assert_eq(sched_nodes_to_find(0), 0);
	cr_assert_eq(sched_nodes_to_find(50), 50);
	cr_assert_eq(sched_nodes_to_find(150), 100);
	cr_assert_eq(sched_nodes_to_find(1000), 420);
	cr_assert_eq(sched_nodes_to_find(10000), 500);
}

Test(scheduler_score, placeholders_are_skipped_and_start_rotates)
{
	struct sched_node *nodes[3] = { node_new("a", "4", "8Gi", NULL), node_new("b", "4", "8Gi", NULL),
					node_new("c", "4", "8Gi", NULL) };
	struct sched_pod *p = pod_new("p", "1", "1Gi", NULL, NULL);
	struct sched_select_buf buf = { 0 };
	size_t start = 1, idx = 0;
	unsigned seed = 7;
	char *msg = NULL;

	nodes[0]->exists = false;
	nodes[2]->exists = false;
	cr_assert_eq(sched_select(nodes, 3, &start, p, &seed, &buf, &idx, &msg), 0);
	cr_assert_eq(idx, 1);
	nodes[1]->exists = false;
	cr_assert_eq(sched_select(nodes, 3, &start, p, &seed, &buf, &idx, &msg), -ENOSPC);
	cr_assert_str_eq(msg, "no nodes available to schedule pods");
	free(msg);
	sched_select_buf_free(&buf);
	sched_pod_free(p);
	for (int i = 0; i < 3; i++)
		sched_node_free(nodes[i]);
}
