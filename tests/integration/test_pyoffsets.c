/*
 * test_pyoffsets.c - the CPython offsets in preload/pylayout.h, checked
 * against each installed interpreter's own headers.
 *
 * For every version found (pyenv's 3.9-3.13, Debian's python3), compile
 * tests/progs/python/pyoffsets_probe.c against that version's headers
 * (internal ones included, -DPy_BUILD_CORE) and compare every value it
 * prints with our table; and every value our table has must have been
 * printed (checked) for that version.
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SW_PYLAYOUT_FIELDS
#include "../../preload/pylayout.h"
#include "../support.h"

#define NFIELDS (sizeof(sw_pylayout_fields) / sizeof(sw_pylayout_fields[0]))

static int field_value(const struct sw_pylayout *L, size_t f)
{
	const struct sw_pylayout_field *d = &sw_pylayout_fields[f];
	int v;

	memcpy(&v,
	       (const char *)(d->dbg ? (const void *)&sw_py313_dbg
				     : (const void *)L) +
		   d->off,
	       sizeof(v));
	return v;
}

/* Returns a malloc'ed failure message, or NULL. */
static char *check_version(const char *python)
{
	char *inc = NULL, *out = NULL, *msg = NULL, bin[4200];
	const struct sw_pylayout *L = NULL;
	char checked[NFIELDS];
	char *line, *save = NULL;
	size_t f, len = 0, cap = 4000;
	int minor = -1;

	memset(checked, 0, sizeof(checked));
	if (sw_t_sh(&inc,
		    "'%s' -c 'import sysconfig; "
		    "print(sysconfig.get_paths()[\"include\"])'",
		    python) != 0 ||
	    !inc) {
		free(inc);
		return strdup("cannot ask it for its include directory");
	}
	inc[strcspn(inc, "\n")] = 0;
	if (sw_t_sh(NULL, "test -f '%s/Python.h' && test -d '%s/internal'", inc,
		    inc) != 0) {
		sw_t_skipf("%s: no headers in %s", python, inc);
		free(inc);
		return NULL;
	}
	snprintf(bin, sizeof(bin), "%s", sw_t_build("tmp/pyoffsets_probe"));
	if (sw_t_sh(&out,
		    "mkdir -p \"$(dirname '%s')\" && cc -DPy_BUILD_CORE "
		    "-I'%s' -I'%s/internal' -o '%s' '%s' && '%s'",
		    bin, inc, inc, bin,
		    sw_t_src("tests/progs/python/pyoffsets_probe.c"),
		    bin) != 0) {
		if (asprintf(&msg, "probe failed: %.1500s", out ? out : "") < 0)
			msg = NULL;
		free(out);
		free(inc);
		return msg ? msg : strdup("probe failed");
	}
	free(inc);
	msg = calloc(1, cap);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		long value;

		if (sscanf(line, "%63s %ld", name, &value) != 2)
			continue;
		if (!strcmp(name, "version_minor")) {
			minor = (int)value;
			L = sw_pylayout_find(3, minor);
			if (!L) {
				len += (size_t)snprintf(msg + len, cap - len,
							" no layout for 3.%d",
							minor);
				break;
			}
			continue;
		}
		for (f = 0; f < NFIELDS; f++)
			if (!strcmp(sw_pylayout_fields[f].name, name))
				break;
		if (!L || f == NFIELDS) {
			len += (size_t)snprintf(msg + len,
						len < cap ? cap - len : 0,
						" unknown %s", name);
			continue;
		}
		checked[f] = 1;
		if (field_value(L, f) != value)
			len += (size_t)snprintf(msg + len,
						len < cap ? cap - len : 0,
						" %s: table %d, headers %ld",
						name, field_value(L, f), value);
	}
	/* Everything the table uses for this version was checked. */
	for (f = 0; L && f < NFIELDS; f++) {
		if (checked[f] || (sw_pylayout_fields[f].dbg && minor != 13))
			continue;
		if (field_value(L, f) >= 0)
			len += (size_t)snprintf(
			    msg + len, len < cap ? cap - len : 0,
			    " %s=%d not checked", sw_pylayout_fields[f].name,
			    field_value(L, f));
	}
	free(out);
	fprintf(stderr, "pyoffsets %-40s 3.%d %s%s\n", python, minor,
		msg[0] ? "FAIL:" : "ok", msg);
	if (!msg[0]) {
		free(msg);
		return NULL;
	}
	return msg;
}

START_TEST(offsets_match_headers)
{
	char fails[8000] = "", pat[600], root[512] = "", *out = NULL;
	const char *pythons[8];
	glob_t globs[5];
	size_t len = 0;
	int n = 0, minor, i;

	if (sw_t_sh(&out, "pyenv root 2>/dev/null") == 0 && out && *out)
		snprintf(root, sizeof(root), "%.*s", (int)strcspn(out, "\n"),
			 out);
	else if (getenv("HOME"))
		snprintf(root, sizeof(root), "%s/.pyenv", getenv("HOME"));
	free(out);
	for (minor = 9; minor <= 13; minor++) {
		glob_t *g = &globs[minor - 9];

		snprintf(pat, sizeof(pat), "%s/versions/3.%d.*/bin/python3",
			 root, minor);
		if (glob(pat, 0, NULL, g) == 0 && g->gl_pathc)
			pythons[n++] = g->gl_pathv[g->gl_pathc - 1];
		else
			sw_t_skipf("no pyenv CPython 3.%d", minor);
	}
	if (sw_t_have("/usr/bin/python3"))
		pythons[n++] = "/usr/bin/python3";
	if (!n)
		sw_t_skip("no CPython installed");
	for (i = 0; i < n; i++) {
		char *bad = check_version(pythons[i]);

		if (bad)
			len += (size_t)snprintf(
			    fails + len,
			    len < sizeof(fails) ? sizeof(fails) - len : 0,
			    "\n  %s:%s", pythons[i], bad);
		free(bad);
	}
	for (minor = 9; minor <= 13; minor++)
		globfree(&globs[minor - 9]);
	ck_assert_msg(!fails[0], "offsets differ from the headers:%s", fails);
}
END_TEST

Suite *sw_suite_pyoffsets(void)
{
	Suite *s = suite_create("pyoffsets");
	TCase *tc = tcase_create("headers");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, offsets_match_headers);
	suite_add_tcase(s, tc);
	return s;
}
