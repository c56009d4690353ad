/*
 * gentrace.c - writes synthetic trace files (include/sw_trace.h, v1) for the
 * analyzer benchmark, so `stallwatch report` can be timed on a known load
 * without running a service for hours.
 *
 *   gentrace agg FILE NRECORDS NSTACKS DEPTH
 *       NRECORDS SW_EV_CALL events spread round-robin over NSTACKS distinct
 *       stacks of DEPTH return addresses inside this program's own text:
 *       the aggregation load (few unique stacks, many records).
 *   gentrace sym FILE NADDRS DEPTH
 *       NADDRS distinct addresses spread over the text of libc (the biggest
 *       module at hand), DEPTH per event, every stack unique: the
 *       symbolization load (many unique addresses).
 *
 * The process, module (real path, build-id and load segments of this very
 * process, so libdwfl can open and symbolize them), loop, heartbeat and end
 * records are what a shim run would write.  Prints one key=value line.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../include/sw_calls.h"
#include "../../include/sw_hist.h"
#include "../../include/sw_trace.h"

struct module {
	int found;
	char path[SW_MAX_STR];
	uint64_t bias, base;
	struct sw_segment seg[64];
	uint32_t nseg;
	unsigned char build_id[SW_BUILD_ID_MAX];
	uint16_t build_id_len;
	uint64_t text_start, text_end; /* the executable segment */
};

static struct module main_mod, libc_mod;
static FILE *out;
static uint64_t written;

static void die(const char *what)
{
	fprintf(stderr, "gentrace: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put(const void *p, size_t n)
{
	if (fwrite(p, 1, n, out) != n)
		die("write");
}

static void fill_module(struct module *m, struct dl_phdr_info *info,
			const char *path)
{
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->bias = info->dlpi_addr;
	m->base = UINT64_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && m->nseg < 64) {
			struct sw_segment *s = &m->seg[m->nseg++];

			s->start = info->dlpi_addr + ph->p_vaddr;
			s->end = s->start + ph->p_memsz;
			s->offset = ph->p_offset;
			s->prot = ph->p_flags;
			if (ph->p_offset == 0 || s->start - s->offset < m->base)
				m->base = s->start - s->offset;
			if ((ph->p_flags & PF_X) && !m->text_start) {
				m->text_start = s->start;
				m->text_end = s->end;
			}
		} else if (ph->p_type == PT_NOTE) {
			const char *p =
			    (const char *)(info->dlpi_addr + ph->p_vaddr);
			const char *end = p + ph->p_memsz;

			while (p + sizeof(ElfW(Nhdr)) <= end) {
				const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
				const char *name = p + sizeof(*nh);
				const char *desc =
				    name + ((nh->n_namesz + 3) & ~3u);

				if (nh->n_type == NT_GNU_BUILD_ID &&
				    nh->n_namesz == 4 &&
				    !memcmp(name, "GNU", 4) &&
				    nh->n_descsz <= SW_BUILD_ID_MAX) {
					memcpy(m->build_id, desc, nh->n_descsz);
					m->build_id_len =
					    (uint16_t)nh->n_descsz;
				}
				p = desc + ((nh->n_descsz + 3) & ~3u);
			}
		}
	}
	m->found = m->nseg > 0 && m->text_start;
}

static int find_modules(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (!info->dlpi_name || !info->dlpi_name[0]) {
		char exe[SW_MAX_STR];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n > 0 && !main_mod.found) {
			exe[n] = 0;
			fill_module(&main_mod, info, exe);
		}
	} else if (strstr(info->dlpi_name, "/libc.so") && !libc_mod.found) {
		fill_module(&libc_mod, info, info->dlpi_name);
	}
	return 0;
}

static void put_process(void)
{
	struct sw_preamble pre = {.version = SW_TRACE_VERSION,
				  .byte_order = 0x01020304};
	static const char cmdline[] = "gentrace\0bench";
	const char *comm = "gentrace";
	struct sw_rec_process p = {0};
	struct timespec rt, mono;

	memcpy(pre.magic, SW_TRACE_MAGIC, 8);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	p.h.type = SW_REC_PROCESS;
	p.pid = (uint32_t)getpid();
	p.ppid = (uint32_t)getppid();
	p.start_realtime_ns =
	    (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	p.start_mono_ns =
	    (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
	p.clock_id = CLOCK_MONOTONIC;
	p.threshold_ns = 100000000ull;
	p.call_threshold_ns = 1000000ull;
	p.sample_interval_ns = 10000000ull;
	p.cmdline_len = sizeof(cmdline) - 1;
	p.exe_len = (uint32_t)strlen(main_mod.path);
	p.comm_len = (uint32_t)strlen(comm);
	p.h.size =
	    (uint32_t)(sizeof(p) + p.cmdline_len + p.exe_len + p.comm_len);
	put(&pre, sizeof(pre));
	put(&p, sizeof(p));
	put(cmdline, p.cmdline_len);
	put(main_mod.path, p.exe_len);
	put(comm, p.comm_len);
}

static void put_module(const struct module *m, uint32_t flags)
{
	struct sw_rec_module r = {0};

	r.h.type = SW_REC_MODULE;
	r.bias = m->bias;
	r.base = m->base;
	r.nsegments = m->nseg;
	r.build_id_len = m->build_id_len;
	r.path_len = (uint16_t)strlen(m->path);
	r.mod_flags = flags;
	r.h.size = (uint32_t)(sizeof(r) + m->nseg * sizeof(struct sw_segment) +
			      r.build_id_len + r.path_len);
	put(&r, sizeof(r));
	put(m->seg, m->nseg * sizeof(struct sw_segment));
	put(m->build_id, r.build_id_len);
	put(m->path, r.path_len);
}

static void put_loop(uint64_t t0)
{
	struct sw_rec_loop r = {0};

	r.h.type = SW_REC_LOOP;
	r.h.size = sizeof(r);
	r.time_ns = t0;
	r.loop_id = 1;
	r.tid = (uint32_t)getpid();
	r.epfd = 3;
	snprintf(r.thread_name, sizeof(r.thread_name), "gentrace");
	put(&r, sizeof(r));
}

static void put_event(uint64_t start, uint64_t dur, uint32_t seq, uint16_t call,
		      const uint64_t *ips, uint16_t nips)
{
	struct sw_rec_event e = {0};

	e.h.type = SW_REC_EVENT;
	e.h.size = (uint32_t)(sizeof(e) + nips * sizeof(uint64_t));
	e.start_ns = start;
	e.duration_ns = dur;
	e.total_ns = dur;
	e.max_ns = dur;
	e.count = 1;
	e.tid = (uint32_t)getpid();
	e.loop_id = 1;
	e.turn_seq = seq;
	e.kind = SW_EV_CALL;
	e.call = call;
	e.fd_kind = SW_FD_FILE;
	e.nips = nips;
	e.fd = 5;
	put(&e, sizeof(e));
	put(ips, nips * sizeof(uint64_t));
}

static void put_heartbeat_and_end(uint64_t t0, uint64_t t, uint64_t turns)
{
	struct sw_rec_heartbeat hb = {0};
	struct sw_rec_end end = {0};
	uint64_t buckets[SW_HIST_BUCKETS] = {0};

	/* Cumulative counts: every turn was about 1 ms long. */
	for (unsigned i = sw_hist_index(1000000); i < SW_HIST_BUCKETS; i++)
		buckets[i] = turns;
	hb.h.type = SW_REC_HEARTBEAT;
	hb.h.size = (uint32_t)(sizeof(hb) + sizeof(buckets));
	hb.time_ns = t;
	hb.turns = turns;
	hb.busy_ns = turns * 1000000ull;
	hb.born_ns = t0;
	hb.max_turn_ns = 5000000ull;
	hb.loop_id = 1;
	hb.tid = (uint32_t)getpid();
	hb.nbuckets = SW_HIST_BUCKETS;
	hb.final = 1;
	put(&hb, sizeof(hb));
	put(buckets, sizeof(buckets));
	end.h.type = SW_REC_END;
	end.h.size = sizeof(end);
	end.time_ns = t;
	put(&end, sizeof(end));
}

/* Deterministic pseudo-random numbers (xorshift), so runs are comparable. */
static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static long arg_long(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0 || v > 100000000) {
		fprintf(stderr, "gentrace: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	uint64_t ips[SW_MAX_IPS], t0 = 1000000000ull, t;
	long nrec = 0, nstacks, depth, naddrs = 0;
	int agg;

	if (argc < 5 || (strcmp(argv[1], "agg") && strcmp(argv[1], "sym")) ||
	    (!strcmp(argv[1], "agg") && argc < 6)) {
		fprintf(stderr,
			"usage: gentrace agg FILE NRECORDS NSTACKS DEPTH\n"
			"       gentrace sym FILE NADDRS DEPTH\n");
		return 2;
	}
	agg = !strcmp(argv[1], "agg");
	if (agg) {
		nrec = arg_long(argv[3]);
		nstacks = arg_long(argv[4]);
		depth = arg_long(argv[5]);
	} else {
		naddrs = arg_long(argv[3]);
		depth = arg_long(argv[4]);
		nstacks = (naddrs + depth - 1) / depth;
		nrec = nstacks;
	}
	if (depth > SW_MAX_IPS)
		depth = SW_MAX_IPS;
	dl_iterate_phdr(find_modules, NULL);
	if (!main_mod.found || (!agg && !libc_mod.found)) {
		fprintf(stderr, "gentrace: cannot find my own modules\n");
		return 1;
	}
	out = fopen(argv[2], "wxe");
	if (!out)
		die(argv[2]);
	setvbuf(out, buf, _IOFBF, sizeof(buf));
	put_process();
	put_module(&main_mod, SW_MOD_MAIN);
	if (libc_mod.found)
		put_module(&libc_mod, 0);
	put_loop(t0);
	t = t0;
	if (agg) {
		/* NSTACKS stacks of DEPTH addresses inside our own text: the
		 * innermost frames differ, the outer ones are shared, as in a
		 * real service where every site ends in main(). */
		const struct module *m = &main_mod;
		uint64_t span = m->text_end - m->text_start;
		uint64_t *stacks =
		    calloc((size_t)(nstacks * depth), sizeof(uint64_t));

		if (!stacks)
			die("calloc");
		for (long s = 0; s < nstacks; s++)
			for (long d = 0; d < depth; d++)
				stacks[s * depth + d] =
				    m->text_start + 1 +
				    (d < depth / 2 ? next_rand()
						   : (uint64_t)d * 977) %
					(span - 1);
		for (long i = 0; i < nrec; i++) {
			long s = i % nstacks;
			uint64_t dur =
			    1000000ull + (uint64_t)(i % 97) * 10000ull;

			put_event(t, dur, (uint32_t)i,
				  (uint16_t)(SW_CALL_READ + s % 8),
				  &stacks[s * depth], (uint16_t)depth);
			t += dur + 1000;
		}
		free(stacks);
	} else {
		/* Distinct addresses spread evenly over libc's text. */
		const struct module *m = &libc_mod;
		uint64_t span = m->text_end - m->text_start, a = 0;

		for (long i = 0; i < nrec; i++) {
			long n = 0;

			for (; n < depth && a < (uint64_t)naddrs; n++, a++)
				ips[n] = m->text_start + 1 +
					 a * (span - 2) / (uint64_t)naddrs;
			put_event(t, 2000000ull, (uint32_t)i, SW_CALL_READ, ips,
				  (uint16_t)n);
			t += 2001000ull;
		}
	}
	put_heartbeat_and_end(t0, t, (uint64_t)nrec);
	if (fclose(out))
		die("close");
	written = (uint64_t)nrec;
	printf("records=%llu stacks=%ld depth=%ld distinct_addrs=%ld\n",
	       (unsigned long long)written, nstacks, depth, agg ? -1L : naddrs);
	return 0;
}
