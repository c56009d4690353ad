/*
 * fuzz_trace.c - libFuzzer harness for everything that reads a trace.
 *
 * The input is a trace file.  It goes through sw_report_load() (reader,
 * symbolizer, Python merge, aggregation) and, when that accepts it,
 * through every writer (text with and without colour, JSON, folded, HTML,
 * Chrome trace) and the gate with every budget into /dev/null.
 * sw_report_load() takes paths, so the bytes are written to a file in a
 * private temporary directory first.
 *
 * The outputs are also checked, so that an escaping bug is a finding too
 * (the harness aborts): text without colour and the gate's lines hold no
 * control character but newline, JSON and the Chrome trace parse
 * (jansson), the HTML page's data block holds no '<', and every folded
 * line ends in a count.
 *
 * SW_FUZZ_MODE selects what else runs:
 *   fast     (default) no_symbols=1: reader and everything downstream;
 *   symbols  no_symbols=0: libdwfl opens the module paths the input names
 *            (real ones in seeds made from real traces), and the perf map
 *            beside the trace is loaded;
 *   perfmap  the input is a JIT perf map (the other file the analyzer
 *            reads from a traced process), loaded beside a fixed trace
 *            whose stack points into JIT code.
 *
 * Built and run by scripts/fuzz.sh; see there for the limits it runs with.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../analyzer/model.h"
#include "../../analyzer/perfmap.h"
#include "../unit/tracebuild.h"

int sw_gate_judge(const struct sw_report *rep, int argc, char **argv);

enum mode { MODE_FAST, MODE_SYMBOLS, MODE_PERFMAP };

static enum mode mode;
static char dir[64];
static char trace_path[128];
static char perfmap_path[128];
static FILE *devnull;
static int gate_out = -1; /* memfd on stdout: the gate's verdict lines */

static void cleanup(void)
{
	struct rusage ru;

	unlink(trace_path);
	unlink(perfmap_path);
	rmdir(dir);
	/* CPU time, for scripts/fuzz.sh's summary: on a shared machine the
	 * wall time of -max_total_time is not the time spent fuzzing. */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(stderr, "stat::cpu_seconds: %ld\n",
			(long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec));
}

static int put_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

/* For perfmap mode: a trace whose one event has addresses in JIT code
 * (outside every module), so the report looks them up in the map. */
static void fixed_jit_trace(void)
{
	static const uint64_t ips[] = {0x1000, 0x7f0000001234, 0x40001000,
				       0xffffffffffffffffull, 0x10};
	struct tb b;
	struct tb_ev e;

	tb_begin(&b, 4242, "node\0app.js", 11, "node");
	tb_loop(&b, 1, 4242, 1000, "node");
	memset(&e, 0, sizeof(e));
	e.kind = 2; /* SW_EV_SAMPLE */
	e.call = 55;
	e.tid = 4242;
	e.loop_id = 1;
	e.turn_seq = 1;
	e.start_ns = 2000;
	e.duration_ns = 10000000;
	e.ips = ips;
	e.nips = sizeof(ips) / sizeof(ips[0]);
	e.flags = SW_EVF_SIGNAL_FRAME;
	tb_event(&b, &e);
	tb_stall(&b, 4242, 1, 1, 1500, 300000000);
	tb_end(&b, 400000000);
	if (tb_write(&b, trace_path) != 0)
		abort();
	tb_free(&b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *m = getenv("SW_FUZZ_MODE");
	int null_fd;

	(void)argc;
	(void)argv;
	if (m && !strcmp(m, "symbols"))
		mode = MODE_SYMBOLS;
	else if (m && !strcmp(m, "perfmap"))
		mode = MODE_PERFMAP;
	snprintf(dir, sizeof(dir), "/tmp/swfuzz.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(trace_path, sizeof(trace_path), "%s/fuzz.1.swtrace", dir);
	snprintf(perfmap_path, sizeof(perfmap_path), "%s/fuzz.1.perfmap", dir);
	atexit(cleanup);
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	/* The gate prints its verdict on stdout: catch it to check it. */
	null_fd = memfd_create("gate", MFD_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		abort();
	close(null_fd);
	gate_out = STDOUT_FILENO;
	/* Cover the gate's GitHub annotations as well. */
	setenv("GITHUB_ACTIONS", "true", 1);
	if (mode == MODE_PERFMAP)
		fixed_jit_trace();
	return 0;
}

/* No byte a terminal would act on: C0 but newline, DEL, C1 (UTF-8). */
static void check_inert(const char *what, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f ||
		    (c == 0xc2 && i + 1 < len &&
		     (unsigned char)s[i + 1] >= 0x80 &&
		     (unsigned char)s[i + 1] < 0xa0)) {
			fprintf(stderr,
				"fuzz_trace: %s output: control byte "
				"0x%02x at %zu\n",
				what, c, i);
			abort();
		}
	}
}

static void check_json(const char *what, const char *s, size_t len)
{
	json_error_t err;
	json_t *j = json_loadb(s, len, JSON_DECODE_INT_AS_REAL, &err);

	if (!j) {
		fprintf(stderr,
			"fuzz_trace: %s output does not parse: %s at %d\n",
			what, err.text, err.position);
		abort();
	}
	json_decref(j);
}

static void check_html(const char *s, size_t len)
{
	static const char open_tag[] =
	    "<script type=\"application/json\" id=\"sw-data\">";
	const char *at = memmem(s, len, open_tag, sizeof(open_tag) - 1), *end;

	if (!at)
		return; /* no data block in this writer version */
	at += sizeof(open_tag) - 1;
	end = memchr(at, '<', len - (size_t)(at - s));
	if (!end || (size_t)(s + len - end) < 9 ||
	    memcmp(end, "</script>", 9)) {
		fprintf(stderr,
			"fuzz_trace: HTML data block holds a raw '<'\n");
		abort();
	}
	if (memchr(s, 0x1b, len)) {
		fprintf(stderr, "fuzz_trace: HTML holds an ESC byte\n");
		abort();
	}
}

static void check_folded(const char *s, size_t len)
{
	size_t i = 0;

	check_inert("folded", s, len);
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len, j = end;

		while (j > i && s[j - 1] >= '0' && s[j - 1] <= '9')
			j--;
		if (j == end || j == i || s[j - 1] != ' ') {
			fprintf(stderr,
				"fuzz_trace: folded line without a "
				"count: %.*s\n",
				(int)(end - i), s + i);
			abort();
		}
		i = end + 1;
	}
}

typedef int (*writer_fn)(const struct sw_report *rep, FILE *out);

static int text_plain(const struct sw_report *rep, FILE *out)
{
	return sw_write_text(rep, out, 0);
}

/* Run a writer into memory; returns the bytes (caller frees). */
static char *capture(writer_fn fn, const struct sw_report *rep, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	fn(rep, f);
	fclose(f);
	return buf;
}

static void run_gate(const struct sw_report *rep)
{
	char *argv[] = {"gate",		  "--max-stall", "1ms",
			"--max-blocking", "1ms",	 "--no-blocking",
			"--max-lag-p99",  "1ms",	 "--junit",
			"/dev/null",	  "-q",		 NULL};
	static char buf[1 << 20];
	ssize_t n;

	if (ftruncate(gate_out, 0) != 0 || lseek(gate_out, 0, SEEK_SET) != 0)
		abort();
	sw_gate_judge(rep, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
	fflush(stdout);
	n = pread(gate_out, buf, sizeof(buf), 0);
	if (n > 0)
		check_inert("gate", buf, (size_t)n);
}

static void run_writers(const struct sw_report *rep)
{
	char *out;
	size_t len;

	out = capture(text_plain, rep, &len);
	check_inert("text", out, len);
	free(out);
	out = capture(sw_write_json, rep, &len);
	check_json("JSON", out, len);
	free(out);
	out = capture(sw_write_chrome, rep, &len);
	check_json("Chrome trace", out, len);
	free(out);
	out = capture(sw_write_html, rep, &len);
	check_html(out, len);
	free(out);
	out = capture(sw_write_folded, rep, &len);
	check_folded(out, len);
	free(out);
	sw_write_text(rep, devnull, 1);
	fflush(devnull);
	clearerr(devnull);
	run_gate(rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_load_opts opts = {.no_symbols = mode == MODE_FAST,
				    .quiet = 1};
	struct sw_report rep;
	char *paths[] = {trace_path};

	if (mode == MODE_PERFMAP) {
		struct sw_perfmap *pm;

		if (put_file(perfmap_path, data, size) != 0)
			abort();
		/* The map on its own, then through a whole report. */
		pm = sw_perfmap_load(perfmap_path);
		if (pm) {
			sw_perfmap_lookup(pm, 0);
			sw_perfmap_lookup(pm, 0x40001000);
			sw_perfmap_lookup(pm, UINT64_MAX);
			sw_perfmap_free(pm);
		}
	} else if (put_file(trace_path, data, size) != 0) {
		abort();
	}
	if (sw_report_load(&rep, paths, 1, &opts) == 0) {
		run_writers(&rep);
		sw_report_free(&rep);
	}
	return 0;
}
