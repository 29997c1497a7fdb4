"""The search projection on a real OpenSearch node: idempotent, order-safe, behind an alias."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from gig_service.adapters.search_index import GigSearchIndex
from gig_service.adapters.search_queries import SORTS, GigQuery, build_query
from gig_service.domain.events import GIG_CREATED, GIG_DELETED, GIG_UPDATED
from gig_service.entrypoints.projection import projection_handler
from opensearchpy import AsyncOpenSearch
from servicekit.events import EventEnvelope, EventHandler
from servicekit.search import create_search_client


@pytest.fixture
async def index(opensearch_url: str, opensearch_index_prefix: str) -> AsyncIterator[GigSearchIndex]:
    client: AsyncOpenSearch = create_search_client(opensearch_url)
    try:
        yield GigSearchIndex(client, f"{opensearch_index_prefix}gigs")
    finally:
        await client.close()


def event(event_type: str, version: int, **changes: Any) -> EventEnvelope:
    now = datetime.now(UTC).isoformat()
    gig = {
        "id": "gig-1", "seller_id": "s1", "title": "Watercolor portrait", "description": "From your photo",
        "category": "art", "sub_categories": [], "tags": ["portrait"], "price": 1000 * version,
        "currency": "USD", "delivery_days": 2, "cover_image_key": None, "active": True, "deleted": False,
        "rating_average": 0.0, "rating_count": 0, "created_at": now, "updated_at": now, **changes,
    }  # fmt: skip
    return EventEnvelope.new(type=event_type, producer="gig", payload={"gig": gig, "version": version})


async def indexed(index: GigSearchIndex) -> dict[str, Any]:
    await index.client.indices.refresh(index=index.alias)
    response = await index.client.get(index=index.alias, id="gig-1")
    return {"version": response["_version"], **response["_source"]}


async def deliver(handler: EventHandler, *envelopes: EventEnvelope) -> None:
    for envelope in envelopes:
        await handler(envelope)


async def test_redelivered_and_late_older_events_leave_the_newest_document(index: GigSearchIndex) -> None:
    handler = projection_handler(index)
    created, updated = event(GIG_CREATED, 1), event(GIG_UPDATED, 2)
    await deliver(handler, updated, created, updated, created)
    document = await indexed(index)
    assert (document["version"], document["price"]) == (2, 2000)


async def test_a_late_update_never_resurrects_a_deleted_gig(index: GigSearchIndex) -> None:
    handler = projection_handler(index)
    await deliver(handler, event(GIG_CREATED, 1), event(GIG_DELETED, 3, active=False, deleted=True))
    await deliver(handler, event(GIG_UPDATED, 2))
    assert (await indexed(index))["deleted"] is True
    found = await index.find(build_query(GigQuery("watercolor")), sort=SORTS["relevance"], size=10)
    assert found.total == 0


async def test_data_lives_in_a_versioned_index_behind_the_alias(index: GigSearchIndex) -> None:
    await deliver(projection_handler(index), event(GIG_CREATED, 1))
    assert await index.physical_indices() == [f"{index.alias}_v1"]


async def test_search_finds_by_title_word_with_facets_and_pages_with_a_cursor(index: GigSearchIndex) -> None:
    handler = projection_handler(index)
    for number in range(5):
        envelope = event(GIG_CREATED, 1, id=f"gig-{number}", price=1000 + number)
        await handler(envelope)
    await index.client.indices.refresh(index=index.alias)
    query = build_query(GigQuery("portrait", max_price=1003))
    first = await index.find(query, sort=SORTS["price_asc"], size=2, facets=True)
    assert [hit["price"] for hit in first.hits] == [1000, 1001]
    assert first.facets["categories"] == [{"key": "art", "count": 4}]
    second = await index.find(query, sort=SORTS["price_asc"], size=2, cursor=first.next_cursor)
    assert [hit["price"] for hit in second.hits] == [1002, 1003]
    assert second.next_cursor is None  # a full last page: no cursor to an empty page
