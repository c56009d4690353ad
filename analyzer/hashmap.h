/*
 * hashmap.h - the analyzer's hash maps: string keys, keys of four
 * integers, and keys of many 64-bit words (raw stacks), all mapping to an
 * index.  Open addressing with linear probing; they only grow.
 */
#ifndef SW_HASHMAP_H
#define SW_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

/* String -> index.  The map owns its keys. */
struct sw_strmap {
	char **keys;
	size_t *vals;
	size_t nslots, n;
};

/* Find key; when absent insert it with *val (taking the key) and return 0;
 * when present set *val and return 1 (the key stays the caller's). */
int sw_strmap_get_or_put(struct sw_strmap *m, char *key, size_t *val);
void sw_strmap_free(struct sw_strmap *m);

/* Keys of up to four integers -> index. */
struct sw_intkey {
	uint64_t a, b, c, d;
};
struct sw_intmap {
	struct sw_intkey *keys;
	size_t *vals; /* index + 1, 0 empty */
	size_t nslots, n;
};

/* The index stored for k, or -1. */
long sw_intmap_get(const struct sw_intmap *m, const struct sw_intkey *k);
/* Insert or overwrite. */
void sw_intmap_put(struct sw_intmap *m, const struct sw_intkey *k, size_t val);
void sw_intmap_free(struct sw_intmap *m);

/* Runs of 64-bit words -> index; the keys live back to back in one pool. */
struct sw_wordmap_slot {
	uint64_t hash;
	size_t off, len; /* in pool */
	size_t val;	 /* + 1, 0 empty */
};
struct sw_wordmap {
	struct sw_wordmap_slot *slots;
	size_t nslots, n;
	uint64_t *pool;
	size_t npool, cap_pool;
};

uint64_t sw_words_hash(const uint64_t *k, size_t n);
/* The index stored for k[0..n) (hash: sw_words_hash), or -1. */
long sw_wordmap_get(const struct sw_wordmap *m, const uint64_t *k, size_t n,
		    uint64_t hash);
/* Add a key known to be absent. */
void sw_wordmap_put(struct sw_wordmap *m, const uint64_t *k, size_t n,
		    uint64_t hash, size_t val);
void sw_wordmap_free(struct sw_wordmap *m);

#endif
