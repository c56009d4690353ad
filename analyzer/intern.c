/*
 * intern.c - a string -> dense index map (see intern.h): FNV-1a hashing,
 * linear probing, the table kept at most half full.
 */
#include "intern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void rehash(struct sw_intern *m)
{
	size_t i, n = m->nslots ? m->nslots * 2 : 64;

	free(m->slots);
	m->slots = xcalloc(n, sizeof(*m->slots));
	m->nslots = n;
	for (i = 0; i < m->n; i++) {
		size_t j = hash(m->keys[i]) & (n - 1);

		while (m->slots[j])
			j = (j + 1) & (n - 1);
		m->slots[j] = i + 1;
	}
}

size_t sw_intern(struct sw_intern *m, const char *key, int *added)
{
	size_t j;

	if (added)
		*added = 0;
	if (2 * (m->n + 1) > m->nslots)
		rehash(m);
	j = hash(key) & (m->nslots - 1);
	while (m->slots[j]) {
		if (!strcmp(m->keys[m->slots[j] - 1], key))
			return m->slots[j] - 1;
		j = (j + 1) & (m->nslots - 1);
	}
	SW_GROW(m->keys, m->n, m->cap);
	m->keys[m->n] = xstrdup(key);
	m->slots[j] = ++m->n;
	if (added)
		*added = 1;
	return m->n - 1;
}

void sw_intern_free(struct sw_intern *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
