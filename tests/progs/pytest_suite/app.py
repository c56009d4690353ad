# app.py - the code under test in the pytest suite that
# tests/integration/test_pytest_tests.c runs under the shim: checkout()
# hides a blocking call inside a coroutine.
import time


async def checkout(total):
    time.sleep(0.2)  # blocks the event loop
    return total
