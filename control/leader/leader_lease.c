/* The leader's Lease object (coordination.k8s.io/v1), written through the registry as
 * kube-controller-manager's is, and the default candidate identity. */
#include "leader/leader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "controllers/ctrl.h"

char *leader_default_identity(void)
{
	char host[256] = "skiff-control", *id = NULL;
	uint64_t rnd = 0;

	if (gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "skiff-control");
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	if (asprintf(&id, "%s_%016llx", host, (unsigned long long)rnd) < 0)
		return NULL;
	return id;
}

/* MicroTime, as Lease times are: "2026-11-28T10:00:00.000000Z". */
static void micro_time(char buf[32])
{
	struct timeval tv;
	struct tm tm;
	char base[24];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 32, "%s.%06ldZ", base, (long)tv.tv_usec);
}

struct record {
	const char *identity;
	int duration_s;
	bool acquire;
	char now[32];
};

static int mutate(json_object *lease, void *arg)
{
	const struct record *rec = arg;
	json_object *spec = json_ensure_object(lease, "spec");
	const char *holder = json_get_string(spec, "holderIdentity");
	int64_t transitions;

	if (!spec)
		return -ENOMEM;
	if (!holder || strcmp(holder, rec->identity) != 0) {
		/* A renewal written late, after another instance took over, must not take it back. */
		if (!rec->acquire)
			return 1;
		transitions = json_object_get_int64(json_object_object_get(spec, "leaseTransitions"));
		if (holder && *holder)
			transitions++;
		json_object_object_add(spec, "leaseTransitions", json_object_new_int64(transitions));
		json_object_object_add(spec, "acquireTime", json_object_new_string(rec->now));
		json_object_object_add(spec, "holderIdentity", json_object_new_string(rec->identity));
	}
	json_object_object_add(spec, "leaseDurationSeconds", json_object_new_int(rec->duration_s));
	json_object_object_add(spec, "renewTime", json_object_new_string(rec->now));
	return 0;
}

static int create(struct registry *reg, const char *ns, const char *name, struct record *rec)
{
	static const struct write_options wo = { .field_manager = "skiff-control" };
	_cleanup_json_ json_object *body = json_object_new_object(), *out = NULL;
	json_object *meta = json_object_new_object();
	struct api_status st = { 0 };
	int r;

	if (!body || !meta) {
		json_object_put(meta);
		return -ENOMEM;
	}
	json_object_object_add(body, "apiVersion", json_object_new_string("coordination.k8s.io/v1"));
	json_object_object_add(body, "kind", json_object_new_string("Lease"));
	json_object_object_add(meta, "name", json_object_new_string(name));
	json_object_object_add(meta, "namespace", json_object_new_string(ns));
	json_object_object_add(body, "metadata", meta);
	r = mutate(body, rec);
	if (r == 0)
		r = registry_create_object(reg, resource_by_name("leases"), ns, body, &wo, &out, &st);
	if (r < 0)
		log_debug("leader: create Lease %s/%s: %s", ns, name, st.message ? st.message : strerror(-r));
	api_status_clear(&st);
	return r;
}

int leader_lease_record(struct registry *reg, const char *ns, const char *name, const char *identity,
			int duration_s, bool acquire)
{
	struct record rec = { .identity = identity, .duration_s = duration_s, .acquire = acquire };
	int r;

	micro_time(rec.now);
	r = ctrl_update(reg, "leases", ns, name, NULL, mutate, &rec, NULL);
	if (r == -ENOENT) {
		rec.acquire = true; /* none holds it: whoever writes it first */
		r = create(reg, ns, name, &rec);
		if (r == -EEXIST) /* another instance created it meanwhile */
			r = ctrl_update(reg, "leases", ns, name, NULL, mutate, &rec, NULL);
	}
	return r < 0 ? r : r == 1 ? -EBUSY : 0;
}
