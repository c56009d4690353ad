"""asyncio_subprocess.py - two asyncio.run() loops in a row on one thread,
each starting a subprocess (vfork + close_range in the child, which shares
the parent's memory) and then sleeping 0.12 s on the loop thread in
second_loop_sleep / first_loop_sleep.  Each loop must be its own, ended
when its epoll fd closes, with its own stall."""
import asyncio
import subprocess
import time


def first_loop_sleep():
    time.sleep(0.12)


def second_loop_sleep():
    time.sleep(0.12)


async def first():
    subprocess.run(["true"])
    await asyncio.sleep(0.01)
    first_loop_sleep()
    await asyncio.sleep(0.01)


async def second():
    subprocess.run(["true"])
    await asyncio.sleep(0.01)
    second_loop_sleep()
    await asyncio.sleep(0.01)


asyncio.run(first())
asyncio.run(second())
print("asyncio_subprocess: done")
