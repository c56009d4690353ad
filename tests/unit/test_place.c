/*
 * test_place.c - whose code a frame is (in_app), and the one place that
 * names a site, on stacks shaped like the ones real programs record.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/model.h"
#include "../../analyzer/place.h"

static struct sw_frame py(const char *fn, const char *file, int line)
{
	return (struct sw_frame){.lang = SW_LANG_PYTHON,
				 .function = (char *)fn,
				 .file = (char *)file,
				 .line = line};
}

static struct sw_frame js(const char *fn, const char *file, int line)
{
	return (struct sw_frame){.lang = SW_LANG_JS,
				 .function = (char *)fn,
				 .file = (char *)file,
				 .line = line};
}

static struct sw_frame nat(const char *fn, const char *module)
{
	return (struct sw_frame){.lang = SW_LANG_NATIVE,
				 .function = (char *)fn,
				 .module = (char *)module,
				 .rel_addr = 0x1234};
}

static void classify(struct sw_frame *f, size_t n, const struct sw_app_ctx *ctx)
{
	size_t i;

	for (i = 0; i < n; i++)
		f[i].in_app = sw_frame_in_app(&f[i], ctx);
}

START_TEST(python_stdlib_and_packages_are_not_app)
{
	struct sw_app_ctx ctx = {.main_module = "/usr/bin/python3.11",
				 .runtime = 1};
	struct sw_frame f;

	f = py("handler", "/srv/shop/app.py", 12);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 1);
	f = py("decode", "/usr/lib/python3.11/json/decoder.py", 337);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = py("create_connection",
	       "/root/.pyenv/versions/3.12.1/lib/python3.12/socket.py", 850);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = py("get", "/usr/lib/python3/dist-packages/requests/api.py", 73);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = py("get", "/venv/lib/python3.12/site-packages/requests/api.py", 73);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = py("main", "/home/ann/lib/python3-tools/main.py", 3);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 1);
	f = py("_find_and_load", "<frozen importlib._bootstrap>", 1);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	/* The interpreter's own native frames are not the program's, nor
	 * its libraries and installed extensions; the program's own C
	 * extension is. */
	f = nat("_PyEval_EvalFrameDefault", "/usr/bin/python3.11");
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	{
		struct sw_app_ctx pyenv = {
		    .main_module =
			"/root/.pyenv/versions/3.12.1/bin/python3.12",
		    .runtime = 1};

		f = nat(
		    "_PyEval_EvalFrameDefault",
		    "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0");
		ck_assert_int_eq(sw_frame_in_app(&f, &pyenv), 0);
		f = nat("_json_scanner",
			"/root/.pyenv/versions/3.12.1/lib/python3.12/"
			"lib-dynload/_json.cpython-312-x86_64-linux-gnu.so");
		ck_assert_int_eq(sw_frame_in_app(&f, &pyenv), 0);
		f = nat("loop_run", "/venv/lib/python3.12/site-packages/uvloop/"
				    "loop.cpython-312-x86_64-linux-gnu.so");
		ck_assert_int_eq(sw_frame_in_app(&f, &pyenv), 0);
		f = nat("fast_checksum", "/srv/shop/_speedups.so");
		ck_assert_int_eq(sw_frame_in_app(&f, &pyenv), 1);
	}
}
END_TEST

START_TEST(js_core_and_node_modules_are_not_app)
{
	struct sw_app_ctx ctx = {.main_module = "/usr/bin/node", .runtime = 1};
	struct sw_frame f;

	f = js("loadCatalog", "/srv/shop/catalog.js", 3);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 1);
	f = js("readFileSync", "node:fs", 441);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = js("processTicksAndRejections", "internal/process/task_queues", 95);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = js("handle", "/srv/shop/node_modules/express/lib/router/layer.js",
	       95);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = nat("uv__io_poll", "/usr/bin/node");
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
}
END_TEST

START_TEST(native_program_and_its_libraries_are_app)
{
	struct sw_app_ctx ctx = {.main_module = "/usr/bin/redis-server"};
	struct sw_frame f;

	f = nat("rdbSave", "/usr/bin/redis-server");
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 1);
	f = nat("write", "/usr/lib/x86_64-linux-gnu/libc.so.6");
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = nat("lua_pcall", "/opt/shop/lib/libshop.so");
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 1);
	f = nat("__vdso_clock_gettime", "[vdso]");
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	f = nat("sw_wrap_read", "/usr/local/lib/stallwatch/libstallwatch.so");
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
}
END_TEST

START_TEST(app_options_override_and_last_wins)
{
	struct sw_app_rules r = {0};
	struct sw_app_ctx ctx = {
	    .main_module = "/usr/bin/python3.11", .runtime = 1, .rules = &r};
	struct sw_frame f =
	    py("get", "/usr/lib/python3/dist-packages/requests/api.py", 73);
	struct sw_frame g = py("helper", "/srv/shop/vendored/util.py", 5);

	ck_assert_int_eq(sw_app_option(&r, 'x', "ignored"), 0);
	ck_assert_int_eq(sw_app_option(&r, SW_OPT_APP, "*/requests/*"), 1);
	ck_assert_int_eq(sw_app_option(&r, SW_OPT_NOT_APP, "*/vendored/*"), 1);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 1);
	ck_assert_int_eq(sw_frame_in_app(&g, &ctx), 0);
	/* A later --not-app for the same frame wins over the --app. */
	sw_app_rules_add(&r, "*requests*", 0);
	ck_assert_int_eq(sw_frame_in_app(&f, &ctx), 0);
	sw_app_rules_free(&r);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(runtimes_are_recognised)
{
	ck_assert(sw_is_runtime("/usr/bin/python3.11", NULL));
	ck_assert(sw_is_runtime("/root/.pyenv/versions/3.12.1/bin/python3.12",
				"python"));
	ck_assert(sw_is_runtime("/usr/bin/node", "node"));
	ck_assert(!sw_is_runtime("/usr/bin/redis-check-rdb", "redis-server"));
	ck_assert(!sw_is_runtime("/usr/sbin/nginx", "nginx"));
	ck_assert(!sw_is_runtime("/usr/bin/pythonic-tool", "pythonic-tool"));
}
END_TEST

START_TEST(python_place_names_handler_library_call_and_syscall)
{
	struct sw_app_ctx ctx = {.main_module = "/usr/bin/python3.11",
				 .runtime = 1};
	struct sw_frame f[] = {
	    nat("recv", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
	    nat("sock_recv_impl", "/usr/bin/python3.11"),
	    py("readinto", "/usr/lib/python3.11/socket.py", 706),
	    py("send", "/usr/lib/python3/dist-packages/requests/adapters.py",
	       486),
	    py("get", "/usr/lib/python3/dist-packages/requests/api.py", 73),
	    py("handle_order", "/srv/shop/handlers.py", 41),
	    py("run", "/usr/lib/python3.11/asyncio/events.py", 80),
	};
	struct sw_place p;
	char *key;

	classify(f, 7, &ctx);
	sw_place_compute(f, 7, "recv", &p);
	ck_assert_str_eq(p.text, "handle_order (handlers.py:41) \xe2\x86\x92 "
				 "requests.get \xe2\x86\x92 recv");
	ck_assert_str_eq(p.function, "handle_order");
	ck_assert_str_eq(p.file, "/srv/shop/handlers.py");
	ck_assert_int_eq(p.line, 41);
	ck_assert_str_eq(p.what, "requests.get");
	ck_assert_int_eq(p.frame, 5);
	ck_assert_int_eq(p.in_app, 1);
	/* A CPU burn's key leaves the line out: one function, one site. */
	key = sw_place_key(&p, 1);
	ck_assert_ptr_null(strstr(key, "41"));
	free(key);
	sw_place_free(&p);

	/* The same handler burning in json: the stdlib package names it. */
	{
		struct sw_frame g[] = {
		    nat(NULL, "/usr/bin/python3.11"),
		    py("raw_decode", "/usr/lib/python3.11/json/decoder.py",
		       353),
		    py("decode", "/usr/lib/python3.11/json/decoder.py", 337),
		    py("loads", "/usr/lib/python3.11/json/__init__.py", 346),
		    py("handle_order", "/srv/shop/handlers.py", 44),
		};

		classify(g, 5, &ctx);
		sw_place_compute(g, 5, NULL, &p);
		ck_assert_str_eq(p.text, "handle_order (handlers.py:44) "
					 "\xe2\x86\x92 json.loads");
		sw_place_free(&p);
	}
}
END_TEST

START_TEST(js_place_names_function_and_builtin)
{
	struct sw_app_ctx ctx = {.main_module = "/usr/bin/node", .runtime = 1};
	struct sw_frame f[] = {
	    nat("uv_fs_read", "/usr/bin/node"),
	    js("readFileSync", "node:fs", 441),
	    js("loadCatalog", "/srv/shop/catalog.js", 3),
	    js("(anonymous)", "/srv/shop/server.js", 20),
	    js("emit", "node:events", 517),
	};
	struct sw_place p;

	classify(f, 5, &ctx);
	sw_place_compute(f, 5, "read", &p);
	ck_assert_str_eq(p.text, "loadCatalog (catalog.js:3) \xe2\x86\x92 "
				 "fs.readFileSync \xe2\x86\x92 read");
	ck_assert_int_eq(p.line, 3);
	sw_place_free(&p);
}
END_TEST

START_TEST(native_place_is_three_named_frames_of_the_program)
{
	struct sw_app_ctx ctx = {.main_module = "/usr/bin/redis-server"};
	struct sw_frame f[] = {
	    nat("dictNext", "/usr/bin/redis-server"),
	    nat("rdbSaveRio", "/usr/bin/redis-server"),
	    nat("rdbSave", "/usr/bin/redis-server"),
	    nat("saveCommand", "/usr/bin/redis-server"),
	    nat("__libc_start_main", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
	};
	struct sw_frame g[] = {
	    nat("clock_nanosleep", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
	    nat("__libc_start_main", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
	};
	struct sw_place p;

	classify(f, 5, &ctx);
	sw_place_compute(f, 5, NULL, &p);
	ck_assert_str_eq(p.text,
			 "dictNext \xe2\x86\x90 rdbSaveRio \xe2\x86\x90 "
			 "rdbSave");
	ck_assert_str_eq(p.function, "dictNext");
	sw_place_free(&p);
	/* Nothing in app: the innermost named frames, after the call. */
	classify(g, 2, &ctx);
	sw_place_compute(g, 2, "nanosleep", &p);
	ck_assert_str_eq(p.text, "nanosleep \xe2\x86\x90 clock_nanosleep "
				 "\xe2\x86\x90 __libc_start_main");
	ck_assert_int_eq(p.in_app, 0);
	sw_place_free(&p);
	sw_place_compute(NULL, 0, "read", &p);
	ck_assert_str_eq(p.text, "read");
	ck_assert_int_eq(p.frame, -1);
	sw_place_free(&p);
}
END_TEST

START_TEST(perf_map_names_split_without_tier_markers)
{
	struct sw_frame f;

	sw_js_split("JS:~loadCatalog /srv/shop/catalog.js:2:21", &f);
	ck_assert_str_eq(f.function, "loadCatalog");
	ck_assert_str_eq(f.file, "/srv/shop/catalog.js");
	ck_assert_int_eq(f.line, 2);
	free(f.function);
	free(f.file);
	sw_js_split("LazyCompile:*loadCatalog /srv/shop/catalog.js:2", &f);
	ck_assert_str_eq(f.function, "loadCatalog");
	ck_assert_int_eq(f.line, 2);
	free(f.function);
	free(f.file);
	sw_js_split("JS:^ node:internal/main/run_main_module:1:1", &f);
	ck_assert_str_eq(f.function, "(anonymous)");
	ck_assert_str_eq(f.file, "node:internal/main/run_main_module");
	ck_assert_int_eq(f.line, 1);
	free(f.function);
	free(f.file);
	sw_js_split("JS:+render file:///srv/shop/view.mjs:7:3", &f);
	ck_assert_str_eq(f.function, "render");
	ck_assert_str_eq(f.file, "/srv/shop/view.mjs");
	free(f.function);
	free(f.file);
	sw_js_split("Builtin:ArrayPrototypeJoin", &f);
	ck_assert_str_eq(f.function, "Builtin:ArrayPrototypeJoin");
	ck_assert_ptr_null(f.file);
	free(f.function);
}
END_TEST

Suite *sw_suite_in_app(void)
{
	Suite *s = suite_create("in_app");
	TCase *tc = tcase_create("classify");

	tcase_add_test(tc, python_stdlib_and_packages_are_not_app);
	tcase_add_test(tc, js_core_and_node_modules_are_not_app);
	tcase_add_test(tc, native_program_and_its_libraries_are_app);
	tcase_add_test(tc, app_options_override_and_last_wins);
	tcase_add_test(tc, runtimes_are_recognised);
	suite_add_tcase(s, tc);
	return s;
}

Suite *sw_suite_place(void)
{
	Suite *s = suite_create("place");
	TCase *tc = tcase_create("place");

	tcase_add_test(tc, python_place_names_handler_library_call_and_syscall);
	tcase_add_test(tc, js_place_names_function_and_builtin);
	tcase_add_test(tc, native_place_is_three_named_frames_of_the_program);
	tcase_add_test(tc, perf_map_names_split_without_tier_markers);
	suite_add_tcase(s, tc);
	return s;
}
