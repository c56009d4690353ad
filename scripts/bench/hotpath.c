/*
 * hotpath.c - micro-benchmarks of the shim's fast paths, run by run.sh with
 * and without LD_PRELOAD=libstallwatch.so.
 *
 * Every mode times only its measured loop (CLOCK_MONOTONIC around it, so
 * process start and the shim's constructor are excluded) and prints one
 * line of key=value pairs for run.sh to parse:
 *
 *   turn N          N loop turns: epoll_wait(timeout 0) on an always-ready fd
 *                   (turn and io also print the loop's CPU time: cpu_ns for
 *                   the whole process, thread_cpu_ns for the loop thread)
 *   io N K          N turns, each with K send+recv pairs on an O_NONBLOCK
 *                   socketpair: 2*K wrapped calls per turn, on a loop thread
 *   io-timed N K    the same on a socketpair without O_NONBLOCK: calls the
 *                   shim times, because they could block
 *   io-thread N K   the same N*K send+recv pairs on a thread that never
 *                   waits in epoll (not a loop thread)
 *   mutex N K       N turns, each with K uncontended pthread_mutex_lock +
 *                   unlock: a wrapped call that makes no syscall, so the
 *                   wrapper's own cost is not buried under a syscall's noise
 *   mutex-thread N K  the same on a non-loop thread
 *   flood N FILE    N turns, each writing one 64-byte record to a regular
 *                   file (strict mode records every one of them)
 *   rss N STEP      N turns (a send+recv pair every 1000th turn), printing
 *                   VmRSS every STEP turns; /proc is read with raw syscalls
 *                   so the sampling itself passes through no wrapper
 *   clock N         the clock candidates: vDSO clock_gettime(MONOTONIC),
 *                   rdtsc and rdtscp, ns per read
 *   ab-io R M, ab-io-thread R M, ab-io-timed R M, ab-turn R M,
 *   ab-mutex R M, ab-mutex-thread R M
 *                   in-process A/B: R repetitions of two blocks of M calls,
 *                   one calling libc directly (pointers from dlsym on the
 *                   libc handle, which no preload can interpose), one
 *                   through the PLT (the shim's wrapper when preloaded).
 *                   The blocks alternate every few dozen microseconds, so
 *                   machine noise hits both alike and the difference is the
 *                   wrapper's own cost; without the shim it is ~0, which
 *                   checks the method.  Prints the median per-call delta.
 *                   ab-io-timed makes the same send+recv pairs on a
 *                   socketpair without O_NONBLOCK: calls the shim must
 *                   time (they may block), where ab-io's cannot block and
 *                   are not timed.
 *
 * With HOTPATH_IDLE_THREAD=1 in the environment an idle thread is started
 * first: glibc skips the cancellation bookkeeping of cancellable calls
 * (send, recv, epoll_wait, ...) in single-threaded processes, and the
 * shim's watchdog thread makes every process multi-threaded, so this
 * separates that process-wide cost from the wrappers' own.
 *
 * Bounded: every loop runs a fixed count; nothing here can block (all
 * sockets are O_NONBLOCK and a send is always followed by its recv).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

static int sv[2];  /* the socketpair: send on sv[0], recv on sv[1] */
static int bsv[2]; /* the same without O_NONBLOCK (ab-io-timed) */
static int epfd;   /* the loop's epoll fd, sv[1] registered EPOLLOUT */
static volatile uint64_t sink; /* keeps results alive */
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the whole process (every thread, the shim's included) and of
 * the calling thread: what the measured loop cost, whoever spent it. */
static uint64_t cpu_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "hotpath: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void setup(void)
{
	struct epoll_event ev = {.events = EPOLLOUT};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		die("socketpair");
	/* Never blocks either: every 1-byte send is read back at once. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, bsv) < 0)
		die("socketpair");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	/* A stream socket with an empty send buffer is always writable, and
	 * level-triggered: every epoll_wait(0) returns at once with one event.
	 */
	ev.data.fd = sv[1];
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sv[1], &ev) < 0)
		die("epoll_ctl");
}

static void turn(void)
{
	struct epoll_event evs[4];

	if (epoll_wait(epfd, evs, 4, 0) != 1)
		die("epoll_wait did not return the ready fd");
}

static void io_pairs_on(const int *p, long k)
{
	char c = 'x', r;

	for (long j = 0; j < k; j++) {
		/* No MSG_DONTWAIT: like a loop's own calls, these are
		 * non-blocking by the fd's O_NONBLOCK. */
		if (send(p[0], &c, 1, 0) != 1)
			die("send");
		if (recv(p[1], &r, 1, 0) != 1)
			die("recv");
		sink += (uint64_t)r;
	}
}

static void io_pairs(long k)
{
	io_pairs_on(sv, k);
}

static void mutex_pairs(long k)
{
	for (long j = 0; j < k; j++) {
		pthread_mutex_lock(&mutex);
		sink++;
		pthread_mutex_unlock(&mutex);
	}
}

/* The measured loops: named functions so callgrind can collect only them
 * (--toggle-collect=bench_*), leaving out process start and the shim's
 * constructor. */
__attribute__((noinline)) void bench_turns(long n)
{
	for (long i = 0; i < n; i++)
		turn();
}

__attribute__((noinline)) void bench_io(long n, long k)
{
	for (long i = 0; i < n; i++) {
		turn();
		io_pairs(k);
	}
}

__attribute__((noinline)) void bench_io_timed(long n, long k)
{
	for (long i = 0; i < n; i++) {
		turn();
		io_pairs_on(bsv, k);
	}
}

__attribute__((noinline)) void bench_io_thread(long n, long k)
{
	for (long i = 0; i < n; i++)
		io_pairs(k);
}

__attribute__((noinline)) void bench_mutex(long n, long k)
{
	for (long i = 0; i < n; i++) {
		turn();
		mutex_pairs(k);
	}
}

__attribute__((noinline)) void bench_mutex_thread(long n, long k)
{
	for (long i = 0; i < n; i++)
		mutex_pairs(k);
}

struct thread_job {
	long n, k;
	int mutex;
	uint64_t ns;
};

static void *thread_main(void *arg)
{
	struct thread_job *job = arg;
	uint64_t t0 = now_ns();

	if (job->mutex)
		bench_mutex_thread(job->n, job->k);
	else
		bench_io_thread(job->n, job->k);
	job->ns = now_ns() - t0;
	return NULL;
}

/* VmRSS in KiB via raw syscalls: the shim wraps open/read, and the sampling
 * must not add records or cost of its own to what it measures. */
static long vm_rss_kib(void)
{
	char buf[4096];
	long fd, n, kib = -1;
	char *p;

	fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status",
		     O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "VmRSS:");
	if (p)
		kib = strtol(p + 6, NULL, 10);
	return kib;
}

/* ---- in-process A/B ---- */

static ssize_t (*libc_send)(int, const void *, size_t, int);
static ssize_t (*libc_recv)(int, void *, size_t, int);
static int (*libc_epoll_wait)(int, struct epoll_event *, int, int);
static int (*libc_mutex_lock)(pthread_mutex_t *);

static void resolve_libc(void)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

	if (!h) {
		fprintf(stderr, "hotpath: dlopen libc.so.6: %s\n", dlerror());
		exit(1);
	}
	libc_send =
	    (ssize_t(*)(int, const void *, size_t, int))dlsym(h, "send");
	libc_recv = (ssize_t(*)(int, void *, size_t, int))dlsym(h, "recv");
	libc_epoll_wait = (int (*)(int, struct epoll_event *, int, int))dlsym(
	    h, "epoll_wait");
	libc_mutex_lock =
	    (int (*)(pthread_mutex_t *))dlsym(h, "pthread_mutex_lock");
	if (!libc_send || !libc_recv || !libc_epoll_wait || !libc_mutex_lock) {
		fprintf(stderr, "hotpath: dlsym in libc failed\n");
		exit(1);
	}
}

enum ab_kind { AB_IO, AB_IO_TIMED, AB_TURN, AB_MUTEX };

struct ab_job {
	enum ab_kind kind;
	int loop; /* wait in epoll between blocks: a loop thread in a turn */
	long reps, block;
	double *diffs; /* per repetition: (wrapped - direct) / block, ns */
	uint64_t direct_ns, wrapped_ns;
};

static void ab_block(enum ab_kind kind, int direct, long m)
{
	struct epoll_event evs[4];
	const int *p = kind == AB_IO_TIMED ? bsv : sv;
	char c = 'x', r;

	for (long j = 0; j < m; j++) {
		switch (kind) {
		case AB_IO:
		case AB_IO_TIMED:
			if ((direct ? libc_send(p[0], &c, 1, 0)
				    : send(p[0], &c, 1, 0)) != 1)
				die("send");
			if ((direct ? libc_recv(p[1], &r, 1, 0)
				    : recv(p[1], &r, 1, 0)) != 1)
				die("recv");
			sink += (uint64_t)r;
			break;
		case AB_TURN:
			if ((direct ? libc_epoll_wait(epfd, evs, 4, 0)
				    : epoll_wait(epfd, evs, 4, 0)) != 1)
				die("epoll_wait");
			break;
		case AB_MUTEX:
			if (direct)
				libc_mutex_lock(&mutex);
			else
				pthread_mutex_lock(&mutex);
			sink++;
			pthread_mutex_unlock(&mutex);
			break;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void *ab_main(void *arg)
{
	struct ab_job *job = arg;

	for (long i = 0; i < job->reps; i++) {
		uint64_t t[2];

		/* Alternate which block goes first, so neither always runs
		 * right after the turn boundary. */
		for (int half = 0; half < 2; half++) {
			int direct = (int)((i + half) & 1);
			uint64_t t0;

			if (job->loop)
				turn();
			t0 = now_ns();
			ab_block(job->kind, direct, job->block);
			t[direct] = now_ns() - t0;
		}
		job->direct_ns += t[1];
		job->wrapped_ns += t[0];
		job->diffs[i] =
		    ((double)t[0] - (double)t[1]) / (double)job->block;
	}
	return NULL;
}

static void run_ab(const char *mode, long reps, long block)
{
	struct ab_job job = {.reps = reps, .block = block};
	const char *kind = mode + 3;
	int thread = 0;
	double calls_per_op = 1.0, med;

	resolve_libc();
	if (!strcmp(kind, "io-timed"))
		job.kind = AB_IO_TIMED, calls_per_op = 2.0;
	else if (!strncmp(kind, "io", 2))
		job.kind = AB_IO, calls_per_op = 2.0;
	else if (!strncmp(kind, "turn", 4))
		job.kind = AB_TURN;
	else if (!strncmp(kind, "mutex", 5))
		job.kind = AB_MUTEX;
	else {
		fprintf(stderr, "hotpath: unknown mode %s\n", mode);
		exit(2);
	}
	thread = strstr(kind, "-thread") != NULL;
	job.loop = !thread && job.kind != AB_TURN;
	job.diffs = calloc((size_t)reps, sizeof(double));
	if (!job.diffs)
		die("calloc");
	if (thread) {
		pthread_t th;

		if ((errno = pthread_create(&th, NULL, ab_main, &job)))
			die("pthread_create");
		pthread_join(th, NULL);
	} else {
		if (job.kind == AB_TURN)
			turn(); /* become a loop thread before measuring */
		ab_main(&job);
	}
	qsort(job.diffs, (size_t)reps, sizeof(double), cmp_double);
	med = job.diffs[reps / 2];
	printf(
	    "mode=%s reps=%ld block=%ld direct_per_call=%.3f "
	    "wrapped_per_call=%.3f "
	    "delta_mean=%.3f delta_median=%.3f delta_p25=%.3f delta_p75=%.3f\n",
	    mode, reps, block,
	    (double)job.direct_ns / (double)(reps * block) / calls_per_op,
	    (double)job.wrapped_ns / (double)(reps * block) / calls_per_op,
	    ((double)job.wrapped_ns - (double)job.direct_ns) /
		(double)(reps * block) / calls_per_op,
	    med / calls_per_op, job.diffs[reps / 4] / calls_per_op,
	    job.diffs[reps * 3 / 4] / calls_per_op);
	free(job.diffs);
}

static void run_clock(long n)
{
	struct timespec ts;
	uint64_t t0, t1, acc = 0;

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		acc += (uint64_t)ts.tv_nsec;
	}
	t1 = now_ns();
	printf("clock=clock_gettime_monotonic ns=%llu ops=%ld\n",
	       (unsigned long long)(t1 - t0), n);
#ifdef HAVE_TSC
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		acc += __rdtsc();
	t1 = now_ns();
	printf("clock=rdtsc ns=%llu ops=%ld\n", (unsigned long long)(t1 - t0),
	       n);
	{
		unsigned aux;

		t0 = now_ns();
		for (long i = 0; i < n; i++)
			acc += __rdtscp(&aux);
		t1 = now_ns();
		printf("clock=rdtscp ns=%llu ops=%ld\n",
		       (unsigned long long)(t1 - t0), n);
	}
	{
		/* Calibration, as a shim using rdtsc would need: ticks per ns
		 * against CLOCK_MONOTONIC over 50 ms. */
		struct timespec nap = {0, 50000000};
		uint64_t c0, c1;

		t0 = now_ns();
		c0 = __rdtsc();
		nanosleep(&nap, NULL);
		t1 = now_ns();
		c1 = __rdtsc();
		printf("clock=tsc_calibration ns=%llu ops=1 ghz=%.4f\n",
		       (unsigned long long)(t1 - t0),
		       (double)(c1 - c0) / (double)(t1 - t0));
	}
#endif
	sink = acc;
}

static long arg_long(char **argv, int argc, int i, long def)
{
	char *end;
	long v;

	if (i >= argc)
		return def;
	v = strtol(argv[i], &end, 10);
	if (*end || v <= 0) {
		fprintf(stderr, "hotpath: bad number '%s'\n", argv[i]);
		exit(2);
	}
	return v;
}

static void *idle_main(void *arg)
{
	(void)arg;
	for (;;)
		pause(); /* ends with the process */
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long n = arg_long(argv, argc, 2, 1000000);
	/* flood takes a path, not K, as its third argument */
	long k = strcmp(mode, "flood") ? arg_long(argv, argc, 3, 4) : 0;
	uint64_t t0, ns, c0, tc0;

	if (getenv("HOTPATH_IDLE_THREAD")) {
		pthread_t idle;

		if ((errno = pthread_create(&idle, NULL, idle_main, NULL)))
			die("pthread_create");
		pthread_detach(idle);
	}
	if (!strcmp(mode, "clock")) {
		run_clock(n);
		return 0;
	}
	setup();
	if (!strncmp(mode, "ab-", 3)) {
		run_ab(mode, n, k);
	} else if (!strcmp(mode, "turn")) {
		c0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
		tc0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
		t0 = now_ns();
		bench_turns(n);
		ns = now_ns() - t0;
		printf("mode=turn ns=%llu turns=%ld calls=0 cpu_ns=%llu "
		       "thread_cpu_ns=%llu\n",
		       (unsigned long long)ns, n,
		       (unsigned long long)(cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0),
		       (unsigned long long)(cpu_ns(CLOCK_THREAD_CPUTIME_ID) -
					    tc0));
	} else if (!strcmp(mode, "io") || !strcmp(mode, "io-timed") ||
		   !strcmp(mode, "mutex")) {
		int is_io = strcmp(mode, "mutex") != 0;

		c0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
		tc0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
		t0 = now_ns();
		if (!strcmp(mode, "io"))
			bench_io(n, k);
		else if (is_io)
			bench_io_timed(n, k);
		else
			bench_mutex(n, k);
		ns = now_ns() - t0;
		printf("mode=%s ns=%llu turns=%ld calls=%ld cpu_ns=%llu "
		       "thread_cpu_ns=%llu\n",
		       mode, (unsigned long long)ns, n, n * k * (is_io ? 2 : 1),
		       (unsigned long long)(cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0),
		       (unsigned long long)(cpu_ns(CLOCK_THREAD_CPUTIME_ID) -
					    tc0));
	} else if (!strcmp(mode, "io-thread") ||
		   !strcmp(mode, "mutex-thread")) {
		struct thread_job job = {.n = n, .k = k};
		pthread_t th;

		job.mutex = !strcmp(mode, "mutex-thread");
		if ((errno = pthread_create(&th, NULL, thread_main, &job)))
			die("pthread_create");
		pthread_join(th, NULL);
		printf("mode=%s ns=%llu turns=0 calls=%ld\n", mode,
		       (unsigned long long)job.ns, n * k * (job.mutex ? 1 : 2));
	} else if (!strcmp(mode, "flood")) {
		const char *path = argc > 3 ? argv[3] : "flood.out";
		char rec[64];
		int fd;

		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			die(path);
		memset(rec, 'r', sizeof(rec));
		rec[sizeof(rec) - 1] = '\n';
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			turn();
			if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
				die("write");
		}
		ns = now_ns() - t0;
		close(fd);
		unlink(path);
		printf("mode=flood ns=%llu turns=%ld calls=%ld\n",
		       (unsigned long long)ns, n, n);
	} else if (!strcmp(mode, "rss")) {
		long step = k > 1000 ? k : n / 10;

		printf("rss_kib turn=0 kib=%ld\n", vm_rss_kib());
		t0 = now_ns();
		for (long i = 1; i <= n; i++) {
			turn();
			if (i % 1000 == 0)
				io_pairs(1);
			if (i % step == 0)
				printf("rss_kib turn=%ld kib=%ld\n", i,
				       vm_rss_kib());
		}
		ns = now_ns() - t0;
		printf("mode=rss ns=%llu turns=%ld calls=%ld\n",
		       (unsigned long long)ns, n, n / 1000 * 2);
	} else {
		fprintf(stderr, "usage: hotpath "
				"turn|io|io-timed|io-thread|mutex|mutex-thread|"
				"flood|"
				"rss|clock|ab-* N [K|FILE]\n");
		return 2;
	}
	fflush(stdout);
	return 0;
}
