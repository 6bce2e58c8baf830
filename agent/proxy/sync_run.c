/* The agent's Service proxy: mode → data path → sync watches, plus a thread that writes the
 * mode onto the Node (retrying while the Node does not exist yet) so `kubectl get node -o yaml`
 * tells which data path serves this node. */
#include "proxy/sync_run.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/json.h>
#include <skiff/log.h>

#include "proxy/mode.h"
#include "proxy/sync.h"

struct proxy_run {
	struct proxy_dp dp;
	struct proxy_sync *sync;
	struct api_client *api;
	atomic_bool *stop;
	char *node;
	pthread_t annotator;
	bool annotating;
};

const char *proxy_run_mode(const struct proxy_run *p)
{
	return proxy_mode_name(p->dp.mode);
}

static int annotate(struct proxy_run *p)
{
	_cleanup_json_ json_object *patch = json_object_new_object(), *resp = NULL;
	json_object *ann = json_ensure_object(json_ensure_object(patch, "metadata"), "annotations");
	char path[512];
	int st;

	if (!ann)
		return -ENOMEM;
	json_object_object_add(ann, PROXY_MODE_ANNOTATION, json_object_new_string(proxy_run_mode(p)));
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", p->node);
	st = api_patch(p->api, path, API_PATCH_MERGE, patch, &resp);
	if (st < 0)
		return st;
	return api_status_ok(st) ? 0 : -EAGAIN;
}

static void *annotate_thread(void *ud)
{
	struct proxy_run *p = ud;

	for (long wait_ms = 500; !atomic_load(p->stop); wait_ms = wait_ms < 8000 ? wait_ms * 2 : 8000) {
		if (annotate(p) == 0) {
			log_info("node %s: proxy mode %s (annotation %s)", p->node, proxy_run_mode(p), PROXY_MODE_ANNOTATION);
			break;
		}
		for (long t = 0; t < wait_ms && !atomic_load(p->stop); t += 100)
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	return NULL;
}

struct proxy_run *proxy_run_start(const struct proxy_run_options *o, struct api_client *api, atomic_bool *stop)
{
	struct proxy_run *p = calloc(1, sizeof(*p));
	enum proxy_mode mode;
	char *pin_dir = NULL;
	int r;

	if (!p)
		return NULL;
	p->api = api;
	p->stop = stop;
	p->node = strdup(o->node);
	r = proxy_mode_parse(o->mode, &mode);
	if (r < 0) {
		log_error("--proxy-mode \"%s\": expected auto, bpf or nftables", o->mode);
		goto fail;
	}
	if (!o->pin_dir && asprintf(&pin_dir, "/sys/fs/bpf/skiff/%s", o->node) < 0)
		pin_dir = NULL;
	r = p->node && (o->pin_dir || pin_dir) ? 0 : -ENOMEM;
	if (r == 0)
		r = proxy_dp_open(mode, o->pin_dir ? o->pin_dir : pin_dir, o->cgroup_path, o->service_cidr, &p->dp);
	free(pin_dir);
	if (r < 0)
		goto fail;
	p->sync = proxy_sync_new(p->dp.ops, p->dp.dp, o->node);
	if (!p->sync) {
		r = -ENOMEM;
		goto fail;
	}
	r = proxy_sync_start(p->sync, api, stop);
	if (r < 0) {
		/* A watch thread may be running with p: only the agent's stop ends it. */
		atomic_store(stop, true);
		goto fail;
	}
	p->annotating = pthread_create(&p->annotator, NULL, annotate_thread, p) == 0;
	log_info("proxy: Services routed by %s", proxy_run_mode(p));
	return p;
fail:
	proxy_run_free(p);
	errno = -r;
	return NULL;
}

void proxy_run_free(struct proxy_run *p)
{
	if (!p)
		return;
	if (p->annotating)
		pthread_join(p->annotator, NULL);
	proxy_sync_join(p->sync);
	proxy_sync_free(p->sync);
	proxy_dp_close(&p->dp);
	free(p->node);
	free(p);
}
