/* Resource slots: cpu, memory and ephemeral-storage fixed, integer extended resources
 * interned once per process so pods and nodes compare them as array entries. */
#include "scheduler/model.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *names[SCHED_RES_MAX] = { "cpu", "memory", "ephemeral-storage" };
static size_t n_names = SCHED_RES_FIXED;

int sched_res_index(const char *name)
{
	int rc = -ENOSPC;

	/* Counted elsewhere (pods) or never requested by a pod spec the scheduler fits. */
	if (strcmp(name, "pods") == 0 || strncmp(name, "hugepages-", 10) == 0 || strncmp(name, "attachable-", 11) == 0)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_names; i++)
		if (strcmp(names[i], name) == 0) {
			rc = (int)i;
			goto out;
		}
	if (n_names < SCHED_RES_MAX) {
		names[n_names] = strdup(name);
		rc = names[n_names] ? (int)n_names++ : -ENOMEM;
	}
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

const char *sched_res_name(int slot)
{
	const char *n = NULL;

	pthread_mutex_lock(&lock);
	if (slot >= 0 && (size_t)slot < n_names)
		n = names[slot];
	pthread_mutex_unlock(&lock);
	return n ? n : "unknown";
}

bool sched_res_is_gpu(int slot)
{
	const char *n = sched_res_name(slot);
	size_t len = strlen(n);

	return slot >= SCHED_RES_FIXED && len > 4 && strcmp(n + len - 4, "/gpu") == 0;
}
