/* The etcd backend's watches: a feeder thread keeps one watch stream over the prefix and
 * publishes its events to the store's ring (so store_watch_* work unchanged, resuming after
 * the last revision when the stream breaks), and replays of older revisions for watchers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "store/etcd.h"

/* Events a replay step gathers before handing them to the watcher. */
#define REPLAY_EVENTS 1024
/* How long a writer waits for its events to reach the ring before answering anyway. */
#define SEEN_WAIT_S 5

struct evlist {
	struct sevent_vec vec;
	int64_t last; /* mod_rev of the last event parsed */
};

static void evlist_drop(struct evlist *l)
{
	for (size_t i = 0; i < l->vec.n; i++)
		sevent_unref(l->vec.v[i]);
	free(l->vec.v);
	*l = (struct evlist){ 0 };
}

/* One gateway event as a store event; the key without the store's prefix. */
static struct sevent *event_from_json(struct etcd *e, json_object *ev)
{
	json_object *kv = json_get_path(ev, "kv"), *prev = json_get_path(ev, "prev_kv");
	const char *type = json_get_string(ev, "type");
	bool del = type && strcmp(type, "DELETE") == 0;
	_cleanup_free_ char *key = NULL, *value = NULL, *pvalue = NULL;
	struct sevent *se;
	size_t klen;

	if (etcd_b64_decode(json_get_string(kv, "key"), &key, &klen) < 0 || klen < e->plen)
		return NULL;
	if (!del && etcd_b64_decode(json_get_string(kv, "value"), &value, NULL) < 0)
		return NULL;
	if (prev && etcd_b64_decode(json_get_string(prev, "value"), &pvalue, NULL) < 0)
		return NULL;
	if (del)
		se = sevent_new(STORE_EVENT_DELETE, key + e->plen, pvalue ? pvalue : "", NULL,
				etcd_i64(prev, "create_revision"), etcd_i64(kv, "mod_revision"));
	else
		se = sevent_new(STORE_EVENT_PUT, key + e->plen, value, pvalue, etcd_i64(kv, "create_revision"),
				etcd_i64(kv, "mod_revision"));
	return se;
}

/* A watch message's events whose store keys start with prefix; -ERANGE if compacted. */
static int parse_msg(struct store *s, json_object *msg, const char *prefix, struct evlist *l)
{
	json_object *res = json_get_path(msg, "result"), *evs;
	struct etcd *e = s->etcd;
	size_t plen = strlen(prefix);
	int64_t compacted;

	if (!res) {
		const char *err = json_get_string(msg, "error");
		log_debug("etcd watch: %s", err ? err : "message without result");
		return -EIO;
	}
	if (json_object_get_boolean(json_object_object_get(res, "canceled"))) {
		compacted = etcd_i64(res, "compact_revision");
		if (compacted <= 0)
			return -EIO;
		etcd_saw_compacted(s, compacted); /* another client's compaction, or one before a restart */
		return -ERANGE;
	}
	evs = json_member(res, "events", json_type_array);
	for (size_t i = 0; evs && i < json_object_array_length(evs); i++) {
		struct sevent *se = event_from_json(e, json_object_array_get_idx(evs, i));
		if (!se)
			return -ENOMEM;
		l->last = se->ev.mod_rev;
		if (!store_key_has_prefix(se->ev.key, prefix, plen)) {
			sevent_unref(se);
			continue;
		}
		if (sevent_vec_push(&l->vec, se) < 0) {
			sevent_unref(se);
			return -ENOMEM;
		}
	}
	return 0;
}

static json_object *watch_request(struct etcd *e, int64_t start_rev)
{
	json_object *req = json_object_new_object(), *c = json_object_new_object();
	if (!req || !c) {
		json_object_put(req), json_object_put(c);
		return NULL;
	}
	/* Always the whole store (its keys start with '/', so prefix + "/" and not another store's
	 * "/skiff-two" under "/skiff"): every revision of the store then shows as events. */
	json_object_object_add(c, "key", etcd_key_json(e, "/", false));
	json_object_object_add(c, "range_end", etcd_range_end_json(e, "/"));
	json_object_object_add(c, "start_revision", etcd_i64_json(start_rev));
	json_object_object_add(c, "prev_kv", json_object_new_boolean(true));
	json_object_object_add(req, "create_request", c);
	return req;
}

struct feed {
	struct store *s;
	int64_t next_rev;
};

static int feed_msg(void *arg, json_object *msg)
{
	struct feed *f = arg;
	struct store *s = f->s;
	struct evlist l = { 0 };
	struct batch_events be;
	int r = parse_msg(s, msg, "", &l);

	if (r < 0 || l.vec.n == 0) {
		evlist_drop(&l);
		return r;
	}
	bcast_publish(&s->bc, l.vec.v, l.vec.n);
	etcd_saw_rev(s, l.last);
	pthread_mutex_lock(&s->etcd->seen_lock);
	s->etcd->seen = l.last;
	pthread_cond_broadcast(&s->etcd->seen_cond);
	pthread_mutex_unlock(&s->etcd->seen_lock);
	f->next_rev = l.last + 1;
	be = (struct batch_events){ .v = l.vec.v, .n = l.vec.n };
	bcast_notify(&s->bc, &be); /* drops our references */
	return 0;
}

static void pause_unless_stopped(struct etcd *e, int ms)
{
	struct timespec ts = { 0, 50 * 1000000L };

	for (int waited = 0; waited < ms && !atomic_load(&e->stop); waited += 50)
		nanosleep(&ts, NULL);
}

/* The stream cannot resume at next_rev (compacted): it resumes after the compacted revision
 * and every watcher that may have missed events in between fails with -ERANGE (and re-lists)
 * rather than silently skipping them. Returns the revision to resume at. */
static int64_t feed_gap(struct store *s, int64_t next_rev)
{
	struct etcd *e = s->etcd;
	int64_t upto = store_compacted_revision(s); /* raised from the cancel's compact_revision */

	if (upto < next_rev)
		upto = next_rev; /* at least the revision refused */
	log_error("etcd watch: revisions %lld..%lld compacted before they were read; watchers behind them "
		  "fail with -ERANGE and re-list", (long long)next_rev, (long long)upto);
	bcast_gap(&s->bc, upto);
	etcd_saw_rev(s, upto);
	pthread_mutex_lock(&e->seen_lock);
	if (e->seen < upto)
		e->seen = upto;
	pthread_cond_broadcast(&e->seen_cond);
	pthread_mutex_unlock(&e->seen_lock);
	return upto + 1;
}

static void *feeder_main(void *arg)
{
	struct feed f = { .s = arg, .next_rev = ((struct store *)arg)->etcd->seen + 1 };
	struct etcd *e = f.s->etcd;
	int backoff = 100;

	while (!atomic_load(&e->stop)) {
		json_object *req = watch_request(e, f.next_rev);
		int64_t before = f.next_rev;
		int r = req ? etcd_stream(e, req, feed_msg, &f, &e->stop) : -ENOMEM;

		json_object_put(req);
		if (atomic_load(&e->stop))
			break;
		if (r == -ERANGE)
			f.next_rev = feed_gap(f.s, f.next_rev);
		backoff = f.next_rev > before ? 100 : (backoff < 1600 ? backoff * 2 : backoff);
		log_warn("etcd watch: stream ended (%s); resuming at revision %lld", strerror(-r),
			 (long long)f.next_rev);
		pause_unless_stopped(e, backoff);
	}
	return NULL;
}

int etcd_feeder_start(struct store *s)
{
	int r = pthread_create(&s->etcd->feeder, NULL, feeder_main, s);

	if (r != 0)
		return -r;
	s->etcd->feeder_running = true;
	return 0;
}

void etcd_feeder_stop(struct store *s)
{
	if (!s->etcd->feeder_running)
		return;
	atomic_store(&s->etcd->stop, true);
	pthread_join(s->etcd->feeder, NULL);
	s->etcd->feeder_running = false;
}

void etcd_wait_seen(struct store *s, int64_t rev)
{
	struct etcd *e = s->etcd;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SEEN_WAIT_S;
	pthread_mutex_lock(&e->seen_lock);
	while (e->seen < rev)
		if (pthread_cond_timedwait(&e->seen_cond, &e->seen_lock, &ts) == ETIMEDOUT) {
			log_debug("etcd: revision %lld not yet seen on the watch stream", (long long)rev);
			break;
		}
	pthread_mutex_unlock(&e->seen_lock);
}

struct replay {
	struct store *s;
	const char *prefix;
	int64_t target;
	struct evlist l;
	int64_t done; /* last revision read whole */
};

static int replay_msg(void *arg, json_object *msg)
{
	struct replay *rp = arg;
	int r = parse_msg(rp->s, msg, rp->prefix, &rp->l);

	if (r < 0)
		return r;
	if (rp->l.last > rp->done)
		rp->done = rp->l.last; /* one message holds a revision's events whole */
	return rp->done >= rp->target || rp->l.vec.n >= REPLAY_EVENTS ? 1 : 0;
}

int etcd_replay(struct store *s, const char *prefix, int64_t floor, atomic_bool *stop, struct sevent ***ret,
		size_t *ret_n, int64_t *ret_floor)
{
	struct replay rp = { .s = s, .prefix = prefix, .done = floor };
	json_object *req;
	int r;

	pthread_rwlock_rdlock(&s->bc.lock);
	rp.target = s->bc.last_rev; /* an event of the prefix: the stream reaches it */
	pthread_rwlock_unlock(&s->bc.lock);
	*ret = NULL;
	*ret_n = 0;
	*ret_floor = floor;
	if (rp.target <= floor)
		return 0;
	req = watch_request(s->etcd, floor + 1);
	if (!req)
		return -ENOMEM;
	r = etcd_stream(s->etcd, req, replay_msg, &rp, stop);
	json_object_put(req);
	if (r == 0 && stop && atomic_load(stop))
		r = -ECANCELED;
	if (r < 0) {
		evlist_drop(&rp.l);
		return r;
	}
	*ret = rp.l.vec.v;
	*ret_n = rp.l.vec.n;
	*ret_floor = rp.done;
	return 0;
}
