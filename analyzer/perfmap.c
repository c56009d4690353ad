/*
 * perfmap.c - names for JIT code from a perf map (see perfmap.h).
 *
 * A map is "START SIZE name" lines, hex without 0x.  V8 frees and reuses
 * code space, so several lines can cover one address: the later line is
 * the code that ran last and wins.  We turn the lines into disjoint
 * intervals once (a sweep over the boundaries, keeping the latest line
 * that covers each stretch), so a lookup is one binary search.
 *
 * The file came from the traced process (it is hostile): lines, names and
 * the number of entries are bounded, and anything malformed is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfmap.h"

#define PM_MAX_ENTRIES (4u << 20)
#define PM_MAX_NAME    512
#define PM_MAX_BYTES   (256u << 20)

struct pm_entry {
	uint64_t start, end;
	uint32_t name; /* offset into names */
};

struct pm_seg {
	uint64_t start, end;
	uint32_t name;
};

struct sw_perfmap {
	struct pm_seg *segs;
	size_t nsegs;
	char *names;
	size_t names_len;
};

static int parse_hex(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int digits = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (;; p++, digits++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits >= 16)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

/* A boundary of an entry's interval, for the sweep. */
struct pm_event {
	uint64_t at;
	uint32_t idx; /* entry index = line order: higher is later */
	int open;
};

static int event_cmp(const void *a, const void *b)
{
	const struct pm_event *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* A max-heap of entry indices (the latest line on top). */
static void heap_push(uint32_t *h, size_t *n, uint32_t v)
{
	size_t i = (*n)++;

	while (i && h[(i - 1) / 2] < v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static void heap_pop(uint32_t *h, size_t *n)
{
	uint32_t v = h[--(*n)];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (h[c] <= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
}

/* Entries (in line order) -> disjoint segments owned by the latest line. */
static int build_segments(struct sw_perfmap *m, const struct pm_entry *e,
			  size_t n)
{
	struct pm_event *ev = NULL;
	uint32_t *heap = NULL;
	unsigned char *closed = NULL;
	size_t nev = 0, nheap = 0, i, cap = 0;
	int rc = -1;

	if (!n)
		return 0;
	ev = malloc(2 * n * sizeof(*ev));
	heap = malloc(n * sizeof(*heap));
	closed = calloc(n, 1);
	if (!ev || !heap || !closed)
		goto out;
	for (i = 0; i < n; i++) {
		ev[nev++] = (struct pm_event){e[i].start, (uint32_t)i, 1};
		ev[nev++] = (struct pm_event){e[i].end, (uint32_t)i, 0};
	}
	qsort(ev, nev, sizeof(*ev), event_cmp);
	for (i = 0; i < nev;) {
		uint64_t at = ev[i].at;

		for (; i < nev && ev[i].at == at; i++) {
			if (ev[i].open)
				heap_push(heap, &nheap, ev[i].idx);
			else
				closed[ev[i].idx] = 1;
		}
		while (nheap && closed[heap[0]])
			heap_pop(heap, &nheap);
		if (nheap && i < nev) {
			const struct pm_entry *top = &e[heap[0]];
			struct pm_seg *last =
			    m->nsegs ? &m->segs[m->nsegs - 1] : NULL;

			if (last && last->end == at &&
			    last->name == top->name) {
				last->end = ev[i].at;
				continue;
			}
			if (m->nsegs == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				struct pm_seg *ns =
				    realloc(m->segs, ncap * sizeof(*ns));

				if (!ns)
					goto out;
				m->segs = ns;
				cap = ncap;
			}
			m->segs[m->nsegs++] =
			    (struct pm_seg){at, ev[i].at, top->name};
		}
	}
	rc = 0;
out:
	free(ev);
	free(heap);
	free(closed);
	return rc;
}

struct sw_perfmap *sw_perfmap_load(const char *path)
{
	struct sw_perfmap *m = NULL;
	struct pm_entry *e = NULL;
	size_t n = 0, cap = 0, names_cap = 0, total = 0;
	char line[4096];
	struct stat st;
	FILE *f;
	int fd;

	/* Only a regular file: a FIFO would block the open (O_NONBLOCK) and
	 * the read, /dev/zero would never end. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto fail;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line), nlen;
		const char *p = line, *name;
		uint64_t start, size;

		/* Bytes consumed, not strlen(): NUL bytes count too. */
		total = (size_t)ftell(f);
		if (total > PM_MAX_BYTES || n >= PM_MAX_ENTRIES)
			break;
		if (len && line[len - 1] != '\n' && !feof(f)) {
			/* an over-long line: skip the rest of it */
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				total++;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (parse_hex(&p, &start) || *p != ' ')
			continue;
		p++;
		if (parse_hex(&p, &size) || *p != ' ' || !size ||
		    start + size < start)
			continue;
		name = p + 1;
		nlen = strlen(name);
		if (nlen > PM_MAX_NAME)
			nlen = PM_MAX_NAME;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct pm_entry *ne = realloc(e, ncap * sizeof(*ne));

			if (!ne)
				goto fail;
			e = ne;
			cap = ncap;
		}
		if (m->names_len + nlen + 1 > names_cap) {
			size_t ncap = names_cap ? names_cap * 2 : 65536;
			char *nn;

			while (ncap < m->names_len + nlen + 1)
				ncap *= 2;
			nn = realloc(m->names, ncap);
			if (!nn)
				goto fail;
			m->names = nn;
			names_cap = ncap;
		}
		memcpy(m->names + m->names_len, name, nlen);
		m->names[m->names_len + nlen] = 0;
		e[n++] = (struct pm_entry){start, start + size,
					   (uint32_t)m->names_len};
		m->names_len += nlen + 1;
	}
	if (build_segments(m, e, n))
		goto fail;
	free(e);
	fclose(f);
	return m;
fail:
	free(e);
	fclose(f);
	sw_perfmap_free(m);
	return NULL;
}

const char *sw_perfmap_lookup(const struct sw_perfmap *map, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!map)
		return NULL;
	hi = map->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pm_seg *s = &map->segs[mid];

		if (addr < s->start)
			hi = mid;
		else if (addr >= s->end)
			lo = mid + 1;
		else
			return map->names + s->name;
	}
	return NULL;
}

void sw_perfmap_free(struct sw_perfmap *map)
{
	if (!map)
		return;
	free(map->segs);
	free(map->names);
	free(map);
}
