/* Leader election against a real etcd-server: two candidates (each with its own store, as two
 * skiff-control processes would have) elect exactly one leader; a crashed leader's lease runs
 * out and the other takes over, never before; a leader cut off from etcd stops its work before
 * its lease can expire; the Lease kube-system/skiff-control shows holder and transitions. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>

#include "controllers/ctrl.h"
#include "leader/leader.h"
#include "lib/etcd_kit.h"

#define TTL_S 3
#define WAIT_MS (6 * TTL_S * 1000) /* bound of every wait: far past any takeover */

struct cand {
	const char *id;
	struct store *store;
	struct registry *reg;
	struct leader *_Atomic l;
	atomic_int starts, stops;
	_Atomic int64_t started_at, stopped_at, expiry_at_stop;
};

static struct etcd_kit etcd;
static struct cand a = { .id = "cand-a" }, b = { .id = "cand-b" };

static int work_start(void *arg)
{
	struct cand *c = arg;

	c->started_at = ctrl_now_ms();
	c->starts++;
	return 0;
}

static void work_stop(void *arg)
{
	struct cand *c = arg;
	struct leader *l = c->l;

	c->stopped_at = ctrl_now_ms();
	c->expiry_at_stop = l ? leader_lease_expiry_ms(l) : 0;
	c->stops++;
}

static void cand_open(struct cand *c)
{
	struct store_options so;

	store_options_init(&so);
	so.compact_interval_seconds = 0;
	c->store = store_open_etcd(etcd.endpoint, "/skiff", &so);
	cr_assert_not_null(c->store, "open %s: %s", etcd.endpoint, strerror(errno));
	c->reg = registry_new(c->store, NULL);
	cr_assert_not_null(c->reg, "registry: %s", strerror(errno));
}

static void cand_elect(struct cand *c)
{
	struct leader_options o;

	leader_options_init(&o);
	o.identity = c->id;
	o.lease_duration_s = TTL_S;
	c->l = leader_start(c->store, c->reg, &o,
			    &(struct leader_work){ .start = work_start, .stop = work_stop, .arg = c });
	cr_assert_not_null(c->l, "leader_start: %s", strerror(errno));
}

static void cand_close(struct cand *c)
{
	leader_stop(c->l);
	c->l = NULL;
	registry_free(c->reg);
	store_close(c->store);
	*c = (struct cand){ .id = c->id };
}

static void setup(void)
{
	etcd_kit_start(&etcd);
	cand_open(&a);
	cand_open(&b);
}

static void teardown(void)
{
	if (etcd.pid > 0)
		etcd_kit_resume(&etcd); /* a paused etcd would hold up the revokes */
	cand_close(&a);
	cand_close(&b);
	etcd_kit_stop(&etcd);
}

TestSuite(leader, .init = setup, .fini = teardown, .timeout = 120);

/* Polls (bounded by WAIT_MS) until pred holds; false when it never did. */
static bool wait_for(bool (*pred)(void))
{
	int64_t end = ctrl_now_ms() + WAIT_MS;

	while (!pred()) {
		if (ctrl_now_ms() > end)
			return false;
		usleep(20 * 1000);
	}
	return true;
}

static bool one_works(void)
{
	return leader_is_working(a.l) || leader_is_working(b.l);
}

/* The Lease, or NULL while it is not written yet. */
static json_object *try_read_lease(struct registry *reg)
{
	struct api_status st = { 0 };
	json_object *obj = NULL;
	int r = registry_read(reg, resource_by_name("leases"), LEADER_LEASE_NAMESPACE, LEADER_LEASE_NAME, &obj, NULL,
			      &st);

	api_status_clear(&st);
	cr_assert(r == 0 || r == -ENOENT, "read Lease: %s", strerror(-r));
	return obj;
}

static json_object *read_lease(struct registry *reg)
{
	json_object *obj = try_read_lease(reg);

	cr_assert_not_null(obj, "no Lease %s/%s", LEADER_LEASE_NAMESPACE, LEADER_LEASE_NAME);
	return obj;
}

static const char *spec_str(json_object *lease, const char *field)
{
	json_object *spec = json_get_path(lease, "spec");
	const char *s = json_get_string(spec, field);

	return s ? s : "";
}

static int64_t spec_int(json_object *lease, const char *field)
{
	return json_object_get_int64(json_get_path(json_get_path(lease, "spec"), field));
}

/* The leader, after a and b both competed and one won. */
static struct cand *elect_both(void)
{
	cand_elect(&a);
	cand_elect(&b);
	cr_assert(wait_for(one_works), "no candidate became leader");
	return leader_is_working(a.l) ? &a : &b;
}

static struct cand *other(struct cand *c)
{
	return c == &a ? &b : &a;
}

static struct cand *follower;

static bool follower_works(void)
{
	return leader_is_working(follower->l);
}

static bool renewed_twice(void)
{
	static char first[40];
	_cleanup_json_ json_object *lease = try_read_lease(a.reg);
	const char *t = spec_str(lease, "renewTime");

	cr_assert(!(leader_is_leading(a.l) && leader_is_leading(b.l)), "two leaders at once");
	cr_assert(!(leader_is_working(a.l) && leader_is_working(b.l)), "two candidates doing the work");
	if (!*t)
		return false;
	if (!first[0]) {
		snprintf(first, sizeof(first), "%s", t);
		return false;
	}
	return strcmp(first, t) != 0;
}

Test(leader, exactly_one_of_two_leads_and_the_lease_names_it)
{
	struct cand *l = elect_both();
	_cleanup_json_ json_object *lease = NULL;

	/* Through renewals (the Lease's renewTime moves), never both. */
	cr_assert(wait_for(renewed_twice), "the leader never renewed");
	cr_assert(leader_is_leading(l->l));
	cr_assert_not(leader_is_leading(other(l)->l));
	cr_assert_eq(other(l)->starts, 0, "the follower started the work");
	cr_assert_eq(l->starts, 1);
	lease = read_lease(other(l)->reg); /* every instance shows it */
	cr_assert_str_eq(spec_str(lease, "holderIdentity"), l->id);
	cr_assert_eq(spec_int(lease, "leaseDurationSeconds"), TTL_S);
	cr_assert_eq(spec_int(lease, "leaseTransitions"), 0);
	cr_assert_neq(*spec_str(lease, "acquireTime"), '\0');
}

Test(leader, a_crashed_leaders_lease_runs_out_and_the_other_takes_over_after_it)
{
	struct cand *l = elect_both();
	int64_t expiry, crashed_at;
	_cleanup_json_ json_object *lease = NULL;

	follower = other(l);
	crashed_at = ctrl_now_ms();
	expiry = leader_lease_expiry_ms(l->l);
	leader_abandon(l->l); /* no revoke: as kill -9 */
	l->l = NULL;
	cr_assert(wait_for(follower_works), "the follower never took over");
	/* Never before etcd could have let the crashed leader's lease go; within TTL of it (plus polls). */
	cr_assert_geq(follower->started_at, expiry, "took over %lld ms before the old lease could expire",
		      (long long)(expiry - follower->started_at));
	cr_assert_leq(follower->started_at - crashed_at, (int64_t)2 * TTL_S * 1000, "took over %lld ms after the crash",
		      (long long)(follower->started_at - crashed_at));
	lease = read_lease(follower->reg);
	cr_assert_str_eq(spec_str(lease, "holderIdentity"), follower->id);
	cr_assert_eq(spec_int(lease, "leaseTransitions"), 1);
}

Test(leader, a_stopped_leader_revokes_and_the_other_takes_over_at_once)
{
	struct cand *l = elect_both();
	int64_t expiry;

	follower = other(l);
	expiry = leader_lease_expiry_ms(l->l);
	leader_stop(l->l);
	l->l = NULL;
	cr_assert_eq(l->stops, 1, "stopping did not stop the work");
	cr_assert(wait_for(follower_works), "the follower never took over");
	/* The revoke let it in before the lease would have run out. */
	cr_assert_lt(follower->started_at, expiry, "the follower waited for the lease to expire");
}

static bool a_stopped(void)
{
	return a.stops > 0;
}

static bool a_works_again(void)
{
	return leader_is_working(a.l) && a.starts >= 2;
}

Test(leader, a_leader_cut_off_from_etcd_stops_its_work_before_the_lease_can_expire)
{
	cand_elect(&a);
	follower = &a;
	cr_assert(wait_for(follower_works), "a never became leader");
	etcd_kit_pause(&etcd); /* requests hang: only the deadline can stop the work */
	cr_assert(wait_for(a_stopped), "the work never stopped");
	cr_assert_gt(a.expiry_at_stop, 0);
	cr_assert_lt(a.stopped_at, a.expiry_at_stop, "stopped %lld ms after the lease could have expired",
		     (long long)(a.stopped_at - a.expiry_at_stop));
	cr_assert_not(leader_is_working(a.l));
	etcd_kit_resume(&etcd);
	/* With etcd back it competes again and leads (its old lease expired or was revoked). */
	cr_assert(wait_for(a_works_again), "a did not lead again after etcd came back");
}

Test(leader, the_sqlite_store_has_no_leases)
{
	char dir[] = "/tmp/skiff-test-leader-XXXXXX", path[64];
	struct store_options so;
	struct store *s;
	int64_t id = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	store_options_init(&so);
	s = store_open_sqlite(path, &so);
	cr_assert_not_null(s);
	cr_assert_eq(store_lease_grant(s, 5, &id), -EOPNOTSUPP);
	cr_assert_eq(store_create_leased(s, LEADER_KEY, "x", 1, NULL), -EOPNOTSUPP);
	store_close(s);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-shm", dir);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0, "left files in %s", dir);
}

Test(leader, a_late_renewal_does_not_take_the_lease_back)
{
	_cleanup_json_ json_object *lease = NULL;
	const char *ns = LEADER_LEASE_NAMESPACE, *name = LEADER_LEASE_NAME;

	cr_assert_eq(leader_lease_record(a.reg, ns, name, "old", TTL_S, false), 0, "a missing Lease is created");
	cr_assert_eq(leader_lease_record(b.reg, ns, name, "new", TTL_S, true), 0);
	/* The old leader's renewal, sent before it lost and written after the takeover. */
	cr_assert_eq(leader_lease_record(a.reg, ns, name, "old", TTL_S, false), -EBUSY);
	lease = read_lease(a.reg);
	cr_assert_str_eq(spec_str(lease, "holderIdentity"), "new");
	cr_assert_eq(spec_int(lease, "leaseTransitions"), 1);
	cr_assert_eq(leader_lease_record(b.reg, ns, name, "new", TTL_S, false), 0, "the holder renews");
}

/* The work stopped (it may lead again at once: the key is free). */
static bool a_lost(void)
{
	return a.stops >= 1;
}

Test(leader, a_leader_whose_key_is_deleted_steps_down)
{
	cand_elect(&a);
	follower = &a;
	cr_assert(wait_for(follower_works), "a never became leader");
	cr_assert_eq(store_delete(b.store, LEADER_KEY, 0, NULL), 0);
	/* Its next renewal sees the key gone: it stops the work (and then competes again). */
	cr_assert(wait_for(a_lost), "a kept leading without its key");
}
