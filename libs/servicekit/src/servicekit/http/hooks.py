"""Small pieces of a service's composition root: closing its clients at shutdown, set-up retried in the
background, reaching its `deps`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

__all__ = ["app_deps", "close_on_shutdown", "retry_in_background"]

logger = logging.getLogger(__name__)


def close_on_shutdown(
    *closers: Callable[[], Awaitable[object]], timeout_seconds: float = 5.0
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan hook that awaits `closers` (e.g. `engine.dispose`, `redis.aclose`) in order at shutdown.

    Each gets its own timeout and a failure is logged, not raised: one client that cannot close cleanly
    must not keep the others open or turn a clean exit into a crash.
    """

    @asynccontextmanager
    async def hook(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for close in closers:
                try:
                    await asyncio.wait_for(close(), timeout=timeout_seconds)
                except Exception:
                    logger.warning("closing %s failed", getattr(close, "__qualname__", close), exc_info=True)

    return hook


def retry_in_background(
    action: Callable[[], Awaitable[object]],
    *,
    name: str,
    first_delay_seconds: float = 0.5,
    max_delay_seconds: float = 10.0,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan hook running `action` in the background until it succeeds once, with doubling delays.

    For set-up a service wants done early but must not block startup or readiness on (indexes, a search
    index): a store that is down at boot is retried until it answers; the task is cancelled at shutdown.
    """

    async def until_done() -> None:
        delay = first_delay_seconds
        while True:
            try:
                await action()
            except Exception as error:  # any store failure: the next attempt may succeed
                logger.warning("%s failed (%r); retrying in %.1fs", name, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay_seconds)
            else:
                logger.info("%s done", name)
                return

    @asynccontextmanager
    async def hook(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(until_done(), name=name)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return hook


async def app_deps(request: Request) -> Any:
    """The dependencies object `create_service_app(deps=...)` stored; services alias it with `Annotated`.

    `async def`: FastAPI runs plain `def` dependencies in its threadpool, a thread hop per request for a read.
    """
    return request.app.state.deps
