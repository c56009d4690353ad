/*
 * test_security.c - what the shim writes, where, and as whom; and what the
 * analyzer prints from hostile traces.
 *
 *   mode          trace files are 0600 whatever the umask;
 *   symlinks      symlinks planted at the names the shim will use (known in
 *                 advance: the pid survives exec) are never followed; with
 *                 every candidate name taken, the shim records nothing and
 *                 says so once;
 *   default dir   /tmp/stallwatch-UID planted by someone else (a symlink,
 *                 another owner, group/world-writable) is refused;
 *   names         no argv[0] makes the shim write outside its directory;
 *   setuid/gid    the shim, loaded into a setuid or setgid program (a
 *                 setuid library in a system directory is the one way
 *                 glibc preloads into one), stays inert;
 *   escaping      a real Python program with hostile names (terminal
 *                 escapes, HTML, quotes) and a hand-made hostile trace:
 *                 text and gate output hold no control characters, JSON
 *                 and Chrome output parse and keep the names exactly, HTML
 *                 holds them only escaped (and, with Chromium, renders
 *                 them as text).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support.h"

#define PROG(name) sw_t_build("tests/progs/" name)
#define EVIL_PY                                                       \
	"\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script><img src=x " \
	"onerror=alert(2)>\"'\\&\xe2\x80\xa8"

/* Number of directory entries (not . and ..) in dir, by `ls -A`. */
static int entries(const char *dir)
{
	char *out = NULL;
	int n = -1;

	if (sw_t_sh(&out, "ls -A '%s' | wc -l", dir) == 0 && out)
		n = atoi(out);
	free(out);
	return n;
}

/*
 * Programs that run as another user must sit where that user can reach
 * them: a checkout under a 0700 home directory (root's /root) is not.  A
 * fresh 0755 directory under /tmp, with copies of the shim and sec_id;
 * the caller removes it.
 */
static void reachable_copies(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/sw-sec-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(sw_t_sh(NULL,
				 "install -m 755 '%s' '%s/sec_id' && "
				 "install -m 644 '%s' '%s/libstallwatch.so'",
				 PROG("sec_id"), dir,
				 sw_t_build("libstallwatch.so"), dir),
			 0);
}

/* ---- file mode ----------------------------------------------------------- */

START_TEST(test_trace_mode_0600)
{
	const char *dir = sw_t_tmpdir("sec-mode");
	char *out = NULL;
	int rc;

	rc = sw_t_sh(
	    &out,
	    "umask 000; STALLWATCH_OUTPUT='%s/out' LD_PRELOAD='%s' '%s' "
	    ">/dev/null 2>&1; stat -c '%%a %%F' '%s'/out/*.swtrace",
	    dir, sw_t_build("libstallwatch.so"), PROG("sec_id"), dir);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_msg(!strcmp(out, "600 regular file\n"),
		      "trace file under umask 000: %s", out);
	free(out);
	/* The directory the shim made itself is private too. */
	rc = sw_t_sh(&out, "stat -c '%%a' '%s/out'", dir);
	ck_assert_msg(rc == 0 && !strcmp(out, "700\n"),
		      "output directory made under umask 000: %s", out);
	free(out);
}
END_TEST

/* ---- planted symlinks ---------------------------------------------------- */

START_TEST(test_planted_symlinks)
{
	const char *tmp = sw_t_tmpdir("sec-symlink");
	char dir[4096], *out = NULL, *victim;
	int rc;

	snprintf(dir, sizeof(dir), "%s", tmp);
	ck_assert_int_eq(sw_t_sh(NULL,
				 "mkdir '%s/out' && printf 'precious\\n' "
				 ">'%s/victim'",
				 dir, dir),
			 0);
	/* <comm>.<pid>.swtrace -> an existing file, .1 -> a dangling name. */
	rc = sw_t_sh(
	    &out,
	    "'%s' -p '%s/out' sec_id '%s/victim' '%s/dangling' "
	    "-e LD_PRELOAD='%s' -e STALLWATCH_OUTPUT='%s/out' sec_id '%s'",
	    PROG("sec_exec"), dir, dir, dir, sw_t_build("libstallwatch.so"),
	    dir, PROG("sec_id"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "sec_id: done"));
	ck_assert_ptr_nonnull(strstr(out, "shim=1"));
	ck_assert_int_eq(sw_t_count_lines(out, "stallwatch"), 0);
	free(out);
	{
		char path[4200];

		snprintf(path, sizeof(path), "%s/victim", dir);
		victim = sw_t_slurp(path, NULL);
		ck_assert_msg(victim && !strcmp(victim, "precious\n"),
			      "the symlink's target was written: '%s'",
			      victim ? victim : "(gone)");
		free(victim);
		snprintf(path, sizeof(path), "%s/dangling", dir);
		ck_assert_msg(access(path, F_OK) != 0,
			      "a dangling symlink's target was created");
	}
	/* The trace went to the next free name, as a regular file. */
	ck_assert_int_eq(
	    sw_t_sh(NULL,
		    "test \"$(find '%s/out' -name 'sec_id.*.2.swtrace' "
		    "-type f -perm 600 | wc -l)\" = 1",
		    dir),
	    0);
}
END_TEST

START_TEST(test_every_name_taken)
{
	const char *tmp = sw_t_tmpdir("sec-allnames");
	char dir[4096], targets[100 * 80], *out = NULL;
	size_t len = 0;
	int rc, i;

	snprintf(dir, sizeof(dir), "%s", tmp);
	ck_assert_int_eq(sw_t_sh(NULL, "mkdir '%s/out'", dir), 0);
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(targets + len, sizeof(targets) - len,
					" ../gone%d", i);
	rc = sw_t_sh(&out,
		     "'%s' -p '%s/out' sec_id %s -e LD_PRELOAD='%s' "
		     "-e STALLWATCH_OUTPUT='%s/out' sec_id '%s'",
		     PROG("sec_exec"), dir, targets,
		     sw_t_build("libstallwatch.so"), dir, PROG("sec_id"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "sec_id: done"));
	/* One warning, no file, nothing created through the links. */
	ck_assert_msg(sw_t_count_lines(out, "stallwatch") == 1,
		      "want one warning: %s", out);
	ck_assert_int_eq(
	    sw_t_sh(NULL, "test \"$(find '%s' -type f | wc -l)\" = 0", dir), 0);
	free(out);
}
END_TEST

/* ---- the default directory in /tmp --------------------------------------- */

/* Run sec_id as `uid` with no STALLWATCH_OUTPUT: the shim's default
 * directory is /tmp/stallwatch-<uid>, planted by root beforehand. */
static void default_dir_refused(const char *plant, const char *what)
{
	const unsigned uid = 54321;
	char def[64], copies[64], *out = NULL;
	int rc;

	reachable_copies(copies, sizeof(copies));
	snprintf(def, sizeof(def), "/tmp/stallwatch-%u", uid);
	sw_t_sh(NULL, "rm -rf '%s' /tmp/sw-sec-elsewhere", def);
	rc = sw_t_sh(&out, "D='%s'; %s", def, plant);
	ck_assert_msg(rc == 0, "%s: planting failed: %s", what, out);
	free(out);
	rc = sw_t_sh(&out,
		     "setpriv --reuid=%u --regid=%u --clear-groups env -u "
		     "STALLWATCH_OUTPUT LD_PRELOAD='%s/libstallwatch.so' "
		     "'%s/sec_id'",
		     uid, uid, copies, copies);
	sw_t_sh(NULL, "rm -rf '%s'", copies);
	ck_assert_msg(rc == 0, "%s: rc %d: %s", what, rc, out);
	ck_assert_ptr_nonnull(strstr(out, "sec_id: done"));
	ck_assert_msg(sw_t_count_lines(out, "stallwatch") == 1,
		      "%s: want one warning: %s", what, out);
	ck_assert_int_eq(sw_t_sh(NULL,
				 "test \"$(find '%s/' /tmp/sw-sec-elsewhere "
				 "-name '*.swtrace' 2>/dev/null | wc -l)\" = 0",
				 def),
			 0);
	free(out);
	sw_t_sh(NULL, "rm -rf '%s' /tmp/sw-sec-elsewhere", def);
}

START_TEST(test_default_dir_planted)
{
	if (geteuid() != 0 || !sw_t_have("setpriv")) {
		sw_t_skip("needs root and setpriv: planted default directory "
			  "not tested");
		return;
	}
	/* plant: a shell command; $D is the default directory's path. */
	default_dir_refused("mkdir -m 777 /tmp/sw-sec-elsewhere && "
			    "ln -s /tmp/sw-sec-elsewhere \"$D\"",
			    "a symlink");
	default_dir_refused("mkdir -m 777 \"$D\"", "root's world-writable dir");
	default_dir_refused("mkdir -m 755 \"$D\" && chown 54321 \"$D\" && "
			    "chmod 777 \"$D\"",
			    "the user's own, but world-writable");
}
END_TEST

/* ---- file names ---------------------------------------------------------- */

START_TEST(test_names_stay_inside)
{
	/* As printf %b arguments (\\033 is ESC). */
	static const char *const argv0s[] = {
	    "../../escape",
	    "..",
	    ".",
	    "",
	    "x/",
	    "/",
	    "a/../../..",
	    "-",
	    "\\033[2J<b>",
	    "name with spaces",
	    "....",
	    "a\\nb",
	};
	const char *tmp = sw_t_tmpdir("sec-names");
	char dir[4096];
	size_t i;

	snprintf(dir, sizeof(dir), "%s", tmp);
	for (i = 0; i < sizeof(argv0s) / sizeof(argv0s[0]); i++) {
		char *out = NULL;
		int rc;

		sw_t_sh(NULL, "rm -rf '%s/out' && mkdir -p '%s/out/sub'", dir,
			dir);
		/* From out/sub, "../.." would reach dir. */
		rc = sw_t_sh(
		    &out,
		    "cd '%s/out/sub' && '%s' -e LD_PRELOAD='%s' "
		    "-e STALLWATCH_OUTPUT=. \"$(printf '%%b' '%s')\" '%s'",
		    dir, PROG("sec_exec"), sw_t_build("libstallwatch.so"),
		    argv0s[i], PROG("sec_id"));
		ck_assert_msg(rc == 0, "argv[0] '%s': rc %d: %s", argv0s[i], rc,
			      out);
		free(out);
		/* Exactly one file, in the directory, with a plain name. */
		ck_assert_msg(entries(dir) == 1,
			      "argv[0] '%s': %d entries in %s", argv0s[i],
			      entries(dir), dir);
		rc = sw_t_sh(
		    &out,
		    "cd '%s/out' && ls -lA . sub && test \"$(ls -A | wc -l)\" "
		    "= 1 "
		    "&& test \"$(ls -A sub | grep -c -E "
		    "'^[A-Za-z0-9_-][A-Za-z0-9._-]*\\.[0-9]+(\\.[0-9]+)?"
		    "\\.swtrace$')\" = 1 && test \"$(ls -A sub | wc -l)\" = 1",
		    dir);
		ck_assert_msg(rc == 0, "argv[0] '%s': files: %s", argv0s[i],
			      out);
		free(out);
	}
}
END_TEST

/* ---- setuid / setgid ----------------------------------------------------- */

static const char *system_libdir(void)
{
	static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu",
					   "/lib/x86_64-linux-gnu",
					   "/usr/lib64", "/usr/lib"};
	size_t i;
	struct stat st;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	return NULL;
}

/* Run bin as nobody with the setuid copy of the shim preloaded by name. */
static int run_as_nobody(const char *lib, const char *bin, const char *outdir,
			 char **out)
{
	return sw_t_sh(out,
		       "setpriv --reuid=65534 --regid=65534 --clear-groups "
		       "env LD_PRELOAD='%s' SEC_SHIM_NAME='%s' "
		       "STALLWATCH_OUTPUT='%s' '%s'",
		       lib, lib, outdir, bin);
}

START_TEST(test_setuid_setgid_inert)
{
	const char *libdir = system_libdir();
	char dir[4096], lib[128], libpath[4300], outdir[4200];
	int rc;

	if (geteuid() != 0 || !sw_t_have("setpriv") || !libdir) {
		sw_t_skip("needs root, setpriv and a system library directory: "
			  "setuid/setgid not tested");
		return;
	}
	/* nobody must reach the programs: not under a 0700 checkout */
	reachable_copies(dir, sizeof(dir));
	snprintf(outdir, sizeof(outdir), "%s/out", dir);
	/* glibc preloads into a secure (AT_SECURE) process only a library
	 * named without a slash, found in a system directory, and itself
	 * set-user-ID: install such a copy of the shim for this test. */
	snprintf(lib, sizeof(lib), "libswsectest-%d.so", (int)getpid());
	snprintf(libpath, sizeof(libpath), "%s/%s", libdir, lib);
	/* Copies left by runs that were killed. */
	sw_t_sh(NULL,
		"find '%s' -maxdepth 1 -name 'libswsectest-*.so' -mmin +10 "
		"-delete",
		libdir);
	rc = sw_t_sh(NULL,
		     "install -m 4755 '%s' '%s' && "
		     "mkdir -m 777 '%s' && "
		     "install -m 755 '%s' '%s/plain' && "
		     "install -m 4755 -o root '%s' '%s/suid' && "
		     "install -m 2755 -g root '%s' '%s/sgid'",
		     sw_t_build("libstallwatch.so"), libpath, outdir,
		     PROG("sec_id"), dir, PROG("sec_id"), dir, PROG("sec_id"),
		     dir);
	ck_assert_int_eq(rc, 0);

	/* Run all three, remove the setuid library, then judge: a failed
	 * assertion must not leave it in the system directory. */
	{
		static const char *const kinds[3] = {"plain", "suid", "sgid"};
		char bin[4200], *outs[3];
		int rcs[3], files[3], i;

		for (i = 0; i < 3; i++) {
			snprintf(bin, sizeof(bin), "%s/%s", dir, kinds[i]);
			rcs[i] = run_as_nobody(lib, bin, outdir, &outs[i]);
			files[i] = entries(outdir);
			sw_t_sh(NULL, "rm -f '%s'/*", outdir);
		}
		unlink(libpath);
		sw_t_sh(NULL, "rm -rf '%s'", dir);
		/* Control: the same preload into a plain program records. */
		ck_assert_msg(rcs[0] == 0 && strstr(outs[0], "secure=0 shim=1"),
			      "plain: rc %d: %s", rcs[0], outs[0]);
		ck_assert_msg(files[0] == 1, "the control run left %d traces",
			      files[0]);
		for (i = 1; i < 3; i++) {
			ck_assert_msg(
			    rcs[i] == 0 && strstr(outs[i], "secure=1 shim=1") &&
				strstr(outs[i], "sec_id: done"),
			    "%s: rc %d: %s", kinds[i], rcs[i], outs[i]);
			ck_assert_msg(
			    sw_t_count_lines(outs[i], "stallwatch") == 0,
			    "%s: the shim spoke: %s", kinds[i], outs[i]);
			ck_assert_msg(files[i] == 0,
				      "%s: the shim wrote %d files", kinds[i],
				      files[i]);
		}
		for (i = 0; i < 3; i++)
			free(outs[i]);
	}
}
END_TEST

/* ---- escaping ------------------------------------------------------------ */

static void assert_no_controls(const char *what, const char *s, size_t len)
{
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		ck_assert_msg(!(c < 0x20 && c != '\n') && c != 0x7f,
			      "%s: control byte 0x%02x at %zu: ...%.80s", what,
			      c, i, s + (i > 40 ? i - 40 : 0));
		/* C1 controls in UTF-8: C2 80..C2 9F (CSI is C2 9B) */
		ck_assert_msg(!(c == 0xc2 && i + 1 < len &&
				(unsigned char)s[i + 1] >= 0x80 &&
				(unsigned char)s[i + 1] <= 0x9f),
			      "%s: C1 control at %zu", what, i);
	}
}

/* Does any string in the JSON value equal s (recursively)? */
static int json_has_string(json_t *v, const char *s)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v))
		return strcmp(json_string_value(v), s) == 0;
	if (json_is_array(v)) {
		json_array_foreach (v, i, x)
			if (json_has_string(x, s))
				return 1;
	}
	if (json_is_object(v)) {
		json_object_foreach (v, key, x)
			if (json_has_string(x, s))
				return 1;
	}
	return 0;
}

/* Every format from the traces in `in`; `names` must survive JSON exactly
 * (NULL entries skipped). */
static void check_formats(const char *in, const char *tmp,
			  const char *const *names, size_t nnames)
{
	char path[4300], *s, *out = NULL;
	size_t len, i;
	json_t *j;
	json_error_t err;
	int rc;

	/* Text, forced colour off and on (colour codes are ours, not the
	 * trace's: checked with colour off). */
	snprintf(path, sizeof(path), "%s/r.txt", tmp);
	rc = sw_t_sh(NULL, "'%s' report --color never '%s' >'%s' 2>&1",
		     sw_t_build("stallwatch"), in, path);
	s = sw_t_slurp(path, &len);
	ck_assert_msg(rc == 0, "text report: rc %d: %s", rc, s);
	assert_no_controls("text report", s, len);
	free(s);

	/* The gate's lines, and its GitHub annotations. */
	snprintf(path, sizeof(path), "%s/g.txt", tmp);
	rc = sw_t_sh(
	    NULL,
	    "GITHUB_ACTIONS=true '%s' gate --max-stall 1ms --no-blocking "
	    "--max-lag-p99 1ms --junit '%s/j.xml' '%s' >'%s' 2>&1",
	    sw_t_build("stallwatch"), tmp, in, path);
	s = sw_t_slurp(path, &len);
	ck_assert_msg(rc == 1, "gate: rc %d: %s", rc, s);
	assert_no_controls("gate output", s, len);
	free(s);
	/* JUnit XML: well-formed enough for xmllint when present. */
	if (sw_t_have("xmllint")) {
		rc = sw_t_sh(&out, "xmllint --noout '%s/j.xml'", tmp);
		ck_assert_msg(rc == 0, "junit xml: %s", out);
		free(out);
	}

	/* JSON: parses, names kept exactly. */
	snprintf(path, sizeof(path), "%s/r.json", tmp);
	rc = sw_t_sh(NULL, "'%s' report --format json '%s' >'%s'",
		     sw_t_build("stallwatch"), in, path);
	ck_assert_int_eq(rc, 0);
	j = json_load_file(path, JSON_DECODE_INT_AS_REAL, &err);
	ck_assert_msg(j != NULL, "JSON does not parse: %s", err.text);
	for (i = 0; i < nnames; i++)
		if (names[i])
			ck_assert_msg(json_has_string(j, names[i]),
				      "JSON lost the name %zu", i);
	json_decref(j);

	/* Chrome trace: JSON too. */
	snprintf(path, sizeof(path), "%s/r.chrome.json", tmp);
	rc = sw_t_sh(NULL, "'%s' report --format chrome '%s' >'%s'",
		     sw_t_build("stallwatch"), in, path);
	ck_assert_int_eq(rc, 0);
	j = json_load_file(path, JSON_DECODE_INT_AS_REAL, &err);
	ck_assert_msg(j != NULL, "Chrome trace JSON does not parse: %s",
		      err.text);
	json_decref(j);

	/* Folded stacks: one "frames count" per line, no control bytes. */
	snprintf(path, sizeof(path), "%s/r.folded", tmp);
	rc = sw_t_sh(NULL, "'%s' report --format folded '%s' >'%s'",
		     sw_t_build("stallwatch"), in, path);
	ck_assert_int_eq(rc, 0);
	s = sw_t_slurp(path, &len);
	assert_no_controls("folded", s, len);
	free(s);
	rc = sw_t_sh(&out, "grep -v -E ' [0-9]+$' '%s'", path);
	ck_assert_msg(rc == 1, "folded lines without a count: %s", out);
	free(out);

	/* HTML: the hostile markup only ever appears escaped. */
	snprintf(path, sizeof(path), "%s/r.html", tmp);
	rc = sw_t_sh(NULL, "'%s' report --format html '%s' >'%s'",
		     sw_t_build("stallwatch"), in, path);
	ck_assert_int_eq(rc, 0);
	s = sw_t_slurp(path, &len);
	ck_assert_ptr_null(strstr(s, "<img src=x"));
	ck_assert_ptr_null(strstr(s, "alert(1)</script>"));
	ck_assert_ptr_null(strstr(s, "<b>x</b>"));
	ck_assert_ptr_null(strstr(s, "\x1b"));
	ck_assert_ptr_null(strstr(s, "\xe2\x80\xa8")); /* breaks old JS */
	free(s);
}

/* With Chromium: the page renders the names as text; nothing runs. */
static void check_html_in_browser(const char *tmp)
{
	const char *browser = sw_t_have("chromium") ? "chromium"
			      : sw_t_have("chromium-browser")
				  ? "chromium-browser"
				  : NULL;
	char *dom = NULL;
	int rc;

	if (!browser) {
		sw_t_skip("no chromium: hostile HTML not rendered");
		return;
	}
	rc = sw_t_sh(
	    &dom,
	    "d=$(mktemp -d) && timeout 90 %s --headless --no-sandbox "
	    "--disable-gpu --no-first-run --disable-background-networking "
	    "--user-data-dir=\"$d\" --dump-dom 'file://%s/r.html' "
	    "2>/dev/null; s=$?; rm -rf \"$d\"; exit $s",
	    browser, tmp);
	ck_assert_msg(rc == 0 && dom, "chromium: rc %d", rc);
	ck_assert_msg(strstr(dom, "errors:0") != NULL,
		      "the page did not draw cleanly: %.300s",
		      strstr(dom, "data-ok") ? strstr(dom, "data-ok") : dom);
	/* Injected elements would appear as tags in the DOM; as text they
	 * are escaped. */
	ck_assert_ptr_null(strstr(dom, "<img src=\"x\""));
	ck_assert_ptr_null(strstr(dom, "<b>x</b>"));
	ck_assert_ptr_nonnull(
	    strstr(dom, "&lt;img src=x onerror=alert(2)&gt;"));
	free(dom);
}

START_TEST(test_escaping_real_python)
{
	const char *tmp = sw_t_tmpdir("sec-escape-py");
	char dir[4096], py[4096], *out = NULL;
	/* The coroutine's file name and qualified name (3.11+). */
	const char *names[2] = {EVIL_PY ".py", EVIL_PY ".q"};
	int rc;

	snprintf(dir, sizeof(dir), "%s", tmp);
	rc = sw_t_sh(
	    &out,
	    "ls -d \"$(pyenv root 2>/dev/null)\"/versions/3.12*/bin/python3 "
	    "2>/dev/null | head -1");
	snprintf(py, sizeof(py), "%s",
		 out && *out ? out : "/usr/bin/python3\n");
	py[strcspn(py, "\n")] = 0;
	free(out);
	if (!sw_t_have(py)) {
		sw_t_skip("no python3: hostile Python names not tested");
		return;
	}
	rc = sw_t_sh(&out,
		     "'%s' run -q -o '%s/traces' -- '%s' '%s' "
		     "\"$(printf '\\033[2J<script>alert(3)</script>')\"",
		     sw_t_build("stallwatch"), dir, py,
		     sw_t_src("tests/progs/sec_hostile.py"));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
	{
		char in[4200];

		snprintf(in, sizeof(in), "%s/traces", dir);
		check_formats(in, dir, names, 2);
	}
	check_html_in_browser(dir);
}
END_TEST

START_TEST(test_escaping_hand_trace)
{
	const char *tmp = sw_t_tmpdir("sec-escape-hand");
	char dir[4096];
	/* Names in tests/fuzz/mkseeds.c's hostile trace. */
	const char *names[] = {
	    "<script>alert(1)</script>\x1b]0;pwn\x07\"'\\",
	};

	snprintf(dir, sizeof(dir), "%s", tmp);
	check_formats(sw_t_src("tests/fuzz/corpus/hand-hostile.swtrace"), dir,
		      names, 1);
}
END_TEST

Suite *sw_suite_security(void)
{
	Suite *s = suite_create("security");
	TCase *files = tcase_create("files");
	TCase *priv = tcase_create("privileges");
	TCase *esc = tcase_create("escaping");

	tcase_set_timeout(files, 60);
	tcase_add_test(files, test_trace_mode_0600);
	tcase_add_test(files, test_planted_symlinks);
	tcase_add_test(files, test_every_name_taken);
	tcase_add_test(files, test_default_dir_planted);
	tcase_add_test(files, test_names_stay_inside);
	suite_add_tcase(s, files);

	tcase_set_timeout(priv, 60);
	tcase_add_test(priv, test_setuid_setgid_inert);
	suite_add_tcase(s, priv);

	tcase_set_timeout(esc, 120);
	tcase_add_test(esc, test_escaping_real_python);
	tcase_add_test(esc, test_escaping_hand_trace);
	suite_add_tcase(s, esc);
	return s;
}
