/* Leader election of skiff-control instances sharing one etcd: the leader holds a key bound to
 * an etcd lease it keeps alive, runs the work (scheduler and controllers) only while it can be
 * sure the lease still stands, and shows itself in the Lease kube-system/skiff-control. */
#ifndef SKIFF_LEADER_LEADER_H
#define SKIFF_LEADER_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "api/registry.h"
#include "store/store.h"

#define LEADER_KEY "/skiff-control/leader" /* outside /registry/: never served by the API */
#define LEADER_LEASE_NAMESPACE "kube-system"
#define LEADER_LEASE_NAME "skiff-control"

struct leader_options {
	const char *identity; /* NULL: "<hostname>_<random>" */
	int lease_duration_s; /* default 10: renewed every third of it */
	const char *key;      /* default LEADER_KEY */
};
void leader_options_init(struct leader_options *o);

/* What runs on the leader only. start: 0 or -errno (retried); stop: must return once its
 * threads are joined. Both are called from the election's work thread, never at once. */
struct leader_work {
	int (*start)(void *arg);
	void (*stop)(void *arg);
	void *arg;
};

struct leader;
/* Starts competing. reg NULL: no Lease object is written. NULL with errno set. */
struct leader *leader_start(struct store *s, struct registry *reg, const struct leader_options *o,
			    const struct leader_work *w);
/* Stops the work, then revokes the lease so another instance takes over at once; accepts NULL. */
void leader_stop(struct leader *l);
/* As a crash would: stops the work and the threads but leaves the lease to run out (tests). */
void leader_abandon(struct leader *l);

bool leader_is_leading(struct leader *l);
/* True while the work runs (started and not yet stopped). */
bool leader_is_working(struct leader *l);
const char *leader_identity(const struct leader *l);
/* The earliest the lease held last can expire in etcd (its last renewal sent + TTL), in
 * ctrl_now_ms()'s monotonic ms; 0 before any was held. */
int64_t leader_lease_expiry_ms(struct leader *l);

/* "<hostname>_<16 random hex digits>", as kube's leader election names its candidates. */
char *leader_default_identity(void);
/* Writes the Lease ns/name: holder identity, duration and renewTime now. acquire: a new holder
 * sets acquireTime and counts a transition; a renewal (!acquire) of a Lease another holds
 * writes nothing and returns -EBUSY. 0 or -errno. */
int leader_lease_record(struct registry *reg, const char *ns, const char *name, const char *identity,
			int duration_s, bool acquire);

#endif
