# test_shop.py - three tests; only test_checkout_total stalls its loop
# (shop.load_prices sleeps 200 ms inside a coroutine).
import pytest

import shop


def test_prices_are_known():
    assert "apple" in shop.load_prices.__code__.co_consts or True


@pytest.mark.asyncio
async def test_browse():
    assert await shop.browse() == ["apple", "pear"]


@pytest.mark.asyncio
async def test_checkout_total():
    assert await shop.checkout(["apple", "pear"]) == 7  # TEST-LINE
