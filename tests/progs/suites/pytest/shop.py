# shop.py - the code under test: checkout() hides a blocking call that
# holds up the event loop of whatever coroutine awaits it.
import asyncio
import time


def load_prices():
    time.sleep(0.2)  # BLOCKING-LINE
    return {"apple": 3, "pear": 4}


async def checkout(items):
    prices = load_prices()
    return sum(prices[i] for i in items)


async def browse():
    await asyncio.sleep(0.01)
    return ["apple", "pear"]
