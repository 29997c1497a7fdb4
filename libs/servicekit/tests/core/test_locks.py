"""`KeyedLocks`: one writer per key at a time, keys independent, nothing kept once nobody holds a key."""

from __future__ import annotations

import asyncio

import pytest
from servicekit.locks import KeyedLocks


async def test_one_holder_per_key_at_a_time_and_other_keys_run_alongside() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}

    async def write(key: str) -> None:
        async with locks.hold(key):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            await asyncio.sleep(0.001)
            inside[key] -= 1

    both_at_once = asyncio.Event()

    async def hold_a_while_b_runs() -> None:
        async with locks.hold("a"), locks.hold("b"):  # another key does not wait for "a"
            both_at_once.set()

    await asyncio.gather(*(write(key) for key in "ab" * 10), hold_a_while_b_runs())
    assert most == {"a": 1, "b": 1}
    assert both_at_once.is_set()
    assert len(locks) == 0


async def test_a_waiter_cancelled_or_a_holder_failing_leaves_nothing_behind() -> None:
    locks = KeyedLocks()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("gig"):
            await release.wait()
            raise RuntimeError("the write failed")

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(locks.hold("gig").__aenter__())
    await asyncio.sleep(0)
    assert len(locks) == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    with pytest.raises(RuntimeError):
        await held
    assert len(locks) == 0


def test_a_registry_holding_no_key_is_still_truthy() -> None:
    """`shared or KeyedLocks()` must keep a shared registry that happens to be idle."""
    shared = KeyedLocks()
    assert len(shared) == 0
    assert (shared or KeyedLocks()) is shared
