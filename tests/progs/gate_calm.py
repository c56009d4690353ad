# gate_calm.py - a well-behaved asyncio program: it only ever awaits, so
# its loop never stalls and `stallwatch gate` must pass it.
import asyncio


async def tick(n):
    for _ in range(n):
        await asyncio.sleep(0.005)


async def main():
    await asyncio.gather(tick(20), tick(15))


asyncio.run(main())
