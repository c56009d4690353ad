/*
 * stress_loops.c - many event loops under fire, with a known number of
 * stalls (the stress test; scripts/stress.sh runs it).
 *
 * usage: stress_loops THREADS SECONDS STALL_MS
 *
 * THREADS loop threads each run their own epoll loop on a 10 ms timerfd.
 * Every 25th turn of a thread is a stall of STALL_MS: a nanosleep (a
 * blocking call), or on threads 0-1 a CPU spin (sampled).  Meanwhile one
 * thread spawns /bin/true (posix_spawn) and forks children that exit at
 * once, another dlopens and dlcloses libraries, and the process takes
 * SIGUSR1 from outside.  At the end it prints the number of stalls it
 * caused, which the trace must match exactly.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int stall_ms, seconds;
static atomic_int stop;
static atomic_long caused, turns, spawned, dlopens;
static volatile sig_atomic_t usr1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin(int ms)
{
	double end = now_s() + ms / 1000.0;
	volatile unsigned long x = 0;

	while (now_s() < end)
		x++;
}

static void *loop_thread(void *arg)
{
	long id = (long)arg, n = 0;
	struct itimerspec its = {{0, 10000000}, {0, 10000000}};
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	uint64_t ticks;

	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev)) {
		perror("stress_loops: setup");
		exit(1);
	}
	while (!atomic_load(&stop)) {
		if (epoll_wait(ep, &ev, 1, 100) <= 0)
			continue;
		if (read(tfd, &ticks, sizeof(ticks)) < 0)
			continue;
		atomic_fetch_add(&turns, 1);
		if (++n % 25 == 0) {
			if (id < 2) {
				spin(stall_ms);
			} else {
				struct timespec ts = {0, stall_ms * 1000000L};
				nanosleep(&ts, NULL);
			}
			atomic_fetch_add(&caused, 1);
		}
	}
	close(tfd);
	close(ep);
	return NULL;
}

static void *spawner(void *arg)
{
	char *argv[] = {"true", NULL};
	long n = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		pid_t pid;

		if (++n % 100 == 0) {
			pid = fork();
			if (pid == 0)
				_exit(0);
		} else if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv,
				       environ) != 0) {
			pid = -1;
		}
		if (pid > 0) {
			waitpid(pid, NULL, 0);
			atomic_fetch_add(&spawned, 1);
		}
		usleep(20000);
	}
	return NULL;
}

static void *loader(void *arg)
{
	static const char *const libs[] = {"libanl.so.1", "libutil.so.1",
					   "libz.so.1"};
	long n = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		void *h = dlopen(libs[n++ % 3], RTLD_NOW | RTLD_LOCAL);

		if (h) {
			dlclose(h);
			atomic_fetch_add(&dlopens, 1);
		}
		usleep(2000);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

int main(int argc, char **argv)
{
	int nthreads, i;
	pthread_t *th, sp, ld;
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};

	if (argc != 4) {
		fprintf(stderr, "usage: %s THREADS SECONDS STALL_MS\n",
			argv[0]);
		return 2;
	}
	nthreads = atoi(argv[1]);
	seconds = atoi(argv[2]);
	stall_ms = atoi(argv[3]);
	sigaction(SIGUSR1, &sa, NULL);
	th = calloc((size_t)nthreads, sizeof(*th));
	if (!th)
		return 1;
	for (i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, loop_thread, (void *)(long)i);
	pthread_create(&sp, NULL, spawner, NULL);
	pthread_create(&ld, NULL, loader, NULL);
	/* sleep() returns early on each SIGUSR1: wait for the deadline. */
	for (double end = now_s() + seconds; now_s() < end;)
		usleep(100000);
	atomic_store(&stop, 1);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	pthread_join(sp, NULL);
	pthread_join(ld, NULL);
	printf("caused %ld turns %ld spawned %ld dlopens %ld usr1 %d\n",
	       atomic_load(&caused), atomic_load(&turns), atomic_load(&spawned),
	       atomic_load(&dlopens), (int)usr1);
	free(th);
	return 0;
}
