# gate_block.py - a coroutine that blocks its event loop for 250 ms in a
# plain function (the gate must name this file and the sleep's line).
# The tests copy it to a hostile file name before running it.
import asyncio
import time


def block():
    time.sleep(0.25)  # the blocking call


async def handler():
    block()


async def main():
    await asyncio.sleep(0.02)
    await handler()
    await asyncio.sleep(0.02)


asyncio.run(main())
