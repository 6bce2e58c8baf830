/* The scheduler's string-keyed hash map (see strmap.h): FNV-1a, chained buckets that
 * double when the load passes one entry per bucket. */
#include "scheduler/strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct strmap_entry **slot(const struct strmap *m, const char *key)
{
	struct strmap_entry **e = &m->buckets[hash(key) & (m->n_buckets - 1)];

	while (*e && strcmp((*e)->key, key) != 0)
		e = &(*e)->next;
	return e;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry **e;

	if (!m->n_buckets)
		return NULL;
	e = slot(m, key);
	return *e ? (*e)->value : NULL;
}

static int grow(struct strmap *m)
{
	size_t n = m->n_buckets ? m->n_buckets * 2 : 64;
	struct strmap_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct strmap_entry *e = m->buckets[i], *next;

		for (; e; e = next) {
			size_t h = hash(e->key) & (n - 1);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
	return 0;
}

int strmap_put(struct strmap *m, const char *key, void *value, void **ret_old)
{
	struct strmap_entry **e, *n;
	size_t len = strlen(key);

	if (m->n >= m->n_buckets && grow(m) < 0)
		return -ENOMEM;
	e = slot(m, key);
	if (*e) {
		if (ret_old)
			*ret_old = (*e)->value;
		(*e)->value = value;
		return 0;
	}
	n = malloc(sizeof(*n) + len + 1);
	if (!n)
		return -ENOMEM;
	memcpy(n->key, key, len + 1);
	n->value = value;
	n->next = NULL;
	*e = n;
	m->n++;
	if (ret_old)
		*ret_old = NULL;
	return 0;
}

void *strmap_remove(struct strmap *m, const char *key)
{
	struct strmap_entry **e, *gone;
	void *v;

	if (!m->n_buckets)
		return NULL;
	e = slot(m, key);
	if (!*e)
		return NULL;
	gone = *e;
	v = gone->value;
	*e = gone->next;
	free(gone);
	m->n--;
	return v;
}

void strmap_foreach(const struct strmap *m, void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct strmap_entry *e = m->buckets[i]; e; e = e->next)
			fn(e->key, e->value, arg);
}

void strmap_clear(struct strmap *m)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct strmap_entry *e = m->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->buckets);
	*m = (struct strmap){ 0 };
}
