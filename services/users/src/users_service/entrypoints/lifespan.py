"""Lifespan hook creating the profile indexes in the background, retried until the store answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from users_service.adapters.profiles import MongoProfileReader

logger = logging.getLogger(__name__)

_RETRY_DELAY_CAP_SECONDS = 10.0


def indexes_hook(profiles: MongoProfileReader) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Never blocks startup on the store: an outage at boot is a not-ready pod (readiness pings Mongo)."""

    @asynccontextmanager
    async def hook(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_ensure_indexes(profiles), name="profile-indexes")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return hook


async def _ensure_indexes(profiles: MongoProfileReader) -> None:
    delay = 0.5
    while True:
        try:
            await profiles.ensure_indexes()
            return
        except Exception as error:
            logger.warning("creating profile indexes failed (%r); retrying in %.1fs", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_DELAY_CAP_SECONDS)
