# stdio_print.py - an asyncio callback that print()s 1 MiB to stdout,
# which tests/integration/test_stdio_blocking.c connects to a pipe it
# drains late: the loop stalls in the write under print().
import asyncio
import sys

BIG = "p" * (1 << 20)


def log_callback():
    print(BIG)  # LINE:print
    sys.stdout.flush()


async def main():
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.05)
    loop.call_soon(log_callback)
    await asyncio.sleep(0.1)


asyncio.run(main())
