/* The node lifecycle controller's decisions, kept pure for tests: the partition stop,
 * each pod's eviction deadline, and the eviction rate limiter. */
#include "controllers/nodelifecycle.h"

#include <string.h>

#include <skiff/json.h>

bool nodelc_partitioned(size_t total, size_t dead, double threshold)
{
	return total > 0 && (double)dead > threshold * (double)total;
}

static bool tolerates(json_object *t, const char *taint_key)
{
	const char *key = json_get_string(t, "key") ?: "", *op = json_get_string(t, "operator") ?: "Equal";
	const char *effect = json_get_string(t, "effect") ?: "", *value = json_get_string(t, "value") ?: "";

	if (*effect && strcmp(effect, "NoExecute") != 0)
		return false;
	if (strcmp(op, "Exists") == 0)
		return !*key || strcmp(key, taint_key) == 0;
	/* Equal: our taints carry no value. */
	return strcmp(key, taint_key) == 0 && !*value;
}

/* The registry adds {key, Exists, NoExecute, 300} to every pod that does not say: that
 * one stands for "no opinion", which --pod-eviction-timeout decides. */
static bool is_default(json_object *t, const char *taint_key)
{
	json_object *secs = json_get_path(t, "tolerationSeconds");
	const char *key = json_get_string(t, "key") ?: "", *op = json_get_string(t, "operator") ?: "";

	return secs && json_object_get_int64(secs) == DEFAULT_TOLERATION_SECONDS && strcmp(key, taint_key) == 0 &&
	       strcmp(op, "Exists") == 0 && json_object_object_length(t) == 4;
}

int64_t nodelc_eviction_deadline(json_object *pod, const char *taint_key, int64_t tainted_at, int64_t timeout_s)
{
	json_object *list = json_get_path(pod, "spec.tolerations");
	bool matched = false, limited = false;
	int64_t min = 0;

	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *t = json_object_array_get_idx(list, i), *secs;

		if (!tolerates(t, taint_key) || is_default(t, taint_key))
			continue;
		matched = true;
		secs = json_get_path(t, "tolerationSeconds");
		if (!secs)
			continue;
		if (!limited || json_object_get_int64(secs) < min)
			min = json_object_get_int64(secs);
		limited = true;
	}
	if (!matched)
		return tainted_at + timeout_s;
	if (!limited)
		return -1;
	return tainted_at + (min > 0 ? min : 0);
}

void nodelc_bucket_init(struct nodelc_bucket *b, double rate, int64_t now_ms)
{
	b->rate = rate;
	b->burst = rate > 1 ? rate : 1;
	b->tokens = b->burst;
	b->last_ms = now_ms;
}

bool nodelc_bucket_take(struct nodelc_bucket *b, int64_t now_ms)
{
	b->tokens += (double)(now_ms - b->last_ms) / 1000.0 * b->rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_ms = now_ms;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}
