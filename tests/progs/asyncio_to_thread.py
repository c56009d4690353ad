"""asyncio_to_thread.py - the same sleep offloaded with asyncio.to_thread:
the loop stays free, so stallwatch must report nothing for it
(foundation test 3)."""
import asyncio
import time


def offloaded_sleep():
    time.sleep(0.25)


async def main():
    await asyncio.sleep(0.01)
    await asyncio.to_thread(offloaded_sleep)
    await asyncio.sleep(0.01)


asyncio.run(main())
print("asyncio_to_thread: done")
