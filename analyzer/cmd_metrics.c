/*
 * cmd_metrics.c - `stallwatch metrics`: the traces as Prometheus text
 * exposition (format 0.0.4), or OpenMetrics 1.0 to a scraper that asks.
 *
 * Families (labels process = the program's name, pid, loop = loop id):
 *   stallwatch_loop_turn_duration_seconds  histogram of turn lengths, from
 *       the shim's log-linear histogram (include/sw_hist.h): one `le` per
 *       power of two from 1.024 us to 68.7 s, each a real bucket bound, so
 *       the counts are exact, not interpolated;
 *   stallwatch_loop_turns_total, stallwatch_loop_busy_seconds_total,
 *   stallwatch_loop_busy_ratio (busy time over the loop's life),
 *   stallwatch_loop_stalls_total, stallwatch_loop_max_turn_seconds;
 *   stallwatch_blocked_seconds_total{kind,place}  time in blocking calls,
 *       private loops and GIL waits;
 *   stallwatch_cpu_seconds_total{place}  sampled CPU time in long turns.
 * Cardinality stays bounded: per loop, the --places N (default 10) places
 * with the most blocked + CPU time keep their name, the rest are summed
 * into place="other".
 *
 * Without --listen the exposition is printed once (or written atomically
 * with -o, for node_exporter's textfile collector).  With --listen it is
 * served on /metrics by libmicrohttpd, in the OpenMetrics format to a
 * scraper that asks for it (Accept), else in Prometheus' text format; each
 * scrape re-reads the traces, at most once per second (a faster scraper gets
 * the cached text).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../include/sw_hist.h"
#include "commands.h"
#include "html_escape.h"
#include "intern.h"
#include "model.h"
#include "reader.h"
#include "outfile.h"
#include "run_dir.h"
#include "util.h"

static const char usage[] =
    "usage: stallwatch metrics [options] PATH...\n"
    "\n"
    "Print the traces' loop metrics in the Prometheus text format, or serve\n"
    "them on /metrics.  PATH: trace files or directories of them.\n"
    "\n"
    "options:\n"
    "  -l, --listen HOST:PORT  serve /metrics there (e.g. 127.0.0.1:9464)\n"
    "  -o, --output FILE   write once to FILE atomically (node_exporter\n"
    "                      textfile collector: a *.prom file in its "
    "directory)\n"
    "      --places N      place labels per loop: the N places with the most\n"
    "                      blocked + CPU time, the rest summed as \"other\"\n"
    "                      (default 10)\n"
    "  -h, --help          this help\n"
    "\n"
    "Metrics: stallwatch_loop_turn_duration_seconds (histogram, real shim\n"
    "buckets), _loop_turns_total, _loop_busy_seconds_total,\n"
    "_loop_busy_ratio, _loop_stalls_total, _loop_max_turn_seconds,\n"
    "_blocked_seconds_total{kind,place}, _cpu_seconds_total{place};\n"
    "labels process, pid, loop.  See stallwatch-metrics(1).\n"
    "Exit status: 0, 2 on a usage error or unreadable input.\n";

/* Histogram bounds: every 8th shim bucket (a power of two) from 2^10 ns. */
#define HB_FIRST 10
#define HB_LAST	 36

struct series {
	char *labels; /* `process="..",pid="..",loop=".."` */
	double value;
};

struct family {
	const char *name, *type, *help;
	struct sw_intern keys;
	struct series *v;
	size_t n, cap;
};

enum { F_TURNS, F_BUSY, F_RATIO, F_STALLS, F_MAX, F_BLOCKED, F_CPU, NFAM };

static size_t nplaces_opt = 10;

/* A label value: valid UTF-8 without controls, then \\ \" \n escaped. */
static void put_label_value(struct sw_buf *b, const char *s)
{
	char *safe = sw_strdup_safe(s ? s : "");
	const char *p;

	for (p = safe; *p; p++) {
		if (*p == '\\' || *p == '"')
			sw_buf_add(b, "\\", 1);
		sw_buf_add(b, p, 1);
	}
	free(safe);
}

static void add(struct family *f, const char *labels, double v, int is_max)
{
	int added;
	size_t i = sw_intern(&f->keys, labels, &added);

	if (added) {
		SW_GROW(f->v, f->n, f->cap);
		f->v[f->n].labels = xstrdup(labels);
		f->v[f->n++].value = v;
	} else if (is_max) {
		if (v > f->v[i].value)
			f->v[i].value = v;
	} else {
		f->v[i].value += v;
	}
}

static void put_family(struct sw_buf *out, const struct family *f)
{
	size_t i;

	if (!f->n)
		return;
	sw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		      f->name, f->type);
	for (i = 0; i < f->n; i++)
		sw_buf_printf(out, "%s{%s} %.9g\n", f->name, f->v[i].labels,
			      f->v[i].value);
}

/* The place of a site, as every output names it (place.h). */
static char *site_place(const struct sw_site *s)
{
	return xstrdup(s->place.text && *s->place.text ? s->place.text
						       : "[no stack]");
}

static void loop_labels(struct sw_buf *b, const struct sw_process *p,
			uint32_t loop_id)
{
	sw_buf_puts(b, "process=\"");
	put_label_value(b, p->comm && *p->comm ? p->comm : "?");
	sw_buf_printf(b, "\",pid=\"%" PRIu32 "\",loop=\"%" PRIu32 "\"", p->pid,
		      loop_id);
}

struct place_sum {
	size_t site;
	uint64_t ns;
};

static int by_ns(const void *x, const void *y)
{
	const struct place_sum *a = x, *b = y;

	return a->ns > b->ns ? -1 : a->ns < b->ns;
}

/* Blocked and CPU time of one loop, by kind and place, top N + other. */
static void place_series(struct family *fam, const struct sw_report *rep,
			 size_t pi, const struct sw_loop *l, char **places)
{
	const struct sw_process *p = &rep->processes[pi];
	struct place_sum *sums = NULL;
	size_t n = 0, cap = 0, i, j;
	struct sw_intern idx = {0};

	/* time per site on this loop's thread */
	for (i = 0; i < rep->nevents; i++) {
		const struct sw_event *ev = &rep->events[i];
		char key[32];
		int added;

		if (ev->process != pi || ev->tid != l->tid ||
		    ev->site >= rep->nsites)
			continue;
		snprintf(key, sizeof(key), "%zu", ev->site);
		j = sw_intern(&idx, key, &added);
		if (added) {
			SW_GROW(sums, n, cap);
			sums[n++] = (struct place_sum){ev->site, 0};
		}
		sums[j].ns += ev->total_ns;
	}
	if (n)
		qsort(sums, n, sizeof(*sums), by_ns);
	/* rank places (several sites may share one) by their sites' order */
	{
		struct sw_intern ranked = {0};

		for (i = 0; i < n; i++) {
			const struct sw_site *s = &rep->sites[sums[i].site];
			const char *place = places[sums[i].site];
			int cpu = s->kind == SW_SITE_CPU;
			struct sw_buf b = {0};

			j = sw_intern(&ranked, place, NULL);
			loop_labels(&b, p, l->loop_id);
			if (!cpu)
				sw_buf_printf(&b, ",kind=\"%s\"",
					      sw_site_kind_name(s->kind));
			sw_buf_puts(&b, ",place=\"");
			put_label_value(&b, j < nplaces_opt ? place : "other");
			sw_buf_puts(&b, "\"");
			add(&fam[cpu ? F_CPU : F_BLOCKED], sw_buf_str(&b),
			    (double)sums[i].ns / 1e9, 0);
			sw_buf_free(&b);
		}
		sw_intern_free(&ranked);
	}
	sw_intern_free(&idx);
	free(sums);
}

static void histogram(struct sw_buf *out, const struct sw_report *rep)
{
	const char *name = "stallwatch_loop_turn_duration_seconds";
	struct sw_intern seen = {0};
	size_t pi, li;
	int any = 0;

	for (pi = 0; pi < rep->nprocesses; pi++) {
		const struct sw_process *p = &rep->processes[pi];

		for (li = 0; li < p->nloops; li++) {
			const struct sw_loop *l = &p->loops[li];
			struct sw_buf lab = {0};
			uint64_t cum = 0, total = 0;
			unsigned b, k;
			int added;

			if (!l->hist)
				continue;
			loop_labels(&lab, p, l->loop_id);
			/* one series per label set (an exec'd pid reuses
			 * loop ids): the first trace wins */
			sw_intern(&seen, sw_buf_str(&lab), &added);
			if (!added) {
				sw_buf_free(&lab);
				continue;
			}
			if (!any++)
				sw_buf_printf(out,
					      "# HELP %s Event loop turn "
					      "lengths (the shim's "
					      "histogram).\n# TYPE %s "
					      "histogram\n",
					      name, name);
			for (b = 0; b < SW_HIST_BUCKETS; b++)
				total += l->hist[b];
			b = 0;
			for (k = HB_FIRST; k <= HB_LAST; k++) {
				/* bucket (k-2)*8 starts at 2^k ns: le is the
				 * end of the bucket before it */
				unsigned stop = (k - 2) * SW_HIST_SUB;

				for (; b < stop; b++)
					cum += l->hist[b];
				sw_buf_printf(
				    out,
				    "%s_bucket{%s,le=\"%.9g\"} %" PRIu64 "\n",
				    name, sw_buf_str(&lab),
				    (double)sw_hist_lower(stop) / 1e9, cum);
			}
			sw_buf_printf(out,
				      "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n"
				      "%s_sum{%s} %.9g\n"
				      "%s_count{%s} %" PRIu64 "\n",
				      name, sw_buf_str(&lab), total, name,
				      sw_buf_str(&lab),
				      (double)l->busy_ns / 1e9, name,
				      sw_buf_str(&lab), total);
			sw_buf_free(&lab);
		}
	}
	sw_intern_free(&seen);
}

/* The whole exposition for the traces under paths; NULL after a message
 * when they cannot be read. */
static char *exposition_of(char *const *paths, size_t npaths)
{
	struct family fam[NFAM] = {
	    [F_TURNS] = {.name = "stallwatch_loop_turns_total",
			 .type = "counter",
			 .help = "Event loop turns since the loop was born."},
	    [F_BUSY] = {.name = "stallwatch_loop_busy_seconds_total",
			.type = "counter",
			.help = "Time the loop spent inside turns."},
	    [F_RATIO] = {.name = "stallwatch_loop_busy_ratio",
			 .type = "gauge",
			 .help = "Busy time over the loop's lifetime, 0 to 1."},
	    [F_STALLS] = {.name = "stallwatch_loop_stalls_total",
			  .type = "counter",
			  .help = "Turns longer than the stall threshold."},
	    [F_MAX] = {.name = "stallwatch_loop_max_turn_seconds",
		       .type = "gauge",
		       .help = "Longest turn of the loop."},
	    [F_BLOCKED] = {.name = "stallwatch_blocked_seconds_total",
			   .type = "counter",
			   .help = "Time the loop thread was blocked, by kind "
				   "and place (top places, then other)."},
	    [F_CPU] = {.name = "stallwatch_cpu_seconds_total",
		       .type = "counter",
		       .help = "Sampled CPU time in long turns, by place (top "
			       "places, then other)."},
	};
	struct sw_load_opts lo = {.quiet = 1};
	struct sw_report rep;
	struct sw_buf out = {0};
	char **files = NULL, **places, err[512];
	size_t nfiles = 0, i, j;

	if (sw_trace_expand(paths, npaths, &files, &nfiles, err, sizeof(err)) !=
	    0) {
		sw_err("metrics: %s", err);
		return NULL;
	}
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	sw_buf_puts(&out, "# HELP stallwatch_trace_files Trace files read.\n"
			  "# TYPE stallwatch_trace_files gauge\n");
	sw_buf_printf(&out, "stallwatch_trace_files %zu\n", nfiles);
	if (nfiles == 0) /* the service has not started yet: not an error */
		return sw_buf_take(&out);
	if (sw_report_load(&rep, paths, npaths, &lo) != 0) {
		sw_buf_free(&out);
		return NULL;
	}
	places = xcalloc(rep.nsites + 1, sizeof(*places));
	for (i = 0; i < rep.nsites; i++)
		places[i] = site_place(&rep.sites[i]);
	for (i = 0; i < rep.nprocesses; i++) {
		const struct sw_process *p = &rep.processes[i];

		for (j = 0; j < p->nloops; j++) {
			const struct sw_loop *l = &p->loops[j];
			struct sw_buf b = {0};

			loop_labels(&b, p, l->loop_id);
			add(&fam[F_TURNS], sw_buf_str(&b), (double)l->turns, 0);
			add(&fam[F_BUSY], sw_buf_str(&b),
			    (double)l->busy_ns / 1e9, 0);
			add(&fam[F_RATIO], sw_buf_str(&b), l->utilisation, 1);
			add(&fam[F_STALLS], sw_buf_str(&b), (double)l->stalls,
			    0);
			add(&fam[F_MAX], sw_buf_str(&b),
			    (double)l->max_turn_ns / 1e9, 1);
			sw_buf_free(&b);
			place_series(fam, &rep, i, l, places);
		}
	}
	histogram(&out, &rep);
	for (i = 0; i < NFAM; i++) {
		put_family(&out, &fam[i]);
		for (j = 0; j < fam[i].n; j++)
			free(fam[i].v[j].labels);
		free(fam[i].v);
		sw_intern_free(&fam[i].keys);
	}
	for (i = 0; i < rep.nsites; i++)
		free(places[i]);
	free(places);
	sw_report_free(&rep);
	return sw_buf_take(&out);
}

/* ---- --listen ------------------------------------------------------------ */

struct server {
	char *const *paths;
	size_t npaths;
	char *cached;
	struct timespec when;
};

/*
 * The same exposition in the OpenMetrics text format, for a scraper that
 * asks for it: a counter family is named without its "_total" (its
 * samples keep it), and the text ends with "# EOF".
 */
/* The exposition of PATHs, where an output directory of `stallwatch run`
 * stands for its newest run, looked up again at every scrape. */
static char *exposition(char *const *paths, size_t npaths)
{
	char **resolved, *text;

	sw_run_dir_resolve(paths, npaths, &resolved, 1);
	text = exposition_of(resolved, npaths);
	sw_run_dir_free(resolved, npaths);
	return text;
}

static char *to_openmetrics(const char *text)
{
	struct sw_buf b = {0};
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *next = end ? end + 1 : line + len;

		if (!strncmp(line, "# HELP ", 7) &&
		    !strncmp(next, "# TYPE ", 7)) {
			/* "# HELP name help" then "# TYPE name counter" */
			size_t nl = strcspn(line + 7, " \n");
			const char *tend = strchr(next, '\n');
			size_t tlen =
			    tend ? (size_t)(tend - next) : strlen(next);
			int counter = tlen > 8 &&
				      !strncmp(next + tlen - 8, " counter", 8);

			if (counter && nl > 6 &&
			    !strncmp(line + 7 + nl - 6, "_total", 6)) {
				sw_buf_add(&b, line, 7 + nl - 6);
				sw_buf_add(&b, line + 7 + nl, len - 7 - nl);
				sw_buf_puts(&b, "\n# TYPE ");
				sw_buf_add(&b, next + 7, nl - 6);
				sw_buf_puts(&b, " counter\n");
				line = tend ? tend + 1 : next + tlen;
				continue;
			}
		}
		sw_buf_add(&b, line, len);
		sw_buf_add(&b, "\n", 1);
		line = next;
	}
	sw_buf_puts(&b, "# EOF\n");
	return sw_buf_take(&b);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct server *s = cls;
	struct MHD_Response *resp;
	struct timespec now;
	enum MHD_Result r;
	const char *body, *accept;
	char *om = NULL;
	unsigned status = MHD_HTTP_OK;
	int openmetrics;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		body = "only GET\n";
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics")) {
		body = "stallwatch metrics: see /metrics\n";
		status = MHD_HTTP_NOT_FOUND;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!s->cached || now.tv_sec > s->when.tv_sec) {
			char *text = exposition(s->paths, s->npaths);

			if (text) {
				free(s->cached);
				s->cached = text;
				s->when = now;
			}
		}
		body = s->cached ? s->cached : "# traces unreadable\n";
		if (!s->cached)
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	/* Prometheus asks for OpenMetrics first; curl gets plain text */
	accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_ACCEPT);
	openmetrics = status == MHD_HTTP_OK && accept &&
		      strstr(accept, "application/openmetrics-text");
	if (openmetrics)
		body = om = to_openmetrics(body);
	resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
					       MHD_RESPMEM_MUST_COPY);
	free(om);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(
	    resp, "Content-Type",
	    openmetrics
		? "application/openmetrics-text; version=1.0.0; charset=utf-8"
		: "text/plain; version=0.0.4; charset=utf-8");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static int serve(const char *listen, char *const *paths, size_t npaths)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV},
			*ai = NULL;
	struct server s = {.paths = paths, .npaths = npaths};
	struct MHD_Daemon *d;
	char host[256];
	const char *colon = strrchr(listen, ':');
	sigset_t set;
	int sig, e, port;
	size_t hl;

	if (!colon || colon == listen || !colon[1]) {
		sw_err(
		    "metrics: --listen takes HOST:PORT (e.g. 127.0.0.1:9464)");
		return 2;
	}
	hl = (size_t)(colon - listen);
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	memcpy(host, listen, hl);
	host[hl] = 0;
	if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	port = atoi(colon + 1);
	if (port <= 0 || port > 65535) {
		sw_err("metrics: bad port in --listen %s", listen);
		return 2;
	}
	e = getaddrinfo(host, colon + 1, &hints, &ai);
	if (e) {
		sw_err("metrics: --listen %s: %s", listen, gai_strerror(e));
		return 2;
	}
	/* SIGINT/SIGTERM end the server: block them in every thread and
	 * wait for them here. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD |
		(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    (uint16_t)port, NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR,
	    ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!d) {
		sw_err("metrics: cannot listen on %s (address in use or not "
		       "local?)",
		       listen);
		return 2;
	}
	fprintf(stderr, "stallwatch: metrics on http://%s/metrics\n", listen);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	free(s.cached);
	return 0;
}

static int put_text(FILE *out, void *ctx)
{
	return fputs(ctx, out) < 0 ? -1 : 0;
}

/* For node_exporter's textfile collector: never a half-written file. */
static int write_file(const char *path, const char *text)
{
	return sw_outfile_write(path, "metrics", put_text, (void *)text) == 0
		   ? 0
		   : 2;
}

int sw_cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"output", required_argument, NULL, 'o'},
	    {"places", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *listen = NULL, *output = NULL;
	char *text, *end;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+l:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'P':
			nplaces_opt = strtoul(optarg, &end, 10);
			if (end == optarg || *end || *optarg == '-' ||
			    nplaces_opt > 1000) {
				sw_err("metrics: --places takes 0 to 1000");
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			sw_err(
			    "metrics: unknown or incomplete option '%s' (see "
			    "stallwatch metrics --help)",
			    argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		sw_err("metrics: no trace files or directories given (see "
		       "stallwatch metrics --help)");
		return 2;
	}
	if (listen && output) {
		sw_err("metrics: --listen and --output exclude each other");
		return 2;
	}
	if (listen)
		return serve(listen, argv + optind, (size_t)(argc - optind));
	text = exposition(argv + optind, (size_t)(argc - optind));
	if (!text)
		return 2;
	if (output) {
		rc = write_file(output, text);
	} else {
		rc = fputs(text, stdout) >= 0 && fflush(stdout) == 0 ? 0 : 2;
		if (rc)
			sw_err("metrics: could not write the metrics");
	}
	free(text);
	return rc;
}
