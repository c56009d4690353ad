"""asyncio_sleep.py - a coroutine that calls time.sleep on the loop thread:
the blocking call stallwatch must report (foundation test 2)."""
import asyncio
import time


async def blocking_handler():
    time.sleep(0.25)


async def main():
    await asyncio.sleep(0.01)
    await blocking_handler()
    await asyncio.sleep(0.01)


asyncio.run(main())
print("asyncio_sleep: done")
