/*
 * test_html_report.c - the HTML report of real traces, loaded in headless
 * Chromium: the page draws its flame graph and timeline without a script
 * error or a blocked load, and a script-injecting file name
 * (`<img src=x onerror=alert(1)>.py`) comes out as inert text.
 *
 * The page's script writes data-ok="flame:N timeline:M errors:K" on
 * <body> once it has drawn (K counts window errors); --dump-dom gives the
 * DOM after the load event, so the test reads it there.  The screenshot
 * goes to $SW_BUILD/tmp/report.png for people to look at.
 * Skipped with a message when no Chromium is installed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support.h"

#define HOSTILE "<img src=x onerror=alert(1)>.py"
#define CHROMIUM_FLAGS                                                         \
	"--headless --no-sandbox --disable-gpu --disable-quic --no-first-run " \
	"--disable-background-networking --disable-component-update "          \
	"--disable-sync --hide-scrollbars --enable-logging=stderr --v=0"

static const char *chromium(void)
{
	if (sw_t_have("chromium"))
		return "chromium";
	if (sw_t_have("chromium-browser"))
		return "chromium-browser";
	return NULL;
}

/* Appended to a copy of the page: drive its UI the way a person would,
 * then report what happened on <body data-ui="...">. */
static const char ui_script[] =
    "<script>(function () {\n"
    "var r = [], q = function (s) { return document.querySelectorAll(s); };\n"
    "q('.bar')[0].click();\n"
    "r.push('detail:' + q('#detail .site').length);\n"
    "var fns = q('#flame .fn'), n0 = fns.length;\n"
    "fns[n0 - 1].dispatchEvent(new MouseEvent('mousemove', {clientX: 50, "
    "clientY: 50}));\n"
    "var tip = document.getElementById('tip');\n"
    "r.push('tip:' + (tip.style.display === 'block' && tip.textContent.length "
    "> 0 ? 1 : 0));\n"
    "fns[n0 - 1].click();\n"
    "r.push('zoom:' + n0 + '>' + q('#flame .fn').length);\n"
    "var s = document.getElementById('search');\n"
    "s.value = 'nanosleep';\n"
    "s.dispatchEvent(new Event('input'));\n"
    "r.push('hits:' + q('#flame .fn.hit').length);\n"
    "q('#sites tr.click')[0].click();\n"
    "r.push('stack:' + q('#detail .stack li').length);\n"
    "document.body.setAttribute('data-ui', r.join(' '));\n"
    "})();</script>\n";

static void ui_check(const char *browser, const char *page)
{
	char ui[4300], *html = NULL, *dom = NULL, *end, *at;
	int rc, detail = -1, tip = -1, before = -1, after = -1, hits = -1,
		stack = -1;
	FILE *f;

	rc = sw_t_sh(&html, "cat '%s'", page);
	ck_assert_int_eq(rc, 0);
	end = strstr(html, "</body>");
	ck_assert_ptr_nonnull(end);
	snprintf(ui, sizeof(ui), "%s.ui.html", page);
	f = fopen(ui, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(html, 1, (size_t)(end - html), f);
	fputs(ui_script, f);
	fputs(end, f);
	fclose(f);
	rc = sw_t_sh(
	    &dom,
	    "d=$(mktemp -d) && timeout 90 %s " CHROMIUM_FLAGS
	    " --user-data-dir=\"$d\" "
	    "--dump-dom 'file://%s' 2>/dev/null; s=$?; rm -rf \"$d\"; exit $s",
	    browser, ui);
	ck_assert_msg(rc == 0 && dom, "chromium --dump-dom: rc %d", rc);
	at = strstr(dom, "data-ui=\"");
	ck_assert_msg(at, "the UI script did not finish: %.2000s", dom);
	ck_assert_int_eq(
	    sscanf(at,
		   "data-ui=\"detail:%d tip:%d zoom:%d&gt;%d hits:%d stack:%d",
		   &detail, &tip, &before, &after, &hits, &stack),
	    6);
	ck_assert_msg(detail >= 1, "a stall's details show %d sites", detail);
	ck_assert_msg(tip == 1, "no tooltip");
	ck_assert_msg(after >= 1 && after < before, "zoom: %d frames, then %d",
		      before, after);
	ck_assert_msg(hits >= 1, "search for nanosleep highlighted %d frames",
		      hits);
	ck_assert_msg(stack >= 1, "a site's stack shows %d frames", stack);
	ck_assert_ptr_null(strstr(dom, "errors:1"));
	free(html);
	free(dom);
}

START_TEST(page_draws_and_stays_inert)
{
	const char *browser = chromium();
	char sw[4096], dir[4096], page[4200], png[4200], cmd[4400],
	    *out = NULL, *dom = NULL, *log = NULL, *ok;
	/* Debian's python3: `python3` on PATH may be a pyenv shim script */
	const char *python =
	    sw_t_have("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
	int rc, flame = -1, timeline = -1, errors = -1,
		have_py = sw_t_have(python);

	snprintf(sw, sizeof(sw), "%s", sw_t_build("stallwatch"));
	snprintf(dir, sizeof(dir), "%s", sw_t_tmpdir("html"));
	snprintf(page, sizeof(page), "%s/report.html", dir);
	snprintf(png, sizeof(png), "%s", sw_t_build("tmp/report.png"));
	/* a Python coroutine blocking in a file with a hostile name, and a C
	 * loop: two processes on one page */
	if (have_py) {
		sw_t_sh(NULL, "cp '%s' '%s/" HOSTILE "'",
			sw_t_src("tests/progs/gate_block.py"), dir);
		snprintf(cmd, sizeof(cmd), "%s '%s/" HOSTILE "'", python, dir);
		rc = sw_t_sh(&out, "'%s' run -q -o '%s/traces' -- %s", sw, dir,
			     cmd);
		ck_assert_msg(rc == 0, "python under stallwatch run: rc %d: %s",
			      rc, out);
		free(out);
	}
	rc = sw_t_sh(&out, "'%s' run -q -o '%s/traces' -- '%s'", sw, dir,
		     sw_t_build("tests/progs/gate_block"));
	ck_assert_msg(rc == 0, "gate_block under stallwatch run: rc %d: %s", rc,
		      out);
	free(out);
	rc = sw_t_sh(&out, "'%s' report -q --format html -o '%s' '%s/traces'/*",
		     sw, page, dir);
	ck_assert_msg(rc == 0, "report --format html: rc %d: %s", rc, out);
	free(out);
	/* the raw bytes of the hostile name never appear in the file */
	rc = sw_t_sh(&out, "grep -c '<img' '%s'", page);
	ck_assert_msg(rc == 1 && atoi(out) == 0, "raw markup in the page: %s",
		      out);
	free(out);

	if (!browser) {
		sw_t_skip("chromium not installed: the page was checked as "
			  "text only");
		return;
	}
	rc = sw_t_sh(
	    &dom,
	    "d=$(mktemp -d) && timeout 90 %s " CHROMIUM_FLAGS
	    " --user-data-dir=\"$d\" "
	    "--dump-dom 'file://%s' 2>'%s.log'; s=$?; rm -rf \"$d\"; exit $s",
	    browser, page, page);
	ck_assert_msg(rc == 0 && dom, "chromium --dump-dom: rc %d", rc);
	ok = strstr(dom, "data-ok=\"");
	ck_assert_msg(ok, "the page's script did not finish: %.3000s", dom);
	ck_assert_int_eq(sscanf(ok, "data-ok=\"flame:%d timeline:%d errors:%d",
				&flame, &timeline, &errors),
			 3);
	ck_assert_msg(errors == 0, "%d script errors", errors);
	ck_assert_msg(flame >= 3, "flame graph drew %d frames", flame);
	ck_assert_msg(timeline >= (have_py ? 2 : 1),
		      "timeline drew %d stall bars", timeline);
	/* the hostile name is text in the DOM, never an element */
	ck_assert_msg(!strstr(dom, "<img"),
		      "an <img> element made it into the DOM");
	if (have_py)
		ck_assert_msg(
		    strstr(dom, "&lt;img src=x onerror=alert(1)&gt;.py"),
		    "the hostile file name is not shown as text");
	/* the page reacts: a click on a stall bar shows its stacks, a click
	 * on a frame zooms, the search highlights, a row shows its stack */
	ui_check(browser, page);
	/* no console error and nothing refused by the page's CSP */
	sw_t_sh(&log, "cat '%s.log'", page);
	ck_assert_msg(!strstr(log, "Uncaught") && !strstr(log, "Refused to"),
		      "console errors: %.3000s", log);

	rc = sw_t_sh(
	    &out,
	    "rm -f '%s'; d=$(mktemp -d) && timeout 90 %s " CHROMIUM_FLAGS
	    " --user-data-dir=\"$d\" --window-size=1280,1100 --screenshot='%s' "
	    "'file://%s' >/dev/null 2>&1; s=$?; rm -rf \"$d\"; test -s '%s' && "
	    "exit $s",
	    png, browser, png, page, png);
	ck_assert_msg(rc == 0, "screenshot failed: rc %d %s", rc, out);
	free(out);
	free(dom);
	free(log);
}
END_TEST

/* The page's script and style sheet are real files: the script parses as
 * JavaScript on its own, and the built page carries both byte for byte. */
START_TEST(page_assets_are_real_files)
{
	char *out = NULL, *page = NULL, *js, *css;
	const char *dir = sw_t_tmpdir("html_assets");
	int rc;

	if (!sw_t_have("node")) {
		sw_t_skip("node not installed: page.js not parsed");
	} else {
		rc = sw_t_sh(&out, "node --check '%s'",
			     sw_t_src("analyzer/html/page.js"));
		ck_assert_msg(rc == 0, "page.js does not parse: %s", out);
		free(out);
	}
	rc = sw_t_sh(&out,
		     "'%s' report -q --no-symbols -f html -o '%s/r.html' '%s'",
		     sw_t_build("stallwatch"), dir,
		     sw_t_src("tests/fuzz/corpus/real-py312-cpu.swtrace"));
	ck_assert_msg(rc == 0, "report: %s", out);
	free(out);
	{
		char path[4200];

		snprintf(path, sizeof(path), "%s/r.html", dir);
		page = sw_t_slurp(path, NULL);
	}
	js = sw_t_slurp(sw_t_src("analyzer/html/page.js"), NULL);
	css = sw_t_slurp(sw_t_src("analyzer/html/page.css"), NULL);
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(js);
	ck_assert_ptr_nonnull(css);
	ck_assert_ptr_nonnull(strstr(page, js));
	ck_assert_ptr_nonnull(strstr(page, css));
	free(page);
	free(js);
	free(css);
}
END_TEST

Suite *sw_suite_html_report(void)
{
	Suite *s = suite_create("html_report");
	TCase *tc = tcase_create("chromium");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, page_draws_and_stays_inert);
	tcase_add_test(tc, page_assets_are_real_files);
	suite_add_tcase(s, tc);
	return s;
}
