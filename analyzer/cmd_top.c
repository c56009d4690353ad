/*
 * cmd_top.c - `stallwatch top`: a live view of the traced processes that
 * are running, one row per event loop.
 *
 * Columns (heartbeat columns over the last window, the difference of the
 * newest heartbeat and the newest one at least --window older; event
 * columns over the last minute):
 *   TURNS/s  turns per second           UTIL   time inside turns
 *   P50 P99 MAX  turn lengths (lag) from the heartbeat histograms
 *   STALL/m  stalls per minute          BLOCK  share of wall time in
 *   CPU      share in sampled CPU burns        blocking calls
 *   TOP PLACE  the place with the most blocked + CPU time
 * The interactive view (ncurses) refreshes every --interval (1 s), sorts by
 * the key shown in its footer, lists the selected loop's top places of the
 * last minute, and follows processes as they start and exit.  --once
 * prints one plain-text snapshot instead, for scripts and tests.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "follow.h"
#include "util.h"

static const char usage[] =
    "usage: stallwatch top [options] [PATH...]\n"
    "\n"
    "A live view of the traced processes that are running: per event loop\n"
    "turns per second, utilisation, lag p50/p99/max over the last window,\n"
    "stalls per minute, blocked and CPU shares and the top places of the\n"
    "last minute.  PATH: trace files or directories (and their run\n"
    "subdirectories); default /tmp/stallwatch-UID and ./stallwatch-out.\n"
    "\n"
    "options:\n"
    "      --once         print one plain-text snapshot and exit\n"
    "  -n, --interval S   refresh every S seconds (default 1)\n"
    "  -w, --window S     heartbeat window in seconds (default 10; the\n"
    "                     shim writes a heartbeat every STALLWATCH_HEARTBEAT,\n"
    "                     10s by default)\n"
    "  -s, --sort KEY     stalls (default), util, turns, p99, max, blocked,\n"
    "                     cpu or pid\n"
    "  -h, --help         this help\n"
    "\n"
    "keys: q quit, up/down select a loop, s u t p m b c n sort by stalls,\n"
    "util, turns, p99, max, blocked, cpu, pid.\n"
    "\n"
    "Exit status: 0, or 2 on a usage error.\n";

#define MINUTE_NS (60ull * 1000000000ull)
#define NPLACES	  8

struct row {
	const struct sw_fproc *p;
	const struct sw_floop *l;
	int has_window;
	double window_s, turns_s, util, blocked, cpu, stalls_min;
	uint64_t p50, p99, max;
	size_t places[NPLACES];
	uint64_t place_ns[NPLACES];
	size_t nplaces;
	uint64_t place_total;
};

enum sort_key {
	S_STALLS,
	S_UTIL,
	S_TURNS,
	S_P99,
	S_MAX,
	S_BLOCKED,
	S_CPU,
	S_PID
};
static const struct {
	const char *name;
	int key;
} sorts[] = {{"stalls", 's'}, {"util", 'u'},	{"turns", 't'}, {"p99", 'p'},
	     {"max", 'm'},    {"blocked", 'b'}, {"cpu", 'c'},	{"pid", 'n'}};

static enum sort_key sort_by = S_STALLS;

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t percentile(const uint64_t *b, uint64_t total, double q)
{
	uint64_t rank = (uint64_t)(q * (double)total + 0.999999), cum = 0;
	unsigned i;

	if (!total)
		return 0;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < SW_HIST_BUCKETS; i++) {
		cum += b[i];
		if (cum >= rank)
			return sw_hist_upper(i);
	}
	return sw_hist_upper(SW_HIST_BUCKETS - 1);
}

/* Heartbeat columns: newest heartbeat minus the newest one at least
 * `window` older (else the oldest kept; with one heartbeat, since the
 * loop was born). */
static void window_columns(struct row *r, uint64_t window)
{
	const struct sw_floop *l = r->l;
	const struct sw_fhb *nw, *old = NULL;
	static uint64_t diff[SW_HIST_BUCKETS];
	uint64_t total = 0, dt, base_t, base_turns = 0, base_busy = 0;
	size_t i;

	if (!l->nhb)
		return;
	nw = &l->hb[(l->hb_first + l->nhb - 1) % SW_FOLLOW_HB];
	for (i = l->nhb - 1; i-- > 0;) {
		const struct sw_fhb *h =
		    &l->hb[(l->hb_first + i) % SW_FOLLOW_HB];

		old = h;
		if (h->time_ns + window <= nw->time_ns)
			break;
	}
	base_t = old ? old->time_ns : l->born_ns;
	if (old) {
		base_turns = old->turns;
		base_busy = old->busy_ns;
	}
	if (nw->time_ns <= base_t)
		return;
	dt = nw->time_ns - base_t;
	for (i = 0; i < SW_HIST_BUCKETS; i++) {
		uint64_t o = old ? old->buckets[i] : 0;

		diff[i] = nw->buckets[i] >= o ? nw->buckets[i] - o : 0;
		total += diff[i];
	}
	r->has_window = 1;
	r->window_s = (double)dt / 1e9;
	r->turns_s = (double)(nw->turns - base_turns) / r->window_s;
	r->util = (double)(nw->busy_ns - base_busy) / (double)dt;
	if (r->util > 1)
		r->util = 1;
	r->p50 = percentile(diff, total, 0.50);
	r->p99 = percentile(diff, total, 0.99);
	r->max = 0;
	for (i = SW_HIST_BUCKETS; i-- > 0;)
		if (diff[i]) {
			r->max = sw_hist_upper((unsigned)i);
			break;
		}
	if (r->max > nw->max_turn_ns && nw->max_turn_ns)
		r->max = nw->max_turn_ns;
	if (r->p99 > r->max)
		r->p99 = r->max;
	if (r->p50 > r->max)
		r->p50 = r->max;
}

/* Event columns over the last minute (or the loop's life, if shorter). */
static void minute_columns(struct row *r, uint64_t now)
{
	const struct sw_floop *l = r->l;
	uint64_t from = now > MINUTE_NS ? now - MINUTE_NS : 0, span,
		 blocked = 0, cpu = 0, stalls = 0;
	uint64_t *by_place;
	size_t i, j, k;

	if (l->born_ns > from)
		from = l->born_ns;
	span = now > from ? now - from : 1;
	if (span < 1000000000ull)
		span = 1000000000ull;
	by_place = xcalloc(r->p->nplaces + 1, sizeof(*by_place));
	for (i = 0; i < l->nitems; i++) {
		const struct sw_fitem *it = &l->items[i];

		if (it->time_ns < from)
			continue;
		if (it->what == SW_FI_STALL) {
			stalls++;
			continue;
		}
		if (it->what == SW_FI_CPU)
			cpu += it->weight;
		else
			blocked += it->weight;
		if (it->place < r->p->nplaces)
			by_place[it->place] += it->weight;
	}
	r->stalls_min = (double)stalls * 60e9 / (double)span;
	r->blocked = (double)blocked / (double)span;
	r->cpu = (double)cpu / (double)span;
	if (r->blocked > 1)
		r->blocked = 1;
	if (r->cpu > 1)
		r->cpu = 1;
	r->place_total = blocked + cpu;
	/* the NPLACES heaviest places, heaviest first */
	for (j = 0; j < r->p->nplaces; j++) {
		if (!by_place[j])
			continue;
		for (k = r->nplaces; k > 0 && r->place_ns[k - 1] < by_place[j];
		     k--)
			if (k < NPLACES) {
				r->places[k] = r->places[k - 1];
				r->place_ns[k] = r->place_ns[k - 1];
			}
		if (k < NPLACES) {
			r->places[k] = j;
			r->place_ns[k] = by_place[j];
			if (r->nplaces < NPLACES)
				r->nplaces++;
		}
	}
	free(by_place);
}

static int cmp_d(double a, double b)
{
	return a > b ? -1 : a < b;
}

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = 0;

	switch (sort_by) {
	case S_STALLS:
		c = cmp_d(a->stalls_min, b->stalls_min);
		if (!c)
			c = cmp_d(a->util, b->util);
		break;
	case S_UTIL:
		c = cmp_d(a->util, b->util);
		break;
	case S_TURNS:
		c = cmp_d(a->turns_s, b->turns_s);
		break;
	case S_P99:
		c = cmp_d((double)a->p99, (double)b->p99);
		break;
	case S_MAX:
		c = cmp_d((double)a->max, (double)b->max);
		break;
	case S_BLOCKED:
		c = cmp_d(a->blocked, b->blocked);
		break;
	case S_CPU:
		c = cmp_d(a->cpu, b->cpu);
		break;
	case S_PID:
		break;
	}
	if (!c)
		c = a->p->pid < b->p->pid ? -1 : a->p->pid > b->p->pid;
	if (!c)
		c = a->l->loop_id < b->l->loop_id
			? -1
			: a->l->loop_id > b->l->loop_id;
	return c;
}

static size_t build_rows(struct sw_follow *f, uint64_t window, struct row **out)
{
	uint64_t now = mono_now();
	struct row *rows = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < f->nprocs; i++) {
		const struct sw_fproc *p = f->procs[i];

		if (!sw_follow_running(p))
			continue;
		for (j = 0; j < p->nloops; j++) {
			struct row *r;

			if (p->loops[j].ended)
				continue;
			SW_GROW(rows, n, cap);
			r = &rows[n++];
			memset(r, 0, sizeof(*r));
			r->p = p;
			r->l = &p->loops[j];
			window_columns(r, window);
			minute_columns(r, now);
		}
	}
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	*out = rows;
	return n;
}

static void fmt_dur(char *buf, size_t len, uint64_t ns, int known)
{
	if (!known)
		snprintf(buf, len, "-");
	else
		sw_fmt_duration(buf, len, ns);
}

/* One row as text, the columns the header names. */
static void row_text(const struct row *r, char *buf, size_t len)
{
	char p50[32], p99[32], mx[32], loop[40], ts[16], ut[16];

	fmt_dur(p50, sizeof(p50), r->p50, r->has_window);
	fmt_dur(p99, sizeof(p99), r->p99, r->has_window);
	fmt_dur(mx, sizeof(mx), r->max, r->has_window);
	snprintf(loop, sizeof(loop), "%.16s/%" PRIu32,
		 r->l->thread_name[0] ? r->l->thread_name : "loop",
		 r->l->loop_id);
	if (r->has_window) {
		snprintf(ts, sizeof(ts), "%.0f", r->turns_s);
		snprintf(ut, sizeof(ut), "%.0f%%", r->util * 100);
	} else {
		snprintf(ts, sizeof(ts), "-");
		snprintf(ut, sizeof(ut), "-");
	}
	snprintf(buf, len,
		 "%7" PRIu32 " %-14.14s %-18.18s %8s %5s %8s %8s %8s %7.1f "
		 "%5.0f%% %4.0f%%  %s",
		 r->p->pid, r->p->comm, loop, ts, ut, p50, p99, mx,
		 r->stalls_min, r->blocked * 100, r->cpu * 100,
		 r->nplaces ? r->p->places[r->places[0]] : "-");
}

static const char header[] =
    "    PID COMMAND        LOOP                TURNS/s  UTIL      P50"
    "      P99      MAX STALL/m BLOCK  CPU  TOP PLACE (last minute)";

static void place_line(const struct row *r, size_t k, char *buf, size_t len)
{
	char d[32];

	sw_fmt_duration(d, sizeof(d), r->place_ns[k]);
	snprintf(buf, len, "%9s %4.0f%%  %s", d,
		 r->place_total
		     ? 100.0 * (double)r->place_ns[k] / (double)r->place_total
		     : 0.0,
		 r->p->places[r->places[k]]);
}

static int print_once(struct sw_follow *f, uint64_t window)
{
	struct row *rows;
	size_t n, i, k;
	char line[8192];

	sw_follow_poll(f);
	n = build_rows(f, window, &rows);
	printf("stallwatch top: %zu event loop%s in running processes "
	       "(window %.0fs, events: last minute)\n",
	       n, n == 1 ? "" : "s", (double)window / 1e9);
	puts(header);
	for (i = 0; i < n; i++) {
		row_text(&rows[i], line, sizeof(line));
		puts(line);
	}
	for (i = 0; i < n; i++) {
		if (!rows[i].nplaces)
			continue;
		printf("\ntop places of pid %" PRIu32 " loop %" PRIu32
		       " (%s), last minute:\n",
		       rows[i].p->pid, rows[i].l->loop_id, rows[i].p->comm);
		for (k = 0; k < rows[i].nplaces; k++) {
			place_line(&rows[i], k, line, sizeof(line));
			printf("  %s\n", line);
		}
	}
	free(rows);
	return fflush(stdout) == 0 ? 0 : 2;
}

static void draw(struct sw_follow *f, uint64_t window, int *sel)
{
	struct row *rows;
	size_t n, i, k;
	int y = 0, h = LINES, w = COLS, top;
	char line[8192], clock[16];
	time_t t = time(NULL);
	struct tm tm;

	n = build_rows(f, window, &rows);
	if (*sel >= (int)n)
		*sel = n ? (int)n - 1 : 0;
	localtime_r(&t, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	erase();
	attron(A_BOLD);
	mvprintw(y++, 0,
		 "stallwatch top - %zu event loop%s - window %.0fs - %s", n,
		 n == 1 ? "" : "s", (double)window / 1e9, clock);
	attroff(A_BOLD);
	attron(A_REVERSE);
	mvaddnstr(++y, 0, header, w);
	for (i = strlen(header); (int)i < w; i++)
		addch(' ');
	attroff(A_REVERSE);
	y++;
	/* rows, then the selected loop's places: keep room for them */
	top = h - 4 - NPLACES;
	for (i = 0; i < n && y < top; i++) {
		row_text(&rows[i], line, sizeof(line));
		if ((int)i == *sel)
			attron(A_BOLD | A_UNDERLINE);
		mvaddnstr(y++, 0, line, w);
		if ((int)i == *sel)
			attroff(A_BOLD | A_UNDERLINE);
	}
	if (!n)
		mvaddnstr(y++, 0,
			  "  (no traced process is running: start one with "
			  "stallwatch run, or LD_PRELOAD from stallwatch "
			  "preload)",
			  w);
	y = top > y ? top : y;
	if (n && rows[*sel].nplaces) {
		const struct row *r = &rows[*sel];

		snprintf(line, sizeof(line),
			 "top places of pid %" PRIu32 " loop %" PRIu32
			 " (%s), last minute:",
			 r->p->pid, r->l->loop_id, r->p->comm);
		attron(A_BOLD);
		mvaddnstr(y++, 0, line, w);
		attroff(A_BOLD);
		for (k = 0; k < r->nplaces && y < h - 1; k++) {
			place_line(r, k, line, sizeof(line));
			mvaddnstr(y++, 2, line, w - 2);
		}
	}
	snprintf(line, sizeof(line),
		 " q quit  up/down select  sort: s stalls  u util  t turns  "
		 "p p99  m max  b blocked  c cpu  n pid   [sorted by %s]",
		 sorts[sort_by].name);
	attron(A_REVERSE);
	mvaddnstr(h - 1, 0, line, w);
	for (i = strlen(line); (int)i < w; i++)
		addch(' ');
	attroff(A_REVERSE);
	refresh();
	free(rows);
}

static int interactive(struct sw_follow *f, uint64_t window, double interval)
{
	int sel = 0, c;
	size_t i;

	setlocale(LC_ALL, "");
	if (!initscr()) {
		sw_err("top: cannot start the terminal (try --once)");
		return 2;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout((int)(interval * 1000));
	for (;;) {
		sw_follow_poll(f);
		draw(f, window, &sel);
		c = getch();
		if (c == 'q' || c == 'Q')
			break;
		if (c == KEY_UP && sel > 0)
			sel--;
		else if (c == KEY_DOWN)
			sel++;
		for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
			if (c == sorts[i].key)
				sort_by = (enum sort_key)i;
	}
	endwin();
	return 0;
}

int sw_cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"once", no_argument, NULL, 'O'},
	    {"interval", required_argument, NULL, 'n'},
	    {"window", required_argument, NULL, 'w'},
	    {"sort", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_follow f;
	double interval = 1, window_s = 10;
	char *defaults[2], *end;
	char **paths;
	size_t npaths, i;
	int c, once = 0, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n:w:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'O':
			once = 1;
			break;
		case 'n':
			interval = strtod(optarg, &end);
			if (end == optarg || *end || !(interval >= 0.1) ||
			    interval > 3600) {
				sw_err("top: --interval takes seconds, 0.1 to "
				       "3600");
				return 2;
			}
			break;
		case 'w':
			window_s = strtod(optarg, &end);
			if (end == optarg || *end || !(window_s >= 0.1) ||
			    window_s > 86400) {
				sw_err("top: --window takes seconds, 0.1 to "
				       "86400");
				return 2;
			}
			break;
		case 's':
			for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
				if (!strcmp(optarg, sorts[i].name))
					break;
			if (i == sizeof(sorts) / sizeof(sorts[0])) {
				sw_err("top: --sort takes stalls, util, turns, "
				       "p99, max, blocked, cpu or pid");
				return 2;
			}
			sort_by = (enum sort_key)i;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			sw_err("top: unknown or incomplete option '%s' (see "
			       "stallwatch top --help)",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		struct stat st;

		for (i = (size_t)optind; i < (size_t)argc; i++)
			if (stat(argv[i], &st) != 0) {
				sw_err("top: %s: %s", argv[i], strerror(errno));
				return 2;
			}
		paths = argv + optind;
		npaths = (size_t)(argc - optind);
	} else {
		defaults[0] =
		    xasprintf("/tmp/stallwatch-%u", (unsigned)getuid());
		defaults[1] = xstrdup("stallwatch-out");
		paths = defaults;
		npaths = 2;
	}
	sw_follow_init(&f, paths, npaths);
	if (paths == defaults) {
		free(defaults[0]);
		free(defaults[1]);
	}
	if (once || !isatty(STDOUT_FILENO))
		rc = print_once(&f, (uint64_t)(window_s * 1e9));
	else
		rc = interactive(&f, (uint64_t)(window_s * 1e9), interval);
	sw_follow_free(&f);
	return rc;
}
