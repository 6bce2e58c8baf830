/* The prober (see probe_manager.h). Entries live in a list under one lock; a worker thread
 * owns a probe while it runs and records its result under that lock. An entry's specs are
 * parsed once (a pod's probes cannot change); a new run only resets the state, and a result
 * from an older run (gen) is dropped. */
#include "pods/probe_manager.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/log.h>

#include "pods/probe.h"

/* A startup probe, while it has not passed, holds the other two back (as in Kubernetes). */
enum { LIVE, READY, STARTUP, N_PROBES };
static const char *const probe_keys[N_PROBES] = { "livenessProbe", "readinessProbe", "startupProbe" };
static const char *const probe_words[N_PROBES] = { "Liveness", "Readiness", "Startup" };
static const char *const kill_words[N_PROBES] = { "liveness", NULL, "startup" };

struct probe_entry {
	struct probe_entry *next;
	char *uid, *name, *ns, *pod_name, *field_path, *run, *pod_ip;
	struct probe_spec spec[N_PROBES];
	char *spec_err[N_PROBES];    /* a probe that cannot run: every due probe fails with this */
	struct probe_state st[N_PROBES];
	bool in_flight[N_PROBES];
	unsigned gen;                /* bumped with every new run */
	const char *kill;            /* the probe whose failures ask for a kill ("liveness") */
	bool gone;
};

struct probe_manager {
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct pod_runtime *rt;
	struct runtime_event_hooks events;
	struct probe_entry *entries;
	int workers;
};

struct probe_job {
	struct probe_manager *pm;
	struct probe_entry *e;
	int which;
	unsigned gen;
	int netns_fd;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct probe_manager *probe_manager_new(struct pod_runtime *rt, const struct runtime_event_hooks *events)
{
	struct probe_manager *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pthread_cond_init(&pm->idle, NULL);
	pm->rt = rt;
	if (events)
		pm->events = *events;
	return pm;
}

static void entry_free(struct probe_entry *e)
{
	for (int i = 0; i < N_PROBES; i++) {
		probe_spec_done(&e->spec[i]);
		free(e->spec_err[i]);
	}
	free(e->uid);
	free(e->name);
	free(e->ns);
	free(e->pod_name);
	free(e->field_path);
	free(e->run);
	free(e->pod_ip);
	free(e);
}

void probe_manager_free(struct probe_manager *pm)
{
	if (!pm)
		return;
	pthread_mutex_lock(&pm->lock);
	while (pm->workers > 0)
		pthread_cond_wait(&pm->idle, &pm->lock);
	pthread_mutex_unlock(&pm->lock);
	while (pm->entries) {
		struct probe_entry *e = pm->entries;

		pm->entries = e->next;
		entry_free(e);
	}
	pthread_cond_destroy(&pm->idle);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static void emit_unhealthy(struct probe_manager *pm, const struct probe_entry *e, int which, const char *msg)
{
	char text[1200];

	if (!pm->events.emit)
		return;
	snprintf(text, sizeof(text), "%s probe failed: %s", probe_words[which], msg);
	pm->events.emit(pm->events.userdata,
			&(struct runtime_event){ .ns = e->ns, .pod_name = e->pod_name, .pod_uid = e->uid,
						 .field_path = e->field_path, .type = "Warning", .reason = "Unhealthy",
						 .message = text });
}

static bool has_probe(const struct probe_entry *e, int which)
{
	return e->spec[which].kind != PROBE_NONE || e->spec_err[which];
}

/* Liveness and readiness start once the startup probe (if any) has passed. */
static bool startup_done(const struct probe_entry *e)
{
	return !has_probe(e, STARTUP) || e->st[STARTUP].ok;
}

/* One result of run gen, lock held. A liveness or startup probe that turns to failure asks for
 * a kill; a startup probe that passes lets the other two begin. */
static void record(struct probe_manager *pm, struct probe_entry *e, int which, unsigned gen, bool ok, const char *msg)
{
	int64_t now = mono_ms();

	bool flipped;

	if (e->gone || gen != e->gen)
		return;
	flipped = probe_state_record(&e->st[which], &e->spec[which], ok, now);
	/* Liveness starts ok and flips; startup starts failed, so its threshold is what counts. */
	if (kill_words[which] && (which == STARTUP ? e->st[which].failures == e->spec[which].failure_threshold
						   : flipped && !e->st[which].ok)) {
		log_info("pod %s/%s: container %s failed its %s probe %d times: %s", e->ns, e->pod_name, e->name,
			 kill_words[which], e->spec[which].failure_threshold, msg);
		e->kill = kill_words[which];
	} else if (which == STARTUP && flipped && e->st[STARTUP].ok) {
		probe_state_init(&e->st[LIVE], &e->spec[LIVE], true, now);
		probe_state_init(&e->st[READY], &e->spec[READY], false, now);
	}
	if (!ok)
		emit_unhealthy(pm, e, which, msg);
}

static bool any_in_flight(const struct probe_entry *e)
{
	for (int i = 0; i < N_PROBES; i++)
		if (e->in_flight[i])
			return true;
	return false;
}

static void unlink_entry(struct probe_manager *pm, struct probe_entry *e)
{
	for (struct probe_entry **p = &pm->entries; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			return;
		}
	}
}

static void *worker(void *ud)
{
	struct probe_job *j = ud;
	struct probe_manager *pm = j->pm;
	struct probe_entry *e = j->e;
	char msg[1024];
	int r;

	/* The entry's strings and spec stay put while in_flight is set (forget only marks it). */
	r = probe_run(&e->spec[j->which],
		      &(struct probe_target){ .netns_fd = j->netns_fd, .pod_ip = e->pod_ip, .rt = pm->rt,
					      .uid = e->uid, .container = e->name },
		      msg, sizeof(msg));
	if (j->netns_fd >= 0)
		close(j->netns_fd);
	pthread_mutex_lock(&pm->lock);
	record(pm, e, j->which, j->gen, r > 0, msg[0] ? msg : "probe error");
	e->in_flight[j->which] = false;
	if (e->gone && !any_in_flight(e))
		entry_free(e);
	if (--pm->workers == 0)
		pthread_cond_broadcast(&pm->idle);
	pthread_mutex_unlock(&pm->lock);
	free(j);
	return NULL;
}

/* Starts probe `which` of e on its own thread, lock held. */
static void launch(struct probe_manager *pm, struct probe_entry *e, int which, const struct proc_id *sandbox)
{
	struct probe_job *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t th;
	int r;

	if (!j)
		return;
	*j = (struct probe_job){ pm, e, which, e->gen, -1 };
	if (e->spec[which].kind != PROBE_EXEC && sandbox)
		j->netns_fd = sandbox_ns_open(sandbox, "net");
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e->in_flight[which] = true;
	pm->workers++;
	r = pthread_create(&th, &attr, worker, j);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		log_warn("pod %s/%s: container %s: starting a probe thread: %s", e->ns, e->pod_name, e->name, strerror(r));
		e->in_flight[which] = false;
		pm->workers--;
		if (j->netns_fd >= 0)
			close(j->netns_fd);
		free(j);
	}
}

static struct probe_entry *find(struct probe_manager *pm, const char *uid, const char *name)
{
	for (struct probe_entry *e = pm->entries; e; e = e->next)
		if (!e->gone && strcmp(e->uid, uid) == 0 && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static struct probe_entry *entry_new(const struct probe_container *c)
{
	struct probe_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->uid = strdup(c->uid);
	e->name = strdup(c->name);
	e->ns = strdup(c->ns);
	e->pod_name = strdup(c->pod_name);
	e->pod_ip = strdup(c->pod_ip ? c->pod_ip : "");
	if (!e->uid || !e->name || !e->ns || !e->pod_name || !e->pod_ip ||
	    asprintf(&e->field_path, "spec.containers{%s}", c->name) < 0) {
		e->field_path = NULL;
		entry_free(e);
		return NULL;
	}
	for (int i = 0; i < N_PROBES; i++) {
		if (probe_spec_parse(c->spec, probe_keys[i], &e->spec[i], &e->spec_err[i]) == -EINVAL)
			log_warn("pod %s/%s: container %s: %s", c->ns, c->pod_name, c->name, e->spec_err[i]);
	}
	return e;
}

/* A new run of the container: everything starts over. */
static void new_run(struct probe_entry *e, const char *run)
{
	int64_t now = mono_ms();

	free(e->run);
	e->run = run ? strdup(run) : NULL;
	e->gen++;
	e->kill = NULL;
	for (int i = 0; i < N_PROBES; i++)
		probe_state_init(&e->st[i], &e->spec[i], i == LIVE, now);
}

static bool same_run(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool has_probes(json_object *spec)
{
	for (int i = 0; i < N_PROBES; i++)
		if (json_object_object_get_ex(spec, probe_keys[i], NULL))
			return true;
	return false;
}

const char *probe_manager_step(struct probe_manager *pm, const struct probe_container *c)
{
	struct probe_entry *e;
	int64_t now = mono_ms();
	const char *kill;

	if (!has_probes(c->spec))
		return NULL;
	pthread_mutex_lock(&pm->lock);
	e = find(pm, c->uid, c->name);
	if (!e && (e = entry_new(c))) {
		e->next = pm->entries;
		pm->entries = e;
	}
	if (e && !same_run(e->run, c->run))
		new_run(e, c->run);
	for (int i = 0; e && c->run && i < N_PROBES; i++) {
		if (!has_probe(e, i) || e->in_flight[i] || !probe_due(&e->st[i], now))
			continue;
		if (i == STARTUP ? startup_done(e) : !startup_done(e))
			continue;
		if (e->spec_err[i])
			record(pm, e, i, e->gen, false, e->spec_err[i]);
		else
			launch(pm, e, i, c->sandbox);
	}
	kill = e && c->run ? e->kill : NULL;
	if (e)
		e->kill = NULL;
	pthread_mutex_unlock(&pm->lock);
	return kill;
}

/* The run's entry, or NULL; lock held. */
static struct probe_entry *find_run(struct probe_manager *pm, const char *uid, json_object *spec, const char *run)
{
	struct probe_entry *e = find(pm, uid, json_object_get_string(json_object_object_get(spec, "name")) ?: "");

	return e && run && same_run(run, e->run) ? e : NULL;
}

bool probe_manager_ready(struct probe_manager *pm, const char *uid, json_object *spec, const char *run)
{
	struct probe_entry *e;
	bool ready;

	if (!json_object_object_get_ex(spec, probe_keys[READY], NULL) &&
	    !json_object_object_get_ex(spec, probe_keys[STARTUP], NULL))
		return true;
	pthread_mutex_lock(&pm->lock);
	e = find_run(pm, uid, spec, run);
	ready = e && startup_done(e) && (!has_probe(e, READY) || e->st[READY].ok);
	pthread_mutex_unlock(&pm->lock);
	return ready;
}

bool probe_manager_started(struct probe_manager *pm, const char *uid, json_object *spec, const char *run)
{
	struct probe_entry *e;
	bool started;

	if (!json_object_object_get_ex(spec, probe_keys[STARTUP], NULL))
		return true;
	pthread_mutex_lock(&pm->lock);
	e = find_run(pm, uid, spec, run);
	started = e && startup_done(e);
	pthread_mutex_unlock(&pm->lock);
	return started;
}

void probe_manager_forget(struct probe_manager *pm, const char *uid)
{
	struct probe_entry *e, *next;

	pthread_mutex_lock(&pm->lock);
	for (e = pm->entries; e; e = next) {
		next = e->next;
		if (strcmp(e->uid, uid) != 0)
			continue;
		unlink_entry(pm, e);
		if (any_in_flight(e))
			e->gone = true; /* the last worker frees it */
		else
			entry_free(e);
	}
	pthread_mutex_unlock(&pm->lock);
}
