"""Prepare the search index in the background at startup.

Without this the first gig written after a deployment also pays for creating the index and waiting for
its primary shard (1-2 s on OpenSearch), on top of the refresh interval, before it is searchable.
Readiness does not wait for it: search is not needed to write gigs (the outbox and the projection catch
up), and an engine that is down at startup is retried here until it answers or the service stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from servicekit.http import LifespanHook

from gig_service.adapters.search_port import GigSearch

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


def prepare_search_index_at_startup(
    search: GigSearch, *, retry_seconds: float = RETRY_SECONDS
) -> LifespanHook:
    @asynccontextmanager
    async def hook(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_ensure_until_done(search, retry_seconds), name="search-index-warmup")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return hook


async def _ensure_until_done(search: GigSearch, retry_seconds: float) -> None:
    while True:
        try:
            await search.ensure()
        except Exception as error:  # any engine failure: the request path and the projection ensure() too
            logger.warning(
                "search index not prepared yet; retrying",
                extra={"error_class": type(error).__name__, "retry_seconds": retry_seconds},
            )
            await asyncio.sleep(retry_seconds)
        else:
            logger.info("search index prepared")
            return
