"""The Elasticsearch adapter (elasticsearch-py 8) of the search port, its real requests executed by the local
OpenSearch node through a loopback compatibility shim (es_compat_shim.py; what that proves: ADR 0018)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import running_gig_api
from es_compat_shim import ElasticsearchCompatShim
from gig_service.adapters.search_elasticsearch import ElasticsearchGigIndex, create_elasticsearch_client
from gig_service.adapters.search_queries import SORTS, GigQuery, build_query
from gig_service.domain.events import GIG_CREATED, GIG_DELETED, GIG_UPDATED
from gig_service.entrypoints.projection import projection_handler
from gig_service.settings import GigSettings
from opensearchpy.exceptions import ConnectionError as SearchConnectionError
from pydantic import SecretStr
from servicekit.events import EventEnvelope


@pytest.fixture
async def shim(opensearch_url: str) -> AsyncIterator[ElasticsearchCompatShim]:
    running = ElasticsearchCompatShim(opensearch_url)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def index(
    shim: ElasticsearchCompatShim, opensearch_index_prefix: str
) -> AsyncIterator[ElasticsearchGigIndex]:
    adapter = ElasticsearchGigIndex(create_elasticsearch_client(shim.url), f"{opensearch_index_prefix}gigs")
    try:
        yield adapter
    finally:
        await adapter.close()


def event(event_type: str, version: int, **changes: Any) -> EventEnvelope:
    now = datetime.now(UTC).isoformat()
    gig = {
        "id": "gig-1", "seller_id": "s1", "title": "Watercolor portrait", "description": "From your photo",
        "category": "art", "sub_categories": [], "tags": ["portrait"], "price": 1000 * version,
        "currency": "USD", "delivery_days": 2, "cover_image_key": None, "active": True, "deleted": False,
        "rating_average": 0.0, "rating_count": 0, "created_at": now, "updated_at": now, **changes,
    }  # fmt: skip
    return EventEnvelope.new(type=event_type, producer="gig", payload={"gig": gig, "version": version})


async def test_projection_through_the_elasticsearch_adapter_keeps_the_newest_and_searches(
    index: ElasticsearchGigIndex, shim: ElasticsearchCompatShim
) -> None:
    handler = projection_handler(index)
    created, updated = event(GIG_CREATED, 1), event(GIG_UPDATED, 2)
    for envelope in (updated, created, updated, created):  # redelivered and out of order
        await handler(envelope)
    for number in range(2, 6):
        await handler(event(GIG_CREATED, 1, id=f"gig-{number}", price=1000 + number))
    await handler(event(GIG_DELETED, 2, id="gig-5", active=False, deleted=True))
    await handler(event(GIG_UPDATED, 1, id="gig-5"))  # late: never resurrects the deleted gig
    await index.client.indices.refresh(index=index.alias)

    stored = await index.client.get(index=index.alias, id="gig-1")
    assert (stored["_version"], stored["_source"]["price"]) == (2, 2000)
    first = await index.find(build_query(GigQuery("portrait")), sort=SORTS["price_asc"], size=2, facets=True)
    assert first.total == 4  # gig-1..gig-4; gig-5 is a tombstone
    assert [hit["id"] for hit in first.hits] == ["gig-2", "gig-3"]
    assert first.facets["categories"] == [{"key": "art", "count": 4}]
    assert first.next_cursor is not None
    rest = await index.find(
        build_query(GigQuery("portrait")), sort=SORTS["price_asc"], size=2, cursor=first.next_cursor
    )
    assert [hit["id"] for hit in rest.hits] == ["gig-4", "gig-1"]
    assert rest.next_cursor is None  # a full last page: no cursor to an empty page

    async def source() -> AsyncIterator[tuple[dict[str, Any], int]]:
        yield {**stored["_source"], "title": "Rebuilt portrait"}, 3

    before = await index.physical_indices()
    target = await index.reindex(source(), started=datetime.now(UTC))
    assert before == [f"{index.alias}_v1"]
    assert await index.physical_indices() == [target] == [f"{index.alias}_v2"]
    assert shim.rewritten > 0  # the ES client's own media type went through the shim


async def test_an_unreachable_engine_is_an_outage_in_the_ports_terms(opensearch_index_prefix: str) -> None:
    adapter = ElasticsearchGigIndex(
        create_elasticsearch_client("http://127.0.0.1:9", timeout_seconds=1), f"{opensearch_index_prefix}x"
    )
    try:
        with pytest.raises(SearchConnectionError):
            await adapter.find(build_query(GigQuery("x")), sort=SORTS["relevance"], size=1)
    finally:
        await adapter.close()


@pytest.fixture
def es_settings(gig_settings: GigSettings, shim: ElasticsearchCompatShim) -> GigSettings:
    return gig_settings.model_copy(
        update={"search_engine": "elasticsearch", "search_url": SecretStr(shim.url)}
    )


async def test_the_service_with_search_engine_elasticsearch_finds_a_new_gig(
    es_settings: GigSettings, internal_keypair: tuple[str, str]
) -> None:
    async with running_gig_api(es_settings, internal_keypair) as api:
        assert isinstance(api.deps.search, ElasticsearchGigIndex)
        gig = await api.create("seller-1", title="Elastic watercolor")
        deadline = time.monotonic() + 30
        while True:
            found = await api.client.get("/api/v1/gigs/search", params={"q": "watercolor"})
            # A brand-new index answers 503 until its primary shard starts: the first search can race the
            # projection consumer creating it (more often since the write model answers in milliseconds).
            assert found.status_code in (200, 503), found.text
            if found.status_code == 200 and [item["id"] for item in found.json()["items"]] == [gig["id"]]:
                break
            assert time.monotonic() < deadline, found.text
            await asyncio.sleep(0.3)
