# test_cart.py - three tests, one of which stalls the event loop through
# app.checkout(); run by tests/integration/test_pytest_tests.c.
import asyncio

import pytest

from app import checkout


def test_add():
    assert 1 + 1 == 2


@pytest.mark.asyncio
async def test_checkout_total():
    assert await checkout(3) == 3


@pytest.mark.asyncio
async def test_quick():
    await asyncio.sleep(0.01)
