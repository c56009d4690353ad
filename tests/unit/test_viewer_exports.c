/*
 * test_viewer_exports.c - the exports that other tools read aggregate
 * stacks: Chrome trace events carry their stack in stackFrames/sf and
 * frame columns without per-event args (speedscope keys a slice by name
 * plus args), sorted and within a size cap; speedscope's own format shares
 * frames; pprof decodes with protobuf-c into functions, lines, labels and
 * the three value types.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../analyzer/model.h"
#include "../../include/sw_trace.h"
#include "profile.pb-c.h"
#include "report_fixture.h"

/* The stacks, innermost first: a sleep in a Python handler, a burn in
 * the renderer it calls. */
static struct sw_frame blk_frames[] = {
    SW_T_NATIVE("clock_nanosleep", SW_T_LIBC, 0x7f0000001000),
    SW_T_PYTHON("load_config", "/app/config.py", 7),
    SW_T_PYTHON("handler", "/app/web.py", 31),
    SW_T_NATIVE_SRC("main", "/src/main.c", 12, "/usr/bin/python3", 0x401000),
};
static struct sw_frame cpu_frames[] = {
    SW_T_PYTHON("render", "/app/web.py", 50),
    SW_T_PYTHON("handler", "/app/web.py", 33),
};
/* The same place reached from another handler: a second variant. */
static struct sw_frame blk_frames2[] = {
    SW_T_NATIVE("clock_nanosleep", SW_T_LIBC, 0x7f0000001000),
    SW_T_PYTHON("load_config", "/app/config.py", 7),
    SW_T_PYTHON("admin", "/app/web.py", 80),
};
static struct sw_variant blk_variants[] = {
    {.frames = blk_frames,
     .nframes = SW_T_LEN(blk_frames),
     .count = 1,
     .total_ns = 200000000},
    {.frames = blk_frames2,
     .nframes = SW_T_LEN(blk_frames2),
     .count = 1,
     .total_ns = 100000000},
};
static struct sw_site sites[] = {
    SW_T_SITE(SW_SITE_BLOCKING, "clock_nanosleep", 2, 300000000, 200000000,
	      blk_frames,
	      .place = {.text = "load_config (config.py:7) → clock_nanosleep"},
	      .variants = blk_variants, .nvariants = SW_T_LEN(blk_variants)),
    SW_T_SITE(SW_SITE_CPU, "loop turn", 3, 30000000, 10000000, cpu_frames),
};
static size_t st0_sites[] = {0};
static size_t st1_sites[] = {1, 0};
static struct sw_stall stalls[] = {
    SW_T_STALL(1500000000, 210000000, st0_sites, .blocked_ns = 200000000),
    SW_T_STALL(2000000000, 140000000, st1_sites, .blocked_ns = 100000000,
	       .cpu_ns = 30000000),
};
/* Each event stands for its own duration (total_ns); the second takes
 * the blocking site's second stack, and three 10 ms samples follow. */
static struct sw_event events[] = {
    SW_T_EVENT(1501000000, 200000000, 0, 0, 1, .total_ns = 200000000),
    SW_T_EVENT(2001000000, 100000000, 0, 1, 1, .total_ns = 100000000,
	       .variant = 1),
    SW_T_EVENT(2105000000, 10000000, 1, 1, 1, .total_ns = 10000000),
    SW_T_EVENT(2115000000, 10000000, 1, 1, 1, .total_ns = 10000000),
    SW_T_EVENT(2125000000, 10000000, 1, 1, 1, .total_ns = 10000000),
};
static struct sw_loop loops[] = {
    SW_T_LOOP("web"),
};
static struct sw_process procs[] = {
    SW_T_PROCESS("python3 web.py", loops,
		 .start_realtime_ns = 1700000000000000000ull),
};

static struct sw_report report(void)
{
	return SW_T_REPORT(procs, sites, stalls, events);
}

static char *capture_chrome(const struct sw_report *rep, uint64_t cap,
			    size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	ck_assert_int_eq(sw_write_chrome_capped(rep, m, cap), 0);
	fclose(m);
	return buf;
}

/* The stack of an sf id, outermost first, joined by " > ". */
static void sf_chain(json_t *frames, const char *id, char *out, size_t len)
{
	out[0] = 0;
	while (id) {
		json_t *f = json_object_get(frames, id);
		const char *name;
		size_t nl, ol = strlen(out), add;

		ck_assert_msg(f != NULL, "sf %s not in stackFrames", id);
		name = json_string_value(json_object_get(f, "name"));
		nl = strlen(name);
		add = nl + (ol ? 3 : 0);
		ck_assert(ol + add < len);
		/* prepend "name > " to what is there */
		memmove(out + add, out, ol + 1);
		memcpy(out, name, nl);
		if (ol)
			memcpy(out + nl, " > ", 3);
		id = json_string_value(json_object_get(f, "parent"));
	}
}

START_TEST(chrome_stacks_aggregate)
{
	struct sw_report rep = report();
	size_t len, i, nleaf = 0;
	char *out = capture_chrome(&rep, 0, &len), chain[2048];
	json_error_t err;
	json_t *root = json_loads(out, 0, &err), *evs, *frames, *e;
	double last_ts = -1;

	ck_assert_msg(root, "chrome JSON: %s (line %d)", err.text, err.line);
	evs = json_object_get(root, "traceEvents");
	frames = json_object_get(root, "stackFrames");
	ck_assert(json_is_array(evs) && json_is_object(frames));
	json_array_foreach (evs, i, e) {
		const char *ph = json_string_value(json_object_get(e, "ph"));
		const char *name =
		    json_string_value(json_object_get(e, "name"));
		const char *sf = json_string_value(json_object_get(e, "sf"));
		double ts;

		if (!strcmp(ph, "M"))
			continue;
		ck_assert_str_eq(ph, "X");
		/* speedscope keys slices by name + JSON(args): none */
		ck_assert_msg(json_object_get(e, "args") == NULL,
			      "event %s has args", name);
		ts = json_number_value(json_object_get(e, "ts"));
		ck_assert_msg(ts >= last_ts, "events not sorted at %s", name);
		last_ts = ts;
		if (!sf)
			continue;
		nleaf++;
		sf_chain(frames, sf, chain, sizeof(chain));
		if (!strcmp(name, "[blocking-call: clock_nanosleep]"))
			ck_assert_msg(
			    !strcmp(chain,
				    "main (/src/main.c:12) > handler "
				    "(/app/web.py:31) > load_config "
				    "(/app/config.py:7) > clock_nanosleep") ||
				!strcmp(chain,
					"admin (/app/web.py:80) > "
					"load_config (/app/config.py:7) > "
					"clock_nanosleep"),
			    "wrong stack %s", chain);
		else
			ck_assert_str_eq(chain,
					 "handler (/app/web.py:33) > render "
					 "(/app/web.py:50)");
	}
	ck_assert_int_eq(nleaf, 5);
	/* equal frames are one name whatever the event: they aggregate */
	ck_assert_int_eq(
	    json_integer_value(json_object_get(
		json_object_get(root, "otherData"), "dropped_events")),
	    0);
	json_decref(root);
	free(out);
}
END_TEST

START_TEST(chrome_size_cap_drops_shortest)
{
	struct sw_report rep = report();
	size_t full_len, len, i;
	char *full = capture_chrome(&rep, 0, &full_len);
	char *out = capture_chrome(&rep, full_len / 2, &len);
	json_t *root = json_loads(out, 0, NULL), *evs, *e;
	int saw_long = 0, nsample = 0, nblock = 0;

	ck_assert_ptr_nonnull(root);
	ck_assert(len < full_len);
	ck_assert_int_gt(
	    json_integer_value(json_object_get(
		json_object_get(root, "otherData"), "dropped_events")),
	    0);
	evs = json_object_get(root, "traceEvents");
	json_array_foreach (evs, i, e) {
		const char *name =
		    json_string_value(json_object_get(e, "name"));
		double dur = json_number_value(json_object_get(e, "dur"));

		if (!strcmp(name, "stall") && dur == 210000.0)
			saw_long = 1;
		nsample += !strcmp(name, "[cpu-stall]");
		nblock += !strcmp(name, "[blocking-call: clock_nanosleep]");
	}
	ck_assert_msg(saw_long, "the longest stall was dropped");
	/* the 10 ms samples go first; the 100 and 200 ms calls stay */
	ck_assert_int_lt(nsample, 3);
	ck_assert_int_eq(nblock, 2);
	json_decref(root);
	free(out);
	free(full);
}
END_TEST

START_TEST(speedscope_profile_shares_frames)
{
	struct sw_report rep = report();
	char *buf = sw_t_capture(sw_write_speedscope, &rep, NULL);
	size_t i, j;
	json_t *root, *frames, *prof, *samples, *weights, *s;
	json_int_t total = 0;
	int saw_block = 0;

	root = json_loads(buf, 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(json_string_value(json_object_get(root, "$schema")),
			 "https://www.speedscope.app/file-format-schema.json");
	frames = json_object_get(json_object_get(root, "shared"), "frames");
	ck_assert(json_is_array(frames));
	ck_assert_int_eq(json_array_size(json_object_get(root, "profiles")), 1);
	prof = json_array_get(json_object_get(root, "profiles"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(prof, "type")),
			 "sampled");
	ck_assert_str_eq(json_string_value(json_object_get(prof, "unit")),
			 "nanoseconds");
	samples = json_object_get(prof, "samples");
	weights = json_object_get(prof, "weights");
	/* one per distinct stack: the blocking site has two */
	ck_assert_int_eq(json_array_size(samples), 3);
	ck_assert_int_eq(json_array_size(weights), 3);
	json_array_foreach (samples, i, s) {
		json_t *last = json_array_get(s, json_array_size(s) - 1);
		json_t *fr = json_array_get(frames, json_integer_value(last));
		const char *name =
		    json_string_value(json_object_get(fr, "name"));

		total += json_integer_value(json_array_get(weights, i));
		for (j = 0; j < json_array_size(s); j++)
			ck_assert_int_lt(
			    json_integer_value(json_array_get(s, j)),
			    json_array_size(frames));
		if (!strcmp(name, "[blocking-call: clock_nanosleep]")) {
			json_t *outer = json_array_get(
			    frames, json_integer_value(json_array_get(s, 0)));

			const char *oname =
			    json_string_value(json_object_get(outer, "name"));

			saw_block++;
			ck_assert_int_eq(
			    json_integer_value(json_array_get(weights, i)),
			    !strcmp(oname, "main") ? 200000000 : 100000000);
			ck_assert(!strcmp(oname, "main") ||
				  !strcmp(oname, "admin"));
		}
	}
	ck_assert_int_eq(saw_block, 2);
	ck_assert_int_eq(total,
			 json_integer_value(json_object_get(prof, "endValue")));
	json_decref(root);
	free(buf);
}
END_TEST

static const char *str(const Perftools__Profiles__Profile *p, int64_t i)
{
	ck_assert(i >= 0 && (size_t)i < p->n_string_table);
	return p->string_table[i];
}

START_TEST(pprof_decodes_with_protobuf_c)
{
	struct sw_report rep = report();
	size_t len, i, k;
	char *buf = sw_t_capture(sw_write_pprof, &rep, &len);
	uint8_t *raw = malloc(1 << 20);
	z_stream z;
	Perftools__Profiles__Profile *p;
	int saw_config = 0, saw_admin = 0;
	int64_t stalled = 0, cpu = 0, blocked = 0;

	ck_assert((unsigned char)buf[0] == 0x1f &&
		  (unsigned char)buf[1] == 0x8b); /* gzip */
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (uint8_t *)buf;
	z.avail_in = (uInt)len;
	z.next_out = raw;
	z.avail_out = 1 << 20;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	p = perftools__profiles__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->n_sample_type, 3);
	ck_assert_str_eq(str(p, p->sample_type[0]->type), "stalled");
	ck_assert_str_eq(str(p, p->sample_type[1]->type), "cpu");
	ck_assert_str_eq(str(p, p->sample_type[2]->type), "blocked");
	ck_assert_str_eq(str(p, p->sample_type[2]->unit), "nanoseconds");
	ck_assert_str_eq(p->string_table[0], "");
	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		int has_kind = 0, has_proc = 0, has_thread = 0;

		stalled += s->value[0];
		cpu += s->value[1];
		blocked += s->value[2];
		for (k = 0; k < s->n_label; k++) {
			const char *key = str(p, s->label[k]->key);
			const char *v = str(p, s->label[k]->str);

			if (!strcmp(key, "kind"))
				has_kind = !strcmp(v, "blocking-call") ||
					   !strcmp(v, "cpu-stall");
			if (!strcmp(key, "process"))
				has_proc = !strcmp(v, "python3 4242");
			if (!strcmp(key, "thread"))
				has_thread = !strcmp(v, "web (tid 4243)");
		}
		ck_assert(has_kind && has_proc && has_thread);
		/* location 2 of the blocking stack: load_config, a Python
		 * function with its file and line */
		for (k = 0; k < s->n_location_id; k++) {
			const Perftools__Profiles__Location *loc =
			    p->location[s->location_id[k] - 1];
			const Perftools__Profiles__Function *fn =
			    p->function[loc->line[0]->function_id - 1];

			ck_assert_int_eq(loc->id, s->location_id[k]);
			if (!strcmp(str(p, fn->name), "admin"))
				saw_admin = 1;
			if (!strcmp(str(p, fn->name), "load_config")) {
				saw_config = 1;
				ck_assert_str_eq(str(p, fn->filename),
						 "/app/config.py");
				ck_assert_int_eq(loc->line[0]->line, 7);
				ck_assert_int_eq(k, 1);
			}
		}
	}
	ck_assert(saw_config && saw_admin);
	ck_assert_int_eq(blocked, 300000000);
	ck_assert_int_eq(cpu, 30000000);
	ck_assert_int_eq(stalled, 330000000);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
	free(buf);
}
END_TEST

Suite *sw_suite_viewer_exports(void)
{
	Suite *s = suite_create("viewer_exports");
	TCase *tc = tcase_create("exports");

	tcase_add_test(tc, chrome_stacks_aggregate);
	tcase_add_test(tc, chrome_size_cap_drops_shortest);
	tcase_add_test(tc, speedscope_profile_shares_frames);
	tcase_add_test(tc, pprof_decodes_with_protobuf_c);
	suite_add_tcase(s, tc);
	return s;
}
