"""host_fork.py - os.fork() from a single-threaded asyncio program after a
sampled CPU stall.  CPython 3.12 warns (DeprecationWarning) when a process
with other threads forks; this one has none of its own, so any warning
comes from the shim.  The child exits 7; the parent prints its status.
"""
import asyncio
import os
import time
import warnings

warnings.simplefilter("always", DeprecationWarning)


async def main():
    await asyncio.sleep(0.02)
    end = time.thread_time() + 0.3
    while time.thread_time() < end:
        pass
    await asyncio.sleep(0.02)
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    print("child exit", os.waitstatus_to_exitcode(status))


asyncio.run(main())
