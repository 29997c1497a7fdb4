"""`unless_client_leaves`: the call is cancelled when the client leaves, and only then.

The real servers' view is tests/integration/test_disconnect_cancels_downstream_http.py; these pin the task
rules the integration test cannot reach: a shutdown's cancellation is never taken for a client leaving.
"""

from __future__ import annotations

import asyncio

import pytest
from gateway_service.entrypoints.client_disconnect import unless_client_leaves
from starlette.requests import ClientDisconnect
from starlette.types import Message


async def _never() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def _disconnect_after(seconds: float) -> Message:
    await asyncio.sleep(seconds)
    return {"type": "http.disconnect"}


async def _answer_after(seconds: float, answer: str = "answer") -> str:
    await asyncio.sleep(seconds)
    return answer


async def test_the_answer_comes_back_while_the_client_stays() -> None:
    assert await unless_client_leaves(_never, _answer_after(0)) == "answer"


async def test_a_client_leaving_cancels_the_call() -> None:
    cancelled = asyncio.Event()

    async def call() -> str:
        try:
            return await _answer_after(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with asyncio.timeout(5):
        with pytest.raises(ClientDisconnect):
            await unless_client_leaves(lambda: _disconnect_after(0.01), call())
    assert cancelled.is_set()
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_shutdown_cancellation_is_not_taken_for_a_client_leaving() -> None:
    running = asyncio.create_task(unless_client_leaves(_never, _answer_after(30)))
    await asyncio.sleep(0.01)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_a_receive_that_fails_leaves_the_call_to_run_to_its_end() -> None:
    async def broken() -> Message:
        raise RuntimeError("no server to listen to")

    assert await unless_client_leaves(broken, _answer_after(0.01)) == "answer"
