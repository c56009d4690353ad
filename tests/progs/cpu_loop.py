"""cpu_loop.py - one turn of an asyncio loop burns CPU in pure Python.

usage: cpu_loop.py [seconds]   (default 0.35)
The CPU-stall test expects a stall of about that long whose samples hold
the interpreter's eval frames and the Python function burn().
"""
import asyncio
import sys
import time


def burn(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


async def main(seconds):
    await asyncio.sleep(0.05)
    burn(seconds)
    await asyncio.sleep(0.05)


asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.35))
