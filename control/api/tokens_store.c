/* Join credentials in the store (see tokens.h), for skiff-control instances sharing an etcd:
 * a bootstrap token is used up by a compare-and-swap on its key, which only one instance can
 * win; node tokens are followed by a watch, so every instance learns a join made on another. */
#include "api/tokens.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/cleanup.h>
#include <skiff/json.h>
#include <skiff/log.h>

static char *key_of(const char *prefix, const char *name)
{
	char *k = NULL;

	return asprintf(&k, "%s%s", prefix, name) < 0 ? NULL : k;
}

static int put_json(struct store *s, const char *key, json_object *v, int64_t expect_rev, bool create)
{
	const char *str = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : NULL;

	if (!str)
		return -ENOMEM;
	if (create)
		return store_create(s, key, str, NULL);
	return store_update(s, key, str, expect_rev, NULL);
}

int bootstrap_token_create_in(struct store *s, long ttl_seconds, char **ret_token)
{
	_cleanup_free_ char *token = NULL, *key = NULL;
	_cleanup_json_ json_object *v = json_object_new_object();
	char id[BOOTSTRAP_ID_LEN + 1], hash[TOKEN_HASH_HEX];
	long long expiry;
	int r;

	r = bootstrap_token_mint(ttl_seconds, id, hash, &expiry, &token);
	if (r < 0)
		return r;
	key = key_of(TOKENS_STORE_BOOTSTRAP, id);
	if (!key || !v)
		return -ENOMEM;
	json_object_object_add(v, "hash", json_object_new_string(hash));
	json_object_object_add(v, "expires", json_object_new_int64(expiry));
	r = put_json(s, key, v, 0, true);
	if (r < 0)
		return r;
	*ret_token = TAKE_PTR(token);
	return 0;
}

int bootstrap_token_consume_in(struct store *s, const char *token, const char **ret_reason)
{
	_cleanup_free_ char *key = NULL;
	_cleanup_json_ json_object *v = NULL;
	struct store_kv kv = { 0 };
	char id[BOOTSTRAP_ID_LEN + 1];
	const char *secret, *hash;
	int r;

	*ret_reason = "unknown bootstrap token";
	if (bootstrap_token_split(token, id, &secret) < 0)
		return -EACCES;
	key = key_of(TOKENS_STORE_BOOTSTRAP, id);
	if (!key)
		return -ENOMEM;
	r = store_get(s, key, &kv);
	if (r < 0)
		return r;
	v = json_tokener_parse(kv.value);
	hash = json_get_string(v, "hash");
	if (!hash) {
		r = -EACCES;
		goto out;
	}
	r = bootstrap_token_verify(secret, hash, json_object_get_int64(json_object_object_get(v, "expires")),
				   ret_reason);
	if (r < 0)
		goto out;
	if (json_object_get_boolean(json_object_object_get(v, "used"))) {
		r = -EALREADY;
		goto out;
	}
	json_object_object_add(v, "used", json_object_new_boolean(true));
	r = put_json(s, key, v, kv.mod_rev, false);
	if (r == -ESTALE || r == -ENOENT)
		r = -EALREADY; /* another instance used it first */
out:
	if (r == -EALREADY)
		*ret_reason = "bootstrap token was used already";
	else if (r == -EACCES)
		*ret_reason = "unknown bootstrap token";
	store_kv_clear(&kv);
	return r;
}

int node_token_issue_in(struct store *s, const char *node, char **ret_token, char *ret_hash)
{
	_cleanup_free_ char *key = NULL;
	_cleanup_json_ json_object *v = json_object_new_object();
	struct store_kv kv = { 0 };
	int r;

	if (!node_name_valid(node))
		return -EINVAL;
	key = key_of(TOKENS_STORE_NODES, node);
	if (!key || !v)
		return -ENOMEM;
	r = node_token_mint(ret_token, ret_hash);
	if (r < 0)
		return r;
	json_object_object_add(v, "hash", json_object_new_string(ret_hash));
	/* Replaces an earlier token of the node: update when present, else create. */
	for (int i = 0; i < 3; i++) {
		r = store_get(s, key, &kv);
		if (r == 0 || r == -ENOENT)
			r = put_json(s, key, v, r == 0 ? kv.mod_rev : 0, r == -ENOENT);
		store_kv_clear(&kv);
		if (r != -ESTALE && r != -EEXIST && r != -ENOENT)
			break;
	}
	if (r < 0) {
		explicit_bzero(*ret_token, strlen(*ret_token));
		free(*ret_token);
		*ret_token = NULL;
	}
	return r;
}

struct node_tokens_follow {
	struct store *s;
	struct store_watch *w;
	int (*fn)(void *ud, const char *node, const char *hash);
	void *ud;
	pthread_t thread;
	pthread_mutex_t lock; /* guards w's replacement against stop's cancel */
	bool stopping;
};

static void deliver(struct node_tokens_follow *f, const char *key, const char *value)
{
	_cleanup_json_ json_object *v = json_tokener_parse(value ? value : "");
	const char *node = key + strlen(TOKENS_STORE_NODES), *hash = json_get_string(v, "hash");
	int r;

	if (!hash || !node_name_valid(node))
		return;
	r = f->fn(f->ud, node, hash);
	if (r < 0)
		log_warn_errno(r, "node token of %s from the store: %m", node);
}

static int load(struct node_tokens_follow *f, int64_t *ret_rev)
{
	struct store_list_result l = { 0 };
	int r = store_list(f->s, TOKENS_STORE_NODES, NULL, 0, 0, &l);

	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n; i++)
		deliver(f, l.items[i].key, l.items[i].value);
	*ret_rev = l.revision;
	store_list_result_clear(&l);
	return 0;
}

/* The watch fell behind the store's history: list again and watch on from there. Retried
 * (the store may be unreachable) until it works or the follower stops. */
static void reload(struct node_tokens_follow *f)
{
	struct store_watch *w = NULL;
	int64_t rev = 0;
	int r;

	log_warn("node tokens: the watch fell behind the store's history, listing them again");
	do {
		r = load(f, &rev);
		if (r == 0)
			r = store_watch_new(f->s, TOKENS_STORE_NODES, rev, &w);
		if (r < 0)
			sleep(1);
		pthread_mutex_lock(&f->lock);
		if (r == 0 && !f->stopping) {
			store_watch_free(f->w);
			f->w = w;
			w = NULL;
		}
		r = f->stopping ? 0 : r;
		pthread_mutex_unlock(&f->lock);
	} while (r < 0);
	if (w)
		store_watch_free(w);
}

static void *follow_main(void *arg)
{
	struct node_tokens_follow *f = arg;
	struct store_event ev = { 0 };
	int r;

	while ((r = store_watch_next(f->w, &ev, -1)) != -ECANCELED) {
		if (r == 0 && ev.type == STORE_EVENT_PUT)
			deliver(f, ev.key, ev.value);
		store_event_clear(&ev);
		if (r == -ERANGE)
			reload(f);
	}
	return NULL;
}

struct node_tokens_follow *node_tokens_follow_start(struct store *s,
						   int (*fn)(void *ud, const char *node, const char *hash), void *ud)
{
	struct node_tokens_follow *f = calloc(1, sizeof(*f));
	int64_t rev = 0;
	int r;

	if (!f)
		return NULL;
	*f = (struct node_tokens_follow){ .s = s, .fn = fn, .ud = ud };
	pthread_mutex_init(&f->lock, NULL);
	r = load(f, &rev);
	if (r == 0)
		r = store_watch_new(s, TOKENS_STORE_NODES, rev, &f->w);
	if (r == 0) {
		r = -pthread_create(&f->thread, NULL, follow_main, f);
		if (r < 0)
			store_watch_free(f->w);
	}
	if (r < 0) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		errno = -r;
		return NULL;
	}
	return f;
}

void node_tokens_follow_stop(struct node_tokens_follow *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	store_watch_cancel(f->w);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	store_watch_free(f->w);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
