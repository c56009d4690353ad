/*
 * test_docs.c - the manual cannot silently go stale: every man page in
 * doc/ renders without a groff warning and carries its own name, every
 * command `stallwatch --help` lists has a page naming each of its
 * options, every STALLWATCH_* setting the shim knows is in
 * stallwatch-settings(7), and `make install-man` puts the pages where
 * man(1) finds them.
 */
#include <check.h>
#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define SW sw_t_build("stallwatch")

/* Every doc/NAME.[157]; at least the five pages this suite knows of. */
static glob_t man_pages(void)
{
	glob_t g;
	int rc;

	memset(&g, 0, sizeof(g));
	rc = glob(sw_t_src("doc/*.[157]"), 0, NULL, &g);
	ck_assert_msg(rc == 0, "no man pages in %s", sw_t_src("doc"));
	ck_assert_msg(g.gl_pathc >= 5, "only %zu man pages in doc/",
		      g.gl_pathc);
	return g;
}

/* A page as plain text on one very long line per paragraph, so that no
 * option or name is split by filling.  Caller frees. */
static char *render(const char *page)
{
	char *out = NULL;
	int rc = sw_t_sh(&out,
			 "groff -man -Tascii -P-cbou -rLL=2000n '%s' "
			 "2>/dev/null",
			 page);

	ck_assert_msg(rc == 0 && out && *out, "groff %s: rc %d", page, rc);
	return out;
}

START_TEST(test_pages_render_without_warnings)
{
	glob_t g = man_pages();
	size_t i;

	for (i = 0; i < g.gl_pathc; i++) {
		const char *page = g.gl_pathv[i];
		const char *base = strrchr(page, '/') + 1;
		const char *dot = strrchr(base, '.');
		char *out = NULL, want[256];
		size_t j, n = (size_t)(dot - base);
		int rc;

		/* -ww: every warning; -z: no output, only the diagnostics. */
		rc = sw_t_sh(&out, "groff -man -Tutf8 -ww -z '%s'", page);
		ck_assert_msg(rc == 0 && out && !*out, "%s: groff rc %d:\n%s",
			      page, rc, out ? out : "");
		free(out);

		/* man(1) finds a page by the name and section in .TH. */
		ck_assert(n < sizeof(want) / 2);
		for (j = 0; j < n; j++)
			want[j] = (char)toupper((unsigned char)base[j]);
		want[n] = 0;
		out = sw_t_slurp(page, NULL);
		ck_assert_ptr_nonnull(out);
		{
			char *th = !strncmp(out, ".TH ", 4)
				       ? out - 1
				       : strstr(out, "\n.TH ");
			char name[256], sect[16];

			ck_assert_msg(th, "%s: no .TH line", page);
			ck_assert_int_eq(
			    sscanf(th + 5, "%255s %15s", name, sect), 2);
			/* "STALLWATCH\-RUN" in roff is STALLWATCH-RUN. */
			for (j = 0; name[j]; j++)
				if (name[j] == '\\' && name[j + 1] == '-')
					memmove(name + j, name + j + 1,
						strlen(name + j));
			ck_assert_msg(!strcmp(name, want),
				      "%s: .TH says %s, the file name %s", page,
				      name, want);
			ck_assert_msg(!strcmp(sect, dot + 1),
				      "%s: .TH section %s", page, sect);
		}
		free(out);
	}
	globfree(&g);
}
END_TEST

/*
 * The long options a --help text lists: lines of the form
 * "  -f, --format FMT ..." or "      --no-symbols ...".  A line indented
 * deeper continues the text of the option above it.
 */
static size_t help_options(const char *help, char opts[][64], size_t max)
{
	const char *line = help;
	size_t n = 0;

	while (line && *line && n < max) {
		const char *p = line, *end = strchr(line, '\n');

		while (*p == ' ')
			p++;
		if (p - line > 8) {
			line = end ? end + 1 : NULL;
			continue;
		}
		if (p > line && p[0] == '-' && p[1] != '-' &&
		    isalnum((unsigned char)p[1]) && p[2] == ',' && p[3] == ' ')
			p += 4;
		if (p > line && !strncmp(p, "--", 2) &&
		    isalpha((unsigned char)p[2])) {
			size_t len = 2;

			while (isalnum((unsigned char)p[len]) || p[len] == '-')
				len++;
			if (len < 64 && strncmp(p, "--help", len) &&
			    strncmp(p, "--version", len)) {
				memcpy(opts[n], p, len);
				opts[n++][len] = 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return n;
}

START_TEST(test_every_command_has_a_page)
{
	char *usage = NULL, *overview;
	const char *line;
	int rc, ncmds = 0;

	rc = sw_t_sh(&usage, "'%s' --help", SW);
	ck_assert_msg(rc == 0 && usage, "stallwatch --help: rc %d", rc);
	line = strstr(usage, "commands:\n");
	ck_assert_msg(line, "no commands: list in stallwatch --help:\n%s",
		      usage);
	overview = render(sw_t_src("doc/stallwatch.1"));
	for (line = strchr(line, '\n') + 1; *line == ' ';
	     line = strchr(line, '\n') + 1) {
		char cmd[64], page[128], *help = NULL, *text;
		char opts[64][64];
		size_t i, nopts;

		if (sscanf(line, " %63[a-z]", cmd) != 1 || !strcmp(cmd, "help"))
			continue;
		ncmds++;
		snprintf(page, sizeof(page), "doc/stallwatch-%s.1", cmd);
		text = sw_t_slurp(sw_t_src(page), NULL);
		ck_assert_msg(text, "stallwatch %s has no man page %s", cmd,
			      page);
		free(text);
		{
			char ref[128];

			snprintf(ref, sizeof(ref), "stallwatch-%s(1)", cmd);
			ck_assert_msg(strstr(overview, ref),
				      "stallwatch(1) does not point at %s",
				      ref);
		}

		/* Every option of the command is in its page. */
		rc = sw_t_sh(&help, "'%s' %s --help", SW, cmd);
		ck_assert_msg(rc == 0 && help, "stallwatch %s --help: rc %d",
			      cmd, rc);
		text = render(sw_t_src(page));
		nopts = help_options(help, opts, 64);
		ck_assert_msg(nopts > 0 || !strcmp(cmd, "preload"),
			      "no options found in stallwatch %s --help", cmd);
		for (i = 0; i < nopts; i++)
			ck_assert_msg(strstr(text, opts[i]),
				      "%s does not document %s %s", page, cmd,
				      opts[i]);
		free(text);
		free(help);
	}
	ck_assert_msg(ncmds >= 3, "only %d commands in stallwatch --help",
		      ncmds);
	free(overview);
	free(usage);
}
END_TEST

/* Every STALLWATCH_* name in the shim's sources, once each. */
static size_t shim_settings(char names[][64], size_t max)
{
	char *out = NULL, *p, *nl;
	size_t n = 0;
	int rc;

	rc = sw_t_sh(&out,
		     "cd '%s' && grep -ohE 'STALLWATCH_[A-Z0-9_]*[A-Z0-9]' "
		     "preload/*.c preload/*.h include/*.h | sort -u",
		     sw_t_src("."));
	ck_assert_msg(rc == 0 && out, "grep of the shim's sources: rc %d", rc);
	for (p = out; *p && n < max; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = 0;
		if (strlen(p) < 64)
			strcpy(names[n++], p);
	}
	free(out);
	return n;
}

START_TEST(test_every_setting_is_documented)
{
	char names[128][64], *text;
	size_t i, n = shim_settings(names, 128);

	/* The shim reads at least these; fewer means the scan broke. */
	ck_assert_msg(n >= 12, "found only %zu STALLWATCH_ names", n);
	text = render(sw_t_src("doc/stallwatch-settings.7"));
	for (i = 0; i < n; i++)
		ck_assert_msg(strstr(text, names[i]),
			      "%s is read by the shim but missing from "
			      "stallwatch-settings(7)",
			      names[i]);
	/* The settings the project names, with their defaults. */
	ck_assert_ptr_nonnull(strstr(text, "STALLWATCH_MAX_SIZE=size"));
	ck_assert_ptr_nonnull(strstr(text, "64M"));
	free(text);
}
END_TEST

START_TEST(test_installed_pages_found_by_man)
{
	const char *prefix = sw_t_tmpdir("docs-install");
	glob_t g = man_pages();
	char *out = NULL;
	size_t i;
	int rc;

	rc = sw_t_sh(&out,
		     "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C '%s' "
		     "install-man PREFIX='%s' DESTDIR=",
		     sw_t_src("."), prefix);
	ck_assert_msg(rc == 0, "make install-man: rc %d:\n%s", rc,
		      out ? out : "");
	free(out);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		char name[128];
		size_t n = (size_t)(strrchr(base, '.') - base);

		ck_assert(n < sizeof(name));
		memcpy(name, base, n);
		name[n] = 0;
		/* man -w prints where it found the page: under the prefix. */
		rc = sw_t_sh(&out, "MANPATH='%s/share/man' man -w %s %s",
			     prefix, strrchr(base, '.') + 1, name);
		ck_assert_msg(rc == 0 && out && strstr(out, prefix),
			      "man -w %s: rc %d: %s", name, rc, out ? out : "");
		free(out);
	}
	globfree(&g);
	/* And renders it, as a user would read it. */
	rc = sw_t_sh(&out,
		     "MANPATH='%s/share/man' MANWIDTH=80 man "
		     "stallwatch-settings 2>&1 | cat",
		     prefix);
	ck_assert_msg(rc == 0 && out && strstr(out, "STALLWATCH_THRESHOLD"),
		      "man stallwatch-settings: %s", out ? out : "");
	free(out);
}
END_TEST

/*
 * The layout of the code is read from the code: every source file starts
 * with "NAME - what it is for." (scripts/layout.sh), and the shim's
 * wrappers include only the call protocol and the resolver
 * (doc/design.md, "Code layout").
 */
START_TEST(test_every_file_says_what_it_is_for)
{
	char *out = NULL;
	int rc;

	rc = sw_t_sh(&out, "'%s' --check 2>&1", sw_t_src("scripts/layout.sh"));
	ck_assert_msg(rc == 0, "scripts/layout.sh --check: rc %d:\n%s", rc,
		      out ? out : "");
	free(out);
	out = NULL;
	/* Some listing at all: the script found the files. */
	rc = sw_t_sh(&out, "'%s' preload | wc -l",
		     sw_t_src("scripts/layout.sh"));
	ck_assert_msg(rc == 0 && out && atoi(out) >= 40,
		      "layout.sh lists %s files of preload/", out ? out : "no");
	free(out);
	out = NULL;
	rc = sw_t_sh(&out,
		     "cd '%s' && grep -H '^#include \"' preload/wrap_*.c | "
		     "grep -v -e '\"call.h\"$' -e '\"real.h\"$' || true",
		     sw_t_src("."));
	ck_assert_msg(rc == 0 && out && !*out,
		      "wrappers that include more than call.h and real.h:\n%s",
		      out ? out : "");
	free(out);
}
END_TEST

Suite *sw_suite_man_pages(void)
{
	Suite *s = suite_create("man_pages");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pages_render_without_warnings);
	tcase_add_test(tc, test_every_command_has_a_page);
	tcase_add_test(tc, test_every_setting_is_documented);
	tcase_add_test(tc, test_installed_pages_found_by_man);
	tcase_add_test(tc, test_every_file_says_what_it_is_for);
	suite_add_tcase(s, tc);
	return s;
}
