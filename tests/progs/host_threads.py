"""host_threads.py - the thread count of a single-threaded asyncio service,
read from /proc/self/status in the middle of a CPU stall long enough to be
sampled, and again after the loop idled.  Run plain and under the shim:
the counts must be the same (1).
"""
import asyncio
import time


def threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def burn_then_count(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return threads()


async def main():
    await asyncio.sleep(0.02)
    stalled = burn_then_count(0.3)
    for _ in range(3):
        await asyncio.sleep(0.1)
    print("threads during a stall: %d, while idle: %d" % (stalled, threads()))


asyncio.run(main())
