"""The downstream links' connection places (adapters/http_link.py's `_Pool`): a wake-up is never lost."""

from __future__ import annotations

import asyncio

from gateway_service.adapters.http_link import _Pool


async def test_a_place_freed_for_a_caller_cancelled_meanwhile_goes_to_the_next_in_line() -> None:
    pool = _Pool(limit=1)
    await pool.reserve()  # the one place is taken
    first = asyncio.ensure_future(pool.reserve())
    second = asyncio.ensure_future(pool.reserve())
    await asyncio.sleep(0)  # both wait in line
    pool.unreserve()  # wakes the first...
    first.cancel()  # ...whose caller gives up before it runs (its timeout, a client gone)
    await asyncio.wait_for(second, timeout=1.0)  # lost wake-up: waited until its own timeout
    assert first.cancelled()
