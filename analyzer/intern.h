/*
 * intern.h - a string -> dense index map, for the exports that number
 * what they share (pprof's string table, functions and locations;
 * speedscope's frames).
 */
#ifndef SW_INTERN_H
#define SW_INTERN_H

#include <stddef.h>

struct sw_intern {
	char **keys;   /* by index: the n keys in order of first sight */
	size_t n, cap; /* keys[0..n) */
	size_t *slots; /* open addressing: index + 1, 0 when free */
	size_t nslots;
};

/* The index of key, adding a copy of it when new; *added tells which
 * (may be NULL). */
size_t sw_intern(struct sw_intern *m, const char *key, int *added);
void sw_intern_free(struct sw_intern *m);

#endif
