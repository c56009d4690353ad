"""single_thread.py - a single-threaded asyncio program that stalls on the
CPU, reads its own thread count, and forks a child that runs no loop.

Prints "threads N" (from /proc/self/status, during and after the stall)
and "fork ok".  Run with -W error::DeprecationWarning on CPython 3.12+,
os.fork() fails if the process has more than one thread.
"""
import asyncio
import os
import time


def threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def burn(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


async def main():
    await asyncio.sleep(0.05)
    burn(0.3)
    print("threads", threads(), flush=True)
    await asyncio.sleep(0.05)
    pid = os.fork()
    if pid == 0:
        # A child that runs no loop: no trace file, nothing of the shim's.
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("fork ok" if status == 0 else "fork failed", flush=True)
    print("threads", threads(), flush=True)


asyncio.run(main())
