/*
 * mkseeds.c - hand-made seed traces for the fuzzer (tests/fuzz/corpus/).
 *
 * Real traces from the shim are the main seeds; these add the shapes a
 * short run rarely produces: every record type, Python frames, hostile
 * strings (terminal escapes, HTML, JSON quoting, invalid UTF-8), repeated
 * ids, a torn tail.  Rebuild them with:
 *   cc -Iinclude -o /tmp/mkseeds tests/fuzz/mkseeds.c && /tmp/mkseeds
 * tests/fuzz/corpus
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../include/sw_calls.h"
#include "../unit/tracebuild.h"

static const char *outdir;

static void save(struct tb *b, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	if (tb_write(b, path) != 0)
		perror(path);
	tb_free(b);
}

static const struct sw_segment libc_segs[] = {
    {0x7f0000000000, 0x7f0000028000, 0, 4, 0},
    {0x7f0000028000, 0x7f000017d000, 0x28000, 5, 0},
    {0x7f000017d000, 0x7f00001d5000, 0x17d000, 4, 0},
};
static const struct sw_segment main_segs[] = {
    {0x400000, 0x401000, 0, 4, 0},
    {0x401000, 0x402000, 0x1000, 5, 0},
};
static const uint8_t build_id[20] = {0xde, 0xad, 0xbe, 0xef, 1,	 2, 3,
				     4,	   5,	 6,    7,    8,	 9, 10,
				     11,   12,	 13,   14,   15, 16};

static void modules(struct tb *b, const char *main_path)
{
	tb_module(b, main_path, 0, 0x400000, main_segs, 2, build_id, 20,
		  SW_MOD_MAIN);
	tb_module(b, "/lib/x86_64-linux-gnu/libc.so.6", 0x7f0000000000,
		  0x7f0000000000, libc_segs, 3, NULL, 0, 0);
	tb_module(b, "[vdso]", 0x7fff0000000, 0x7fff0000000, NULL, 0, NULL, 0,
		  SW_MOD_VDSO);
}

static void note(struct tb *b, uint32_t level, const char *text)
{
	struct sw_rec_note n;

	memset(&n, 0, sizeof(n));
	n.time_ns = 5000;
	n.level = level;
	n.text_len = (uint32_t)strlen(text);
	tb_rec(b, &n, sizeof(n), SW_REC_NOTE, text, strlen(text), NULL, 0, NULL,
	       0);
}

static void loop_end(struct tb *b, uint32_t loop_id, uint32_t tid)
{
	struct sw_rec_loop_end e;

	memset(&e, 0, sizeof(e));
	e.time_ns = 900000000;
	e.loop_id = loop_id;
	e.tid = tid;
	tb_rec(b, &e, sizeof(e), SW_REC_LOOP_END, NULL, 0, NULL, 0, NULL, 0);
}

/* Every record type and event kind, with names from `names`. */
static void full(const char *file, const char *comm, const char *fn,
		 const char *pyfile, const char *text)
{
	static const uint64_t ips[] = {0x7f0000030010, 0x401234, 0x401100,
				       0x7f0000029000, 0x7fff0000100};
	static const uint64_t turns[] = {1000,	    2000,      50000,
					 300000000, 120000000, 900};
	struct sw_pyframe py[3] = {
	    {1, 12, 0, 0}, {2, 40, 0, 0}, {3, -1, SW_PYF_ENTRY, 0}};
	char cmd[256];
	size_t cl;
	struct tb b;
	struct tb_ev e;

	cl = (size_t)snprintf(cmd, sizeof(cmd), "%s", comm) + 1;
	cl += (size_t)snprintf(cmd + cl, sizeof(cmd) - cl, "--flag=%s", fn);
	tb_begin(&b, 100, cmd, cl, comm);
	modules(&b, "/usr/bin/python3.11");
	tb_loop(&b, 1, 100, 1000, comm);
	tb_loop(&b, 2, 101, 2000, "worker");
	tb_pycode(&b, 1, fn, pyfile, 10);
	tb_pycode(&b, 2, "main.<locals>.handler", pyfile, 30);
	tb_pycode(&b, 3, "<module>", "app.py", 1);

	memset(&e, 0, sizeof(e));
	e.kind = SW_EV_CALL;
	e.call = SW_CALL_NANOSLEEP;
	e.tid = 100;
	e.loop_id = 1;
	e.turn_seq = 7;
	e.start_ns = 100000000;
	e.duration_ns = 250000000;
	e.fd_kind = SW_FD_NONE;
	e.ips = ips;
	e.nips = 5;
	e.py = py;
	e.npy = 3;
	tb_event(&b, &e);

	e.kind = SW_EV_SAMPLE;
	e.call = SW_CALL_TURN;
	e.start_ns = 400000000;
	e.duration_ns = 10000000;
	e.flags = SW_EVF_SIGNAL_FRAME | SW_EVF_TRUNCATED;
	tb_event(&b, &e);

	e.kind = SW_EV_PRIVATE_LOOP;
	e.call = SW_CALL_EPOLL_WAIT;
	e.start_ns = 600000000;
	e.duration_ns = 30000000;
	e.flags = SW_EVF_STRICT | SW_EVF_COUNT_ONLY;
	e.count = 40;
	e.total_ns = 90000000;
	e.max_ns = 30000000;
	e.npy = 0;
	tb_event(&b, &e);

	e.kind = SW_EV_GIL_WAIT;
	e.call = SW_CALL_COND_WAIT;
	e.tid = 101;
	e.loop_id = 2;
	e.turn_seq = 1;
	e.count = 1;
	e.total_ns = 0;
	e.max_ns = 0;
	e.flags = SW_EVF_PY_UNKNOWN;
	e.fd_kind = SW_FD_SOCKET;
	tb_event(&b, &e);

	tb_stall(&b, 100, 1, 7, 99000000, 300000000);
	tb_stall(&b, 101, 2, 1, 590000000, 120000000);
	tb_heartbeat(&b, 1, 100, 1000, 800000000, turns, 6, 420000000);
	tb_heartbeat(&b, 2, 101, 2000, 800000000, turns, 3, 50000);
	note(&b, SW_NOTE_WARN, text);
	loop_end(&b, 2, 101);
	tb_end(&b, 1000000000);
	save(&b, file);
}

int main(int argc, char **argv)
{
	struct tb b;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	outdir = argv[1];

	tb_begin(&b, 1, "x", 1, "x");
	save(&b, "hand-minimal.swtrace");

	full("hand-full.swtrace", "svc", "handler", "/srv/app/handlers.py",
	     "sampler: 3 samples skipped (thread in the loader)");
	full("hand-hostile.swtrace", "ev\x1b[2Jil\x07",
	     "<script>alert(1)</script>\x1b]0;pwn\x07\"'\\",
	     "/tmp/\xff\xfe\xc3(bad\x1b[31m.py",
	     "note \x1b[2J</script><img src=x onerror=alert(1)>\r\nX");

	/* A torn tail: the full trace cut in the middle of its last record. */
	full("hand-torn.swtrace", "svc", "handler", "h.py", "x");
	{
		char path[4096];
		FILE *f;
		long n;

		snprintf(path, sizeof(path), "%s/hand-torn.swtrace", outdir);
		f = fopen(path, "r+");
		if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 20) {
			if (ftruncate(fileno(f), n - 13) != 0)
				perror(path);
		}
		if (f)
			fclose(f);
	}

	/* Repeated loop and code ids, an event for an unknown loop, a
	 * heartbeat for a loop never announced, unknown record type. */
	{
		static const uint64_t ip = 0x401010;
		struct tb_ev e;
		struct sw_rec_hdr unk;

		tb_begin(&b, 7, "a\0b\0", 4, "dup");
		tb_loop(&b, 1, 7, 10, "one");
		tb_loop(&b, 1, 8, 20, "again");
		tb_pycode(&b, 5, "f", "a.py", 1);
		tb_pycode(&b, 5, "g", "b.py", 2);
		memset(&e, 0, sizeof(e));
		e.kind = SW_EV_CALL;
		e.call = 999;
		e.tid = 9;
		e.loop_id = 77;
		e.start_ns = 5;
		e.duration_ns = UINT64_MAX;
		e.ips = &ip;
		e.nips = 1;
		tb_event(&b, &e);
		tb_heartbeat(&b, 55, 9, 0, 1, NULL, 0, 0);
		tb_stall(&b, 9, 77, 0, UINT64_MAX - 5, UINT64_MAX);
		memset(&unk, 0, sizeof(unk));
		tb_rec(&b, &unk, sizeof(unk), 200, "zz", 2, NULL, 0, NULL, 0);
		save(&b, "hand-dups.swtrace");
	}
	return 0;
}
