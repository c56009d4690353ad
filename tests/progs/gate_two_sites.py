# gate_two_sites.py - one stall explained by two blocking calls: most of it
# in slow_render() (150 ms), a little in tidy() (30 ms).  An allowlist
# naming slow_render exempts the stall; one naming tidy does not.
import asyncio
import time


def slow_render():
    time.sleep(0.15)  # MAIN-SITE


def tidy():
    time.sleep(0.03)


async def handler():
    slow_render()
    tidy()


async def main():
    await asyncio.sleep(0.02)
    await handler()
    await asyncio.sleep(0.02)


asyncio.run(main())
