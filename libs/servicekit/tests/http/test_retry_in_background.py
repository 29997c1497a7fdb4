"""`retry_in_background`: set-up that must not block startup runs until it succeeds once, and stops with
the app."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from servicekit.http import retry_in_background


async def test_the_action_is_retried_until_it_succeeds_once_without_blocking_startup() -> None:
    attempts = 0
    done = asyncio.Event()

    async def create_indexes() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("store not up yet")
        done.set()

    hook = retry_in_background(create_indexes, name="indexes", first_delay_seconds=0.01)
    async with hook(FastAPI()):
        assert attempts <= 1  # startup did not wait for the retries
        await asyncio.wait_for(done.wait(), timeout=5)
        await asyncio.sleep(0.05)
    assert attempts == 3  # succeeded once, then never ran again


async def test_a_store_that_stays_down_is_retried_until_shutdown_and_then_left_alone() -> None:
    attempts = 0

    async def never_works() -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("down")

    hook = retry_in_background(never_works, name="indexes", first_delay_seconds=0.01, max_delay_seconds=0.02)
    async with hook(FastAPI()):
        await asyncio.sleep(0.2)
    stopped_at = attempts
    assert stopped_at >= 3
    await asyncio.sleep(0.1)
    assert attempts == stopped_at  # the task was cancelled at shutdown
