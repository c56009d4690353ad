/*
 * dlopen_stress.cc - loop threads that keep the loader and the exception
 * unwinder busy while they are sampled: dlopen/dlclose, C++ throws caught
 * several frames up, destructors run by unwinding, _Unwind_Backtrace, and
 * pthread_cancel (forced unwinding).  A non-loop thread does the same at
 * the same time, so the loader lock is also taken from elsewhere.
 *
 * usage: dlopen_stress [seconds [loop_threads]]
 * Exits 0 when every throw was caught, every destructor ran and every
 * backtrace started in its caller; prints a one-line summary.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

#include <atomic>
#include <stdexcept>
#include <string>

static const char *const libs[] = {
    "libz.so.1",   "libbz2.so.1.0", "libexpat.so.1", "libresolv.so.2",
    "libanl.so.1", "libgmp.so.10",  "libffi.so.8",   "libsqlite3.so.0",
};

static std::atomic<long> thrown, caught, dtors, dlopens, backtraces, bad_bt,
    cancels, cancel_dtors;
static std::atomic<bool> stop;

static uint64_t now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct Counted {
	std::atomic<long> &n;
	explicit Counted(std::atomic<long> &c) : n(c)
	{
	}
	~Counted()
	{
		n++;
	}
};

__attribute__((noinline)) static void thrower(int depth)
{
	Counted c(dtors); // a cleanup landing pad on every level
	if (depth == 0) {
		thrown++;
		throw std::runtime_error("stress " +
					 std::to_string(thrown.load()));
	}
	thrower(depth - 1);
}

__attribute__((noinline)) static void throw_and_catch()
{
	try {
		thrower(8);
	} catch (const std::exception &e) {
		caught++;
	}
	try {
		try {
			thrower(3);
		} catch (...) {
			throw; // rethrow: __cxa_rethrow
		}
	} catch (const std::runtime_error &) {
		caught++;
	}
}

struct BtState {
	int frames;
	uintptr_t first;
};

static _Unwind_Reason_Code bt_cb(struct _Unwind_Context *ctx, void *arg)
{
	BtState *s = static_cast<BtState *>(arg);

	if (s->frames++ == 0)
		s->first = _Unwind_GetIP(ctx);
	return s->frames < 64 ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* The first frame _Unwind_Backtrace reports must be this function. */
__attribute__((noinline)) static void backtrace_here()
{
	BtState s = {0, 0};

	_Unwind_Backtrace(bt_cb, &s);
	backtraces++;
	uintptr_t self = (uintptr_t)&backtrace_here;
	if (s.first < self || s.first > self + 512)
		bad_bt++;
}

static void load_unload(unsigned i)
{
	void *h = dlopen(libs[i % (sizeof(libs) / sizeof(libs[0]))],
			 RTLD_NOW | RTLD_LOCAL);

	if (h) {
		dlsym(h, "zlibVersion");
		dlclose(h);
		dlopens++;
	}
}

static void *cancelled_main(void *)
{
	Counted c(cancel_dtors);
	for (;;)
		pause(); // a cancellation point: forced unwinding runs ~Counted
	return nullptr;
}

static void cancel_one()
{
	pthread_t th;

	if (pthread_create(&th, nullptr, cancelled_main, nullptr) != 0)
		return;
	usleep(1000);
	pthread_cancel(th);
	pthread_join(th, nullptr);
	cancels++;
}

/* One busy stretch: what a long loop turn does. */
static void busy_for(uint64_t ns, unsigned &i)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end) {
		load_unload(i++);
		throw_and_catch();
		backtrace_here();
	}
}

static void *loop_main(void *arg)
{
	uint64_t deadline = *static_cast<uint64_t *>(arg);
	struct itimerspec its = {{0, 1000000}, {0, 1000000}};
	struct epoll_event ev = {}, out[4];
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	unsigned i = 0, turn = 0;

	ev.events = EPOLLIN;
	ev.data.fd = tfd;
	timerfd_settime(tfd, 0, &its, nullptr);
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	while (now_ns() < deadline) {
		int n = epoll_wait(epfd, out, 4, 100);

		for (int k = 0; k < n; k++) {
			uint64_t x;

			if (read(tfd, &x, sizeof(x)) < 0)
				continue;
			/* long turns (sampled), with short ones between */
			busy_for((turn++ % 2) ? 2000000ull : 80000000ull, i);
			if (turn % 10 == 0)
				cancel_one();
		}
	}
	close(tfd);
	close(epfd);
	return nullptr;
}

static void *other_main(void *)
{
	unsigned i = 3;

	while (!stop.load())
		busy_for(5000000ull, i);
	return nullptr;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5.0;
	int nloops = argc > 2 ? atoi(argv[2]) : 2;
	uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
	pthread_t other, loops[16];

	if (nloops < 1 || nloops > 16)
		nloops = 2;
	pthread_create(&other, nullptr, other_main, nullptr);
	for (int k = 1; k < nloops; k++)
		pthread_create(&loops[k], nullptr, loop_main, &deadline);
	loop_main(&deadline);
	for (int k = 1; k < nloops; k++)
		pthread_join(loops[k], nullptr);
	stop = true;
	pthread_join(other, nullptr);

	bool ok = thrown.load() == caught.load() && bad_bt.load() == 0 &&
		  cancel_dtors.load() == cancels.load() && thrown.load() > 0;
	printf("dlopen_stress: %s throws=%ld caught=%ld dtors=%ld dlopens=%ld "
	       "backtraces=%ld bad_backtraces=%ld cancels=%ld\n",
	       ok ? "ok" : "FAILED", thrown.load(), caught.load(), dtors.load(),
	       dlopens.load(), backtraces.load(), bad_bt.load(),
	       cancels.load());
	return ok ? 0 : 1;
}
