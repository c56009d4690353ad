# asyncio_os_exit.py [fork] - an asyncio program that stalls once (a
# time.sleep in a coroutine) and ends with os._exit(3), as forked servers
# do; with "fork", a multiprocessing worker (fork start method) does that
# and ends the way multiprocessing ends its workers, with os._exit(0).
# tests/integration/test_underscore_exit.c checks it is reported as exited.
import asyncio
import multiprocessing
import os
import sys
import time


async def handler():
    await asyncio.sleep(0.05)
    time.sleep(0.2)  # the stall
    await asyncio.sleep(0.05)


def worker():
    asyncio.run(handler())


if len(sys.argv) > 1 and sys.argv[1] == "fork":
    p = multiprocessing.get_context("fork").Process(target=worker)
    p.start()
    p.join()
    sys.exit(p.exitcode)
asyncio.run(handler())
sys.stdout.flush()
os._exit(3)
