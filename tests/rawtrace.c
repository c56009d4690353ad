/*
 * rawtrace.c - read one trace file record by record (rawtrace.h).
 */
#include "rawtrace.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* The one *.swtrace in dir, searched one directory deep. */
static int find_trace(const char *dir, char *path, size_t cap, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (l > 8 && !strcmp(e->d_name + l - 8, SW_TRACE_SUFFIX)) {
			snprintf(path, cap, "%s", sub);
			found++;
		} else if (depth > 0 && e->d_type == DT_DIR) {
			found += find_trace(sub, path, cap, depth - 1);
		}
	}
	closedir(d);
	return found;
}

int sw_t_raw_load(const char *dir, struct sw_t_raw *raw)
{
	char path[4096];
	size_t len = 0, off, cap = 0;

	memset(raw, 0, sizeof(*raw));
	if (find_trace(dir, path, sizeof(path), 1) != 1)
		return -1;
	raw->data = sw_t_slurp(path, &len);
	if (!raw->data || len < sizeof(struct sw_preamble) ||
	    memcmp(raw->data, SW_TRACE_MAGIC, 8) != 0)
		goto bad;
	for (off = sizeof(struct sw_preamble);
	     off + sizeof(struct sw_rec_hdr) <= len;) {
		const struct sw_rec_hdr *h =
		    (const struct sw_rec_hdr *)(raw->data + off);

		if (h->size < sizeof(*h) || h->size > len - off)
			break;
		if (raw->n == cap) {
			cap = cap ? cap * 2 : 256;
			raw->recs =
			    realloc(raw->recs, cap * sizeof(*raw->recs));
			if (!raw->recs)
				goto bad;
		}
		raw->recs[raw->n++] = h;
		off += h->size;
	}
	return 0;
bad:
	sw_t_raw_free(raw);
	return -1;
}

void sw_t_raw_free(struct sw_t_raw *raw)
{
	free(raw->recs);
	free(raw->data);
	memset(raw, 0, sizeof(*raw));
}
