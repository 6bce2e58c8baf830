/* The election: one thread competes for and renews the etcd lease, another starts and stops
 * the work. The work thread stops the work when the renew deadline passes (two thirds of the
 * TTL after the last renewal that etcd answered was sent) even while the election thread is
 * still stuck in a request, so the work is stopped before the lease can expire in etcd and
 * another instance take over; only then does this instance compete again. */
#include "leader/leader.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "controllers/ctrl.h"

struct leader {
	struct store *store;
	struct registry *reg;
	struct leader_work work;
	char *identity;
	char *key;
	int ttl_s;
	int64_t ttl_ms, renew_ms, deadline_span_ms, retry_ms;

	pthread_t elect_thread, work_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* any change below */
	bool stopping, abandon;
	bool leading;        /* holds the key (as far as the election thread knows) */
	bool working;        /* work started and not stopped */
	int64_t deadline_ms; /* the work must stop by then unless renewed */
	int64_t expiry_ms;   /* earliest expiry of the lease in etcd */
	int64_t lease_id;
	bool recorded; /* the Lease object names this instance since it last became leader */
};

void leader_options_init(struct leader_options *o)
{
	*o = (struct leader_options){ .lease_duration_s = 10, .key = LEADER_KEY };
}

/* Waits for a change or until the monotonic time until_ms (-1: no bound); lock held. */
static void wait_until(struct leader *l, int64_t until_ms)
{
	struct timespec ts;

	if (until_ms < 0) {
		pthread_cond_wait(&l->cond, &l->lock);
		return;
	}
	ts.tv_sec = until_ms / 1000;
	ts.tv_nsec = (until_ms % 1000) * 1000000;
	pthread_cond_timedwait(&l->cond, &l->lock, &ts);
}

static void *work_main(void *arg)
{
	struct leader *l = arg;
	int64_t retry_at = 0;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		int64_t now = ctrl_now_ms();
		bool want = l->leading && !l->stopping && now < l->deadline_ms;

		if (want && !l->working && now >= retry_at) {
			pthread_mutex_unlock(&l->lock);
			int r = l->work.start(l->work.arg);
			pthread_mutex_lock(&l->lock);
			if (r < 0) {
				log_error_errno(r, "leader %s: starting scheduler and controllers: %m", l->identity);
				retry_at = ctrl_now_ms() + l->retry_ms;
			}
			l->working = r == 0;
		} else if (!want && l->working) {
			if (l->leading && !l->stopping)
				log_warn("leader %s: lease not renewed in time, stopping scheduler and controllers",
					 l->identity);
			pthread_mutex_unlock(&l->lock);
			l->work.stop(l->work.arg);
			pthread_mutex_lock(&l->lock);
			l->working = false;
			pthread_cond_broadcast(&l->cond);
		} else if (l->stopping) {
			break;
		} else {
			wait_until(l, l->working ? l->deadline_ms : want ? retry_at : -1);
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* One attempt at the key. Lock not held. 1 acquired, 0 held by another, -errno. */
static int try_acquire(struct leader *l, int64_t *ret_sent)
{
	_cleanup_free_ char *holder = NULL;
	struct store_kv kv = { 0 };
	int64_t id = 0, sent;
	int r;

	r = store_get(l->store, l->key, &kv);
	store_kv_clear(&kv);
	if (r != -ENOENT)
		return r < 0 ? r : 0;
	sent = ctrl_now_ms();
	r = store_lease_grant(l->store, l->ttl_s, &id);
	if (r < 0)
		return r;
	r = store_create_leased(l->store, l->key, l->identity, id, &holder);
	if (r == 0) {
		pthread_mutex_lock(&l->lock);
		l->lease_id = id;
		pthread_mutex_unlock(&l->lock);
		*ret_sent = sent;
		return 1;
	}
	store_lease_revoke(l->store, id);
	if (r == -EEXIST) {
		log_debug("leader %s: %s leads", l->identity, holder ? holder : "another instance");
		return 0;
	}
	return r;
}

/* A renewal etcd answered, sent at sent: the lease stands until at least sent + TTL. Lock held. */
static void renewed(struct leader *l, int64_t sent)
{
	l->expiry_ms = sent + l->ttl_ms;
	l->deadline_ms = sent + l->deadline_span_ms;
	pthread_cond_broadcast(&l->cond);
}

static void lost(struct leader *l, const char *why)
{
	log_warn("leader %s: lost leadership (%s)", l->identity, why);
	l->leading = false;
	pthread_cond_broadcast(&l->cond);
}

/* The election thread only: recorded is its own. */
static void record(struct leader *l)
{
	int r;

	if (!l->reg)
		return;
	r = leader_lease_record(l->reg, LEADER_LEASE_NAMESPACE, LEADER_LEASE_NAME, l->identity, l->ttl_s,
				!l->recorded);
	if (r < 0)
		log_warn_errno(r, "leader %s: Lease %s/%s: %m", l->identity, LEADER_LEASE_NAMESPACE,
			       LEADER_LEASE_NAME);
	else
		l->recorded = true;
}

/* Follower: polls the key every retry period; lock held on entry and exit. */
static void follow(struct leader *l)
{
	int64_t sent = 0;
	int r;

	while (l->working && !l->stopping) /* compete again only once the work is stopped */
		wait_until(l, -1);
	if (l->stopping)
		return;
	pthread_mutex_unlock(&l->lock);
	r = try_acquire(l, &sent);
	pthread_mutex_lock(&l->lock);
	if (r < 0)
		log_debug("leader %s: election: %s", l->identity, strerror(-r));
	if (r <= 0) {
		wait_until(l, ctrl_now_ms() + l->retry_ms);
		return;
	}
	log_info("leader %s: became leader", l->identity);
	l->leading = true;
	l->recorded = false;
	renewed(l, sent);
	pthread_mutex_unlock(&l->lock);
	record(l);
	pthread_mutex_lock(&l->lock);
}

/* Leader: renews every third of the TTL, retrying sooner after a failure; lock held. */
/* After a renewal: the key still names this instance. A key deleted by hand while the lease
 * lives would let a follower in: -EOWNERDEAD then. Other errors: as a failed renewal. */
static int key_still_ours(struct leader *l)
{
	struct store_kv kv = { 0 };
	int r = store_get(l->store, l->key, &kv);

	if (r == 0 && strcmp(kv.value, l->identity) != 0)
		r = -EOWNERDEAD;
	store_kv_clear(&kv);
	return r == -ENOENT ? -EOWNERDEAD : r;
}

static void lead(struct leader *l, int64_t *next_renew)
{
	int64_t id = l->lease_id, sent;
	int r;

	if (ctrl_now_ms() < *next_renew) {
		wait_until(l, *next_renew);
		return;
	}
	pthread_mutex_unlock(&l->lock);
	sent = ctrl_now_ms();
	r = store_lease_keepalive(l->store, id, NULL);
	if (r == 0)
		r = key_still_ours(l);
	pthread_mutex_lock(&l->lock);
	if (l->stopping)
		return;
	if (r == 0 && ctrl_now_ms() < l->deadline_ms) {
		renewed(l, sent);
		*next_renew = sent + l->renew_ms;
		pthread_mutex_unlock(&l->lock);
		record(l);
		pthread_mutex_lock(&l->lock);
		return;
	}
	if (r == -ENOENT || r == -EOWNERDEAD || ctrl_now_ms() >= l->deadline_ms) {
		lost(l, r == -ENOENT	       ? "lease expired"
			: r == -EOWNERDEAD ? "the leader key was deleted or taken"
					   : "not renewed before the deadline");
		pthread_mutex_unlock(&l->lock);
		store_lease_revoke(l->store, id); /* lets the next leader in without waiting out the TTL */
		pthread_mutex_lock(&l->lock);
		return;
	}
	log_debug("leader %s: renew: %s", l->identity, strerror(-r));
	*next_renew = ctrl_now_ms() + l->retry_ms;
}

static void *elect_main(void *arg)
{
	struct leader *l = arg;
	int64_t next_renew = 0;

	pthread_mutex_lock(&l->lock);
	while (!l->stopping) {
		bool was = l->leading;

		if (l->leading)
			lead(l, &next_renew);
		else
			follow(l);
		if (!was && l->leading)
			next_renew = ctrl_now_ms() + l->renew_ms;
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static struct leader *leader_alloc(struct store *s, struct registry *reg, const struct leader_options *o,
				   const struct leader_work *w)
{
	struct leader *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;

	if (!l)
		return NULL;
	l->store = s;
	l->reg = reg;
	l->work = *w;
	l->ttl_s = o->lease_duration_s;
	l->ttl_ms = (int64_t)o->lease_duration_s * 1000;
	l->renew_ms = l->ttl_ms / 3;
	l->deadline_span_ms = l->ttl_ms * 2 / 3;
	/* Also the followers' poll: a dead leader's key is noticed this soon after it expires. */
	l->retry_ms = clamp(l->ttl_ms / 10, 100, 2000);
	l->identity = o->identity ? strdup(o->identity) : leader_default_identity();
	l->key = strdup(o->key ? o->key : LEADER_KEY);
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	return l;
}

static void leader_free(struct leader *l)
{
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l->identity);
	free(l->key);
	free(l);
}

struct leader *leader_start(struct store *s, struct registry *reg, const struct leader_options *o,
			    const struct leader_work *w)
{
	struct leader *l;
	int r;

	if (o->lease_duration_s < 2 || !w->start || !w->stop) {
		errno = EINVAL;
		return NULL;
	}
	l = leader_alloc(s, reg, o, w);
	if (!l || !l->identity || !l->key) {
		if (l)
			leader_free(l);
		errno = ENOMEM;
		return NULL;
	}
	r = -pthread_create(&l->work_thread, NULL, work_main, l);
	if (r == 0) {
		r = -pthread_create(&l->elect_thread, NULL, elect_main, l);
		if (r < 0) {
			pthread_mutex_lock(&l->lock);
			l->stopping = true;
			pthread_cond_broadcast(&l->cond);
			pthread_mutex_unlock(&l->lock);
			pthread_join(l->work_thread, NULL);
		}
	}
	if (r < 0) {
		leader_free(l);
		errno = -r;
		return NULL;
	}
	log_info("leader %s: competing for %s (lease %d s)", l->identity, l->key, l->ttl_s);
	return l;
}

static void shut(struct leader *l, bool revoke)
{
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->work_thread, NULL); /* the work stops first */
	pthread_join(l->elect_thread, NULL);
	if (revoke && l->leading) {
		int r = store_lease_revoke(l->store, l->lease_id);

		if (r < 0 && r != -ENOENT)
			log_warn_errno(r, "leader %s: revoke: %m", l->identity);
		else
			log_info("leader %s: released leadership", l->identity);
	}
	leader_free(l);
}

void leader_stop(struct leader *l)
{
	if (l)
		shut(l, true);
}

void leader_abandon(struct leader *l)
{
	if (l)
		shut(l, false);
}

/* One field read under the lock: the threads change them. */
static int64_t read_locked(struct leader *l, const void *field, bool is_bool)
{
	int64_t v;

	pthread_mutex_lock(&l->lock);
	v = is_bool ? *(const bool *)field : *(const int64_t *)field;
	pthread_mutex_unlock(&l->lock);
	return v;
}

bool leader_is_leading(struct leader *l)
{
	return read_locked(l, &l->leading, true);
}

bool leader_is_working(struct leader *l)
{
	return read_locked(l, &l->working, true);
}

const char *leader_identity(const struct leader *l)
{
	return l->identity;
}

int64_t leader_lease_expiry_ms(struct leader *l)
{
	return read_locked(l, &l->expiry_ms, false);
}
