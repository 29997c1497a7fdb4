"""Small pieces of a service's composition root: closing its clients at shutdown, reaching its `deps`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

__all__ = ["app_deps", "close_on_shutdown"]

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


async def app_deps(request: Request) -> Any:
    """The dependencies object `create_service_app(deps=...)` stored; services alias it with `Annotated`.

    `async def`: FastAPI runs plain `def` dependencies in its threadpool, a thread hop per request for a read.
    """
    return request.app.state.deps
