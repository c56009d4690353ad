/*
 * rawtrace.c - read one trace file record by record (rawtrace.h).
 */
#include "rawtrace.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* *.swtrace files in dir, searched `depth` directories deep. */
static int find_traces(const char *dir, char (*paths)[4096], int max, int found,
		       int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return found;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%.3000s/%.1000s", dir, e->d_name);
		if (l > 8 && !strcmp(e->d_name + l - 8, SW_TRACE_SUFFIX)) {
			if (found < max)
				snprintf(paths[found], 4096, "%s", sub);
			found++;
		} else if (depth > 0 && e->d_type == DT_DIR) {
			found = find_traces(sub, paths, max, found, depth - 1);
		}
	}
	closedir(d);
	return found;
}

int sw_t_raw_list(const char *dir, char (*paths)[4096], int max)
{
	return find_traces(dir, paths, max, 0, 1);
}

int sw_t_raw_load(const char *dir, struct sw_t_raw *raw)
{
	char path[1][4096];

	memset(raw, 0, sizeof(*raw));
	if (sw_t_raw_list(dir, path, 1) != 1)
		return -1;
	return sw_t_raw_load_file(path[0], raw);
}

const struct sw_rec_hdr *sw_t_raw_next(const struct sw_t_raw *raw, size_t *from,
				       unsigned type, void *out, size_t cap)
{
	size_t i;

	for (i = *from; i < raw->n; i++) {
		const struct sw_rec_hdr *h = raw->recs[i];
		struct sw_rec_hdr hdr;

		memcpy(&hdr, h, sizeof(hdr));
		if (hdr.type != type)
			continue;
		memset(out, 0, cap);
		memcpy(out, h, hdr.size < cap ? hdr.size : cap);
		*from = i + 1;
		return h;
	}
	*from = raw->n;
	return NULL;
}

int sw_t_raw_load_file(const char *path, struct sw_t_raw *raw)
{
	size_t len = 0, off, cap = 0;

	memset(raw, 0, sizeof(*raw));
	raw->data = sw_t_slurp(path, &len);
	if (!raw->data || len < sizeof(struct sw_preamble) ||
	    memcmp(raw->data, SW_TRACE_MAGIC, 8) != 0)
		goto bad;
	for (off = sizeof(struct sw_preamble);
	     off + sizeof(struct sw_rec_hdr) <= len;) {
		const struct sw_rec_hdr *h =
		    (const struct sw_rec_hdr *)(raw->data + off);
		struct sw_rec_hdr hdr;

		memcpy(&hdr, h, sizeof(hdr)); /* records are not aligned */
		if (hdr.size < sizeof(hdr) || hdr.size > len - off)
			break;
		if (raw->n == cap) {
			cap = cap ? cap * 2 : 256;
			raw->recs =
			    realloc(raw->recs, cap * sizeof(*raw->recs));
			if (!raw->recs)
				goto bad;
		}
		raw->recs[raw->n++] = h;
		off += hdr.size;
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
