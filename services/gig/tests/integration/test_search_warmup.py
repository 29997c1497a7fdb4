"""The search index is prepared at startup, before any gig is written (the first gig then pays only the
refresh interval to be searchable, not the index creation and its shard allocation too)."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import GigApi
from gig_service.settings import GigSettings
from servicekit.search import create_search_client

pytestmark = [pytest.mark.integration]


async def test_the_index_exists_after_startup_with_no_gig_written(
    gig_api: GigApi, gig_settings: GigSettings, opensearch_url: str
) -> None:
    client = create_search_client(opensearch_url, timeout_seconds=10)
    try:
        deadline = time.monotonic() + 30
        while not await client.indices.exists_alias(name=gig_settings.search_index_alias):
            assert time.monotonic() < deadline, "no search index 30 s after startup"
            await asyncio.sleep(0.2)
        health = await client.cluster.health(index=gig_settings.search_index_alias)
        assert health["status"] in ("yellow", "green")
    finally:
        await client.close()
