"""Start-up and background work of the chat process: indexes, the unread-email sweep and the offer-expiry
sweep (each replica runs both; their versioned writes make a second replica's round a no-op)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from pymongo.errors import PyMongoError

from chat_service.adapters.repositories import ensure_indexes
from chat_service.entrypoints.bootstrap import ChatDependencies
from chat_service.service_layer.offers import expire_due_offers
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
    # Indexes first (idempotent; retried while the store is unreachable), then the sweeps forever.
    while True:
        try:
            await ensure_indexes(deps.database)
            break
        except PyMongoError as error:
            logger.warning("creating indexes failed (%r); retrying", error)
            await asyncio.sleep(2.0)
    async with asyncio.TaskGroup() as sweeps:
        sweeps.create_task(_unread_sweep(deps))
        sweeps.create_task(_offer_expiry_sweep(deps))


async def _unread_sweep(deps: ChatDependencies) -> None:
    while True:
        await asyncio.sleep(deps.unread_sweep_interval_seconds)
        try:
            staged = await send_unread_notices(deps.handlers)
        except PyMongoError as error:
            logger.warning("unread-email sweep failed (%r); next round retries", error)
            continue
        if staged:
            logger.info("unread-message emails staged", extra={"count": staged})


async def _offer_expiry_sweep(deps: ChatDependencies) -> None:
    while True:
        await asyncio.sleep(deps.offer_expiry_sweep_interval_seconds)
        try:
            expired = await expire_due_offers(deps.handlers)
        except PyMongoError as error:
            logger.warning("offer-expiry sweep failed (%r); next round retries", error)
            continue
        if expired:
            logger.info("offers expired", extra={"count": expired})
