"""Start-up and background work of the chat process: indexes, and the unread-email sweep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from pymongo.errors import PyMongoError

from chat_service.adapters.repositories import ensure_indexes
from chat_service.entrypoints.bootstrap import ChatDependencies
from chat_service.service_layer.unread import send_unread_notices

logger = logging.getLogger(__name__)


def background_hook(deps: ChatDependencies) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def hook(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_run(deps), name="chat:background")
        try:
            yield
        finally:
            task.cancel()
            # Bounded: a store call that does not notice the cancellation must not hold up shutdown.
            await asyncio.wait({task}, timeout=5.0)

    return hook


async def _run(deps: ChatDependencies) -> None:
    # Indexes first (idempotent; retried while the store is unreachable), then the sweep forever.
    while True:
        try:
            await ensure_indexes(deps.database)
            break
        except PyMongoError as error:
            logger.warning("creating indexes failed (%r); retrying", error)
            await asyncio.sleep(2.0)
    while True:
        await asyncio.sleep(deps.unread_sweep_interval_seconds)
        try:
            staged = await send_unread_notices(deps.handlers)
        except PyMongoError as error:
            logger.warning("unread-email sweep failed (%r); next round retries", error)
            continue
        if staged:
            logger.info("unread-message emails staged", extra={"count": staged})
