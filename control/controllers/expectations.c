/* Controller expectations (see expectations.h): a small array keyed by "namespace/name";
 * a process has few controllers' objects with writes in flight at once. */
#include "controllers/expectations.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct expectation {
	char *key;
	int add, del;
	int64_t stamp_ms;
};

struct expectations {
	struct expectation *v;
	size_t n, cap;
	int64_t ttl_ms;
};

struct expectations *expectations_new(int64_t ttl_ms)
{
	struct expectations *e = calloc(1, sizeof(*e));

	if (e)
		e->ttl_ms = ttl_ms;
	return e;
}

void expectations_clear(struct expectations *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].key);
	e->n = 0;
}

void expectations_free(struct expectations *e)
{
	if (!e)
		return;
	expectations_clear(e);
	free(e->v);
	free(e);
}

static struct expectation *find(const struct expectations *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].key, key) == 0)
			return &e->v[i];
	return NULL;
}

int expectations_expect(struct expectations *e, const char *key, int add, int del, int64_t now_ms)
{
	struct expectation *x = find(e, key);

	if (!x) {
		if (e->n == e->cap) {
			size_t cap = e->cap ? e->cap * 2 : 8;
			struct expectation *v = realloc(e->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			e->v = v;
			e->cap = cap;
		}
		x = &e->v[e->n];
		x->key = strdup(key);
		if (!x->key)
			return -ENOMEM;
		e->n++;
	}
	x->add = add;
	x->del = del;
	x->stamp_ms = now_ms;
	return 0;
}

void expectations_created(struct expectations *e, const char *key)
{
	struct expectation *x = find(e, key);

	if (x && x->add > 0)
		x->add--;
}

void expectations_deleted(struct expectations *e, const char *key)
{
	struct expectation *x = find(e, key);

	if (x && x->del > 0)
		x->del--;
}

bool expectations_satisfied(const struct expectations *e, const char *key, int64_t now_ms)
{
	const struct expectation *x = find(e, key);

	if (!x || (x->add <= 0 && x->del <= 0))
		return true;
	return now_ms - x->stamp_ms >= e->ttl_ms;
}

void expectations_forget(struct expectations *e, const char *key)
{
	struct expectation *x = find(e, key);

	if (!x)
		return;
	free(x->key);
	*x = e->v[--e->n];
}
