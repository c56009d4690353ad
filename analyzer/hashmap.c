/*
 * hashmap.c - the analyzer's hash maps (see hashmap.h).
 */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t fnv(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void strmap_grow(struct sw_strmap *m)
{
	struct sw_strmap n = {0};
	size_t i;

	n.nslots = m->nslots ? m->nslots * 2 : 256;
	n.keys = xcalloc(n.nslots, sizeof(*n.keys));
	n.vals = xcalloc(n.nslots, sizeof(*n.vals));
	for (i = 0; i < m->nslots; i++) {
		size_t h;

		if (!m->keys[i])
			continue;
		h = fnv(m->keys[i], strlen(m->keys[i])) & (n.nslots - 1);
		while (n.keys[h])
			h = (h + 1) & (n.nslots - 1);
		n.keys[h] = m->keys[i];
		n.vals[h] = m->vals[i];
	}
	n.n = m->n;
	free(m->keys);
	free(m->vals);
	*m = n;
}

/* Find key; when absent insert it with *val (taking the key) and return 0;
 * when present set *val and return 1 (the key stays the caller's). */
int sw_strmap_get_or_put(struct sw_strmap *m, char *key, size_t *val)
{
	size_t h;

	if ((m->n + 1) * 2 > m->nslots)
		strmap_grow(m);
	h = fnv(key, strlen(key)) & (m->nslots - 1);
	while (m->keys[h]) {
		if (strcmp(m->keys[h], key) == 0) {
			*val = m->vals[h];
			return 1;
		}
		h = (h + 1) & (m->nslots - 1);
	}
	m->keys[h] = key;
	m->vals[h] = *val;
	m->n++;
	return 0;
}

void sw_strmap_free(struct sw_strmap *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Keys of up to four integers. */

static size_t intkey_hash(const struct sw_intkey *k)
{
	uint64_t h = k->a * 0x9e3779b97f4a7c15ull;

	h ^= (k->b + 0x7f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	h ^= (k->c + 0x94d049bbull) * 0x94d049bb133111ebull;
	h ^= (k->d + 0x2545f491ull) * 0x2545f4914f6cdd1dull;
	return (size_t)(h ^ (h >> 29));
}

static void intmap_grow(struct sw_intmap *m)
{
	struct sw_intmap n = {0};
	size_t i;

	n.nslots = m->nslots ? m->nslots * 2 : 256;
	n.keys = xcalloc(n.nslots, sizeof(*n.keys));
	n.vals = xcalloc(n.nslots, sizeof(*n.vals));
	for (i = 0; i < m->nslots; i++)
		if (m->vals[i])
			sw_intmap_put(&n, &m->keys[i], m->vals[i] - 1);
	free(m->keys);
	free(m->vals);
	*m = n;
}

long sw_intmap_get(const struct sw_intmap *m, const struct sw_intkey *k)
{
	size_t h;

	if (!m->nslots)
		return -1;
	h = intkey_hash(k) & (m->nslots - 1);
	while (m->vals[h]) {
		if (!memcmp(&m->keys[h], k, sizeof(*k)))
			return (long)(m->vals[h] - 1);
		h = (h + 1) & (m->nslots - 1);
	}
	return -1;
}

/* Insert or overwrite. */
void sw_intmap_put(struct sw_intmap *m, const struct sw_intkey *k, size_t val)
{
	size_t h;

	if ((m->n + 1) * 2 > m->nslots)
		intmap_grow(m);
	h = intkey_hash(k) & (m->nslots - 1);
	while (m->vals[h]) {
		if (!memcmp(&m->keys[h], k, sizeof(*k))) {
			m->vals[h] = val + 1;
			return;
		}
		h = (h + 1) & (m->nslots - 1);
	}
	m->keys[h] = *k;
	m->vals[h] = val + 1;
	m->n++;
}

void sw_intmap_free(struct sw_intmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

uint64_t sw_words_hash(const uint64_t *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	return h ^ (h >> 29);
}

static void wordmap_grow(struct sw_wordmap *m)
{
	size_t nslots = m->nslots ? m->nslots * 2 : 256, i;
	struct sw_wordmap_slot *ns = xcalloc(nslots, sizeof(*ns));

	for (i = 0; i < m->nslots; i++) {
		size_t h;

		if (!m->slots[i].val)
			continue;
		h = m->slots[i].hash & (nslots - 1);
		while (ns[h].val)
			h = (h + 1) & (nslots - 1);
		ns[h] = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->nslots = nslots;
}

/* The index of key k[0..n), or -1. */
long sw_wordmap_get(const struct sw_wordmap *m, const uint64_t *k, size_t n,
		    uint64_t hash)
{
	size_t h;

	if (!m->nslots)
		return -1;
	h = hash & (m->nslots - 1);
	while (m->slots[h].val) {
		const struct sw_wordmap_slot *s = &m->slots[h];

		if (s->hash == hash && s->len == n &&
		    !memcmp(m->pool + s->off, k, n * 8))
			return (long)(s->val - 1);
		h = (h + 1) & (m->nslots - 1);
	}
	return -1;
}

/* Add a key known to be absent. */
void sw_wordmap_put(struct sw_wordmap *m, const uint64_t *k, size_t n,
		    uint64_t hash, size_t val)
{
	size_t h;

	if ((m->n + 1) * 2 > m->nslots)
		wordmap_grow(m);
	if (m->npool + n > m->cap_pool) {
		size_t cap = m->cap_pool ? m->cap_pool : 1024;

		while (cap < m->npool + n)
			cap *= 2;
		m->pool = xreallocarray(m->pool, cap, sizeof(*m->pool));
		m->cap_pool = cap;
	}
	memcpy(m->pool + m->npool, k, n * 8);
	h = hash & (m->nslots - 1);
	while (m->slots[h].val)
		h = (h + 1) & (m->nslots - 1);
	m->slots[h] = (struct sw_wordmap_slot){
	    .hash = hash, .off = m->npool, .len = n, .val = val + 1};
	m->npool += n;
	m->n++;
}

void sw_wordmap_free(struct sw_wordmap *m)
{
	free(m->slots);
	free(m->pool);
	memset(m, 0, sizeof(*m));
}
