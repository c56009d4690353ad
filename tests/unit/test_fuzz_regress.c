/*
 * test_fuzz_regress.c - every input the fuzzer keeps (tests/fuzz/regress:
 * inputs that once found a bug; tests/fuzz/corpus: real and hand-made
 * seed traces) goes through the reader, the aggregation, every writer and
 * the gate in-process, the way scripts/fuzz.sh runs them.
 *
 * Each file must either load (rc 0), or be refused with rc -1 and exactly
 * one line "stallwatch: ..." on stderr.  When it loads, the JSON output
 * must parse, and the text output without colour must hold no control
 * character but newline: strings in traces are hostile.  Check forks each
 * test, so a crash fails it with the file's name in the log.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../analyzer/model.h"
#include "../../analyzer/perfmap.h"
#include "../support.h"
#include "tracebuild.h"

int sw_gate_judge(const struct sw_report *rep, int argc, char **argv);

/* Run fn with fd (1 or 2) sent to `path`; returns what fn returned. */
static int with_fd_to(int fd, const char *path, int (*fn)(void *), void *arg)
{
	int saved, tmp, rc;

	fflush(fd == 1 ? stdout : stderr);
	saved = dup(fd);
	tmp = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(tmp, 0);
	dup2(tmp, fd);
	close(tmp);
	rc = fn(arg);
	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap + 1);

	ck_assert_ptr_nonnull(f);
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

struct load_args {
	struct sw_report *rep;
	char *path;
	int no_symbols;
};

static int do_load(void *p)
{
	struct load_args *a = p;
	struct sw_load_opts opts = {.no_symbols = a->no_symbols, .quiet = 1};

	return sw_report_load(a->rep, &a->path, 1, &opts);
}

static int do_gate(void *p)
{
	/* The JUnit file goes to a scratch file, never /dev/null: gate
	 * writes it to a temporary name and renames it over the target, and
	 * as root that replaced /dev/null with a regular file machine-wide. */
	char junit[4200];
	int rc;
	char *argv[] = {"gate",
			"--max-stall",
			"1ms",
			"--max-blocking",
			"1ms",
			"--no-blocking",
			"--max-lag-p99",
			"1ms",
			"--junit",
			junit,
			"-q",
			NULL};

	snprintf(junit, sizeof(junit), "%s/tmp/fuzz-regress-junit.%d.xml",
		 getenv("SW_BUILD") && *getenv("SW_BUILD") ? getenv("SW_BUILD")
							   : "build",
		 (int)getpid());
	rc = sw_gate_judge(p, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
	unlink(junit);
	return rc;
}

/* Exactly one line, starting "stallwatch", as the charter asks. */
static void assert_one_line_error(const char *file, const char *err)
{
	const char *nl = strchr(err, '\n');

	ck_assert_msg(!strncmp(err, "stallwatch", 10),
		      "%s: refused without a 'stallwatch...' message: '%s'",
		      file, err);
	ck_assert_msg(nl && nl[1] == 0, "%s: refused with not one line: '%s'",
		      file, err);
}

static void assert_no_controls(const char *file, const char *what,
			       const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		ck_assert_msg(!(c < 0x20 && c != '\n') && c != 0x7f,
			      "%s: %s output holds control byte 0x%02x at %zu",
			      file, what, c, i);
	}
}

static void check_writers(const char *file, const struct sw_report *rep,
			  const char *tmp)
{
	FILE *out;
	json_t *j;
	json_error_t jerr;
	char *text, *path = malloc(strlen(tmp) + 16), *log;
	size_t len;

	/* Text without colour: no control characters. */
	sprintf(path, "%s/out.txt", tmp);
	out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(sw_write_text(rep, out, 0), 0);
	fclose(out);
	text = slurp(path, &len);
	assert_no_controls(file, "text", text, len);
	free(text);

	/* JSON: valid. */
	sprintf(path, "%s/out.json", tmp);
	out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(sw_write_json(rep, out), 0);
	fclose(out);
	j = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);
	ck_assert_msg(j != NULL, "%s: JSON output does not parse: %s (line %d)",
		      file, jerr.text, jerr.line);
	json_decref(j);

	/* The rest: no crash, no error on a writable stream. */
	out = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(sw_write_text(rep, out, 1), 0);
	ck_assert_int_eq(sw_write_folded(rep, out), 0);
	ck_assert_int_eq(sw_write_html(rep, out), 0);
	ck_assert_int_eq(sw_write_chrome(rep, out), 0);
	fclose(out);

	/* The gate: every budget at 1 ms; its verdict lines are text too. */
	sprintf(path, "%s/gate.txt", tmp);
	with_fd_to(1, path, do_gate, (void *)rep);
	log = slurp(path, &len);
	assert_no_controls(file, "gate", log, len);
	free(log);
	free(path);
}

/* Returns 1 when the file loaded. */
static int run_one(const char *path, const char *name, int no_symbols,
		   const char *tmp)
{
	struct sw_report rep;
	struct load_args a = {&rep, (char *)path, no_symbols};
	char *errpath = malloc(strlen(tmp) + 16), *err;
	int rc;

	sprintf(errpath, "%s/stderr", tmp);
	rc = with_fd_to(2, errpath, do_load, &a);
	err = slurp(errpath, NULL);
	free(errpath);
	ck_assert_msg(rc == 0 || rc == -1, "%s: sw_report_load returned %d",
		      name, rc);
	if (rc != 0) {
		assert_one_line_error(name, err);
		free(err);
		return 0;
	}
	free(err);
	check_writers(name, &rep, tmp);
	sw_report_free(&rep);
	return 1;
}

static int is_trace_name(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && !strcmp(name + n - 8, ".swtrace");
}

/*
 * Every file of a directory.  Seeds named *.swtrace in the corpus are
 * real or well-formed traces and must load; anything else (regression
 * inputs, perf maps) may be refused.
 */
static void run_dir(const char *rel, int no_symbols, int traces_must_load)
{
	const char *dir = sw_t_src(rel);
	char tmp[4096], path[8192];
	struct dirent *de;
	DIR *d;
	int files = 0;

	snprintf(tmp, sizeof(tmp), "%s", sw_t_tmpdir("fuzzregress"));
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot list %s", dir);
	while ((de = readdir(d)) != NULL) {
		int loaded;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		loaded = run_one(path, de->d_name, no_symbols, tmp);
		if (traces_must_load && is_trace_name(de->d_name))
			ck_assert_msg(loaded, "%s: a seed trace did not load",
				      de->d_name);
		files++;
	}
	closedir(d);
	fprintf(stderr, "fuzz_regress: %d files in %s (%s)\n", files, rel,
		no_symbols ? "no symbols" : "symbols");
}

START_TEST(test_regress_fast)
{
	run_dir("tests/fuzz/regress", 1, 0);
}
END_TEST

START_TEST(test_regress_symbols)
{
	run_dir("tests/fuzz/regress", 0, 0);
}
END_TEST

START_TEST(test_corpus_fast)
{
	run_dir("tests/fuzz/corpus", 1, 1);
}
END_TEST

/* Perf maps in the corpus load on their own, and lookups stay in bounds. */
START_TEST(test_corpus_perfmaps)
{
	const char *dir = sw_t_src("tests/fuzz/corpus");
	char path[8192];
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct sw_perfmap *pm;

		if (len < 8 || strcmp(de->d_name + len - 8, ".perfmap"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		pm = sw_perfmap_load(path);
		ck_assert_msg(pm != NULL, "%s: did not load", de->d_name);
		sw_perfmap_lookup(pm, 0);
		sw_perfmap_lookup(pm, 0x40001000);
		sw_perfmap_lookup(pm, UINT64_MAX);
		sw_perfmap_free(pm);
		n++;
	}
	closedir(d);
	ck_assert_int_gt(n, 0);
}
END_TEST

/*
 * Special files where the analyzer expects regular ones.
 *
 * Named pipes where the analyzer expects files: a trace, the perf map
 * beside it, a module a trace names.  Opening a FIFO for reading blocks
 * until someone writes, so a careless open() hangs `stallwatch report`
 * (and a CI gate) forever on a crafted directory or trace.  Each case must
 * finish (the test case's timeout catches a hang) and either report or
 * refuse with one line.
 */
static void fifo_case(const char *name, int make_trace, const char *fifo_rel,
		      const char *module_path, int no_symbols)
{
	char dir[4096], path[4200], fifo[4200];
	struct sw_report rep;
	struct sw_load_opts opts = {.no_symbols = no_symbols, .quiet = 1};
	char *paths[1] = {dir};
	int rc;

	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir(name));
	if (make_trace) {
		static const uint64_t ips[] = {0x400100, 0x400200};
		struct sw_segment seg = {0x400000, 0x401000, 0, 5, 0};
		struct tb b;
		struct tb_ev e;

		tb_begin(&b, 42, "prog", 4, "prog");
		tb_module(&b, module_path ? module_path : "/bin/true", 0,
			  0x400000, &seg, 1, NULL, 0, SW_MOD_MAIN);
		tb_loop(&b, 1, 42, 1000, "prog");
		memset(&e, 0, sizeof(e));
		e.kind = SW_EV_CALL;
		e.call = 1;
		e.tid = 42;
		e.loop_id = 1;
		e.start_ns = 2000;
		e.duration_ns = 100000000;
		e.ips = ips;
		e.nips = 2;
		tb_event(&b, &e);
		tb_end(&b, 200000000);
		snprintf(path, sizeof(path), "%s/prog.42.swtrace", dir);
		ck_assert_int_eq(tb_write(&b, path), 0);
		tb_free(&b);
	}
	if (fifo_rel) {
		snprintf(fifo, sizeof(fifo), "%s/%s", dir, fifo_rel);
		ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	}
	rc = sw_report_load(&rep, paths, 1, &opts);
	if (rc == 0)
		sw_report_free(&rep);
}

START_TEST(test_fifo_trace)
{
	/* `stallwatch report DIR` where DIR holds a FIFO named *.swtrace */
	fifo_case("fifo-trace", 1, "evil.7.swtrace", NULL, 1);
}
END_TEST

START_TEST(test_fifo_perfmap)
{
	/* a FIFO where the JIT perf map of a trace would be */
	fifo_case("fifo-perfmap", 1, "prog.42.perfmap", NULL, 1);
}
END_TEST

START_TEST(test_fifo_module)
{
	/* a trace naming a FIFO as one of its modules (symbols on) */
	char fifo[4200];

	snprintf(fifo, sizeof(fifo), "%s/mod.so", sw_t_build("tmp"));
	unlink(fifo);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	fifo_case("fifo-module", 1, NULL, fifo, 0);
	unlink(fifo);
}
END_TEST

/* A perf map of NUL bytes: /dev/zero, or a sparse file (a regular file
 * that costs nothing to make).  A line reader that counts strlen() of
 * what fgets() returned never sees its byte budget grow and never ends. */
static void perfmap_nuls(const char *name, const char *make)
{
	char dir[4096], map[4200], *out = NULL;
	struct sw_perfmap *pm;

	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir(name));
	snprintf(map, sizeof(map), "%s/prog.42.perfmap", dir);
	ck_assert_msg(sw_t_sh(&out, make, map) == 0, "%s: %s", make, out);
	free(out);
	pm = sw_perfmap_load(map);
	if (pm) {
		sw_perfmap_lookup(pm, 0x1000);
		sw_perfmap_free(pm);
	}
}

START_TEST(test_perfmap_dev_zero)
{
	perfmap_nuls("pm-zero", "ln -s /dev/zero '%s'");
}
END_TEST

START_TEST(test_perfmap_sparse)
{
	perfmap_nuls("pm-sparse", "truncate -s 64G '%s'");
}
END_TEST

Suite *sw_suite_fuzz_regress(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("inputs");
	TCase *fifo = tcase_create("special_files");

	/* A hang is the bug: fail fast. */
	tcase_set_timeout(fifo, 10);
	tcase_add_test(fifo, test_fifo_trace);
	tcase_add_test(fifo, test_fifo_perfmap);
	tcase_add_test(fifo, test_fifo_module);
	tcase_add_test(fifo, test_perfmap_dev_zero);
	tcase_add_test(fifo, test_perfmap_sparse);
	suite_add_tcase(s, fifo);

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_regress_fast);
	tcase_add_test(tc, test_regress_symbols);
	tcase_add_test(tc, test_corpus_fast);
	tcase_add_test(tc, test_corpus_perfmaps);
	suite_add_tcase(s, tc);
	return s;
}
