# run_blocks_in.py NAME - an asyncio program whose coroutine blocks its
# loop for 150 ms in the function NAME (first_run or second_run), so two
# runs into one output directory can be told apart by their stalls.
import asyncio
import sys
import time


def first_run():
    time.sleep(0.15)


def second_run():
    time.sleep(0.15)


async def main():
    await asyncio.sleep(0.02)
    {"first_run": first_run, "second_run": second_run}[sys.argv[1]]()
    await asyncio.sleep(0.02)


asyncio.run(main())
