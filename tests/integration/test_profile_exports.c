/*
 * test_profile_exports.c - the profile exports of a real run: a C epoll
 * loop whose callback sleeps, under the shim.  `report --format pprof`
 * decodes with protobuf-c into a stack whose function slow_callback has
 * its source file and line; `--format speedscope` names the same frame
 * with its file and line among its shared frames.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../support.h"
#include "profile.pb-c.h"

#define SW sw_t_build("stallwatch")

static const char *traced_run(void)
{
	const char *dir = sw_t_tmpdir("profile-exports");

	ck_assert_int_eq(sw_t_sh(NULL, "'%s' run -q -o '%s' -- '%s' 2 150", SW,
				 dir, sw_t_build("tests/progs/epoll_sleep")),
			 0);
	return dir;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

START_TEST(pprof_of_a_real_run_names_the_callback)
{
	const char *dir = traced_run();
	char path[4200], *gz;
	size_t len, i, k;
	uint8_t *raw = malloc(16 << 20);
	z_stream z;
	Perftools__Profiles__Profile *p;
	int found = 0;

	snprintf(path, sizeof(path), "%s/stalls.pb.gz", dir);
	ck_assert_int_eq(sw_t_sh(NULL, "'%s' report -q -f pprof -o '%s' '%s'",
				 SW, path, dir),
			 0);
	gz = sw_t_slurp(path, &len);
	ck_assert_ptr_nonnull(gz);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (uint8_t *)gz;
	z.avail_in = (uInt)len;
	z.next_out = raw;
	z.avail_out = 16 << 20;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	p = perftools__profiles__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	ck_assert_ptr_nonnull(p);
	/* a sample holding slow_callback (epoll_sleep.c:24), blocked 300 ms */
	for (i = 0; i < p->n_sample && !found; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		for (k = 0; k < s->n_location_id; k++) {
			const Perftools__Profiles__Location *loc =
			    p->location[s->location_id[k] - 1];
			const Perftools__Profiles__Function *fn =
			    p->function
				[loc->line[loc->n_line - 1]->function_id - 1];

			if (strcmp(p->string_table[fn->name], "slow_callback"))
				continue;
			ck_assert(ends_with(p->string_table[fn->filename],
					    "epoll_sleep.c"));
			ck_assert_int_eq(loc->line[loc->n_line - 1]->line, 24);
			ck_assert_int_ge(s->value[2], 250 * 1000000ll);
			found = 1;
		}
	}
	ck_assert_msg(found, "no slow_callback frame in the profile");
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
	free(gz);
}
END_TEST

START_TEST(speedscope_of_a_real_run_names_the_callback)
{
	const char *dir = traced_run();
	char *out = NULL;
	json_t *root, *frames, *f;
	size_t i;
	int found = 0;

	ck_assert_int_eq(
	    sw_t_sh(&out, "'%s' report -q -f speedscope '%s'", SW, dir), 0);
	root = json_loads(out, 0, NULL);
	ck_assert_ptr_nonnull(root);
	frames = json_object_get(json_object_get(root, "shared"), "frames");
	json_array_foreach (frames, i, f) {
		const char *name =
		    json_string_value(json_object_get(f, "name"));
		const char *file =
		    json_string_value(json_object_get(f, "file"));

		if (name && !strcmp(name, "slow_callback") && file &&
		    ends_with(file, "epoll_sleep.c") &&
		    json_integer_value(json_object_get(f, "line")) == 24)
			found = 1;
	}
	ck_assert_msg(found, "no slow_callback frame:\n%s", out);
	json_decref(root);
	free(out);
}
END_TEST

Suite *sw_suite_profile_exports(void)
{
	Suite *s = suite_create("profile_exports");
	TCase *tc = tcase_create("real_run");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pprof_of_a_real_run_names_the_callback);
	tcase_add_test(tc, speedscope_of_a_real_run_names_the_callback);
	suite_add_tcase(s, tc);
	return s;
}
