/* etcd maintenance: defragmenting the members one at a time after compactions, since etcd 3.4
 * never gives a compacted database's free pages back to the file system by itself. */
#include <errno.h>
#include <string.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

#include "store/etcd.h"

/* POSTs to member i alone (etcd_post fails over; maintenance must reach each member). */
static int post_member(struct etcd *e, size_t i, const char *path, json_object **ret)
{
	_cleanup_json_ json_object *req = json_object_new_object();
	struct etcd one = { .endpoints = &e->endpoints[i], .n_endpoints = 1 };
	int r;

	if (!req)
		return -ENOMEM;
	r = etcd_pool_init(&one);
	if (r == 0)
		r = etcd_post(&one, path, req, ret);
	etcd_pool_free(&one);
	return r;
}

int etcd_member_status(struct etcd *e, size_t i, int64_t *ret_size, int64_t *ret_in_use)
{
	_cleanup_json_ json_object *ans = NULL;
	int r = post_member(e, i, "/v3/maintenance/status", &ans);

	if (r < 0)
		return r;
	*ret_size = etcd_i64(ans, "dbSize");
	/* 3.4 reports it; an etcd that does not counts as all in use (never defragmented). */
	*ret_in_use = json_object_object_get_ex(ans, "dbSizeInUse", NULL) ? etcd_i64(ans, "dbSizeInUse")
									  : *ret_size;
	return 0;
}

/* Member i when min_free bytes or more of its file are free; 1 if defragmented. */
static int defrag_member(struct etcd *e, size_t i, int64_t min_free)
{
	_cleanup_json_ json_object *ans = NULL;
	int64_t size, in_use, after = -1, after_in_use;
	const char *ep = e->endpoints[i];
	int r = etcd_member_status(e, i, &size, &in_use);

	if (r < 0)
		return log_warn_errno(r, "etcd defragment: %s skipped, no status: %m", ep);
	if (size - in_use < min_free || size - in_use <= 0) {
		log_debug("etcd defragment: %s not needed (%lld of %lld bytes in use)", ep, (long long)in_use,
			  (long long)size);
		return 0;
	}
	/* The member answers nothing else meanwhile: one member at a time, each in turn. */
	r = post_member(e, i, "/v3/maintenance/defragment", &ans);
	if (r < 0)
		return log_warn_errno(r, "etcd defragment: %s failed (retried after the next compaction): %m", ep);
	(void)etcd_member_status(e, i, &after, &after_in_use);
	log_info("etcd defragment: %s: database %lld bytes before, %lld after", ep, (long long)size,
		 (long long)after);
	return 1;
}

int etcd_defrag(struct store *s, int64_t min_free)
{
	struct etcd *e = s->etcd;
	int n = 0;

	for (size_t i = 0; i < e->n_endpoints; i++)
		if (defrag_member(e, i, min_free) > 0)
			n++;
	return n;
}
