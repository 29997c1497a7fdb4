"""`SearchIndex` on the real OpenSearch of `gigstack_testinfra`: mapping, bulk upsert, delete, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import RequestError
from servicekit.search import InvalidCursorError, SearchIndex, create_search_client

pytestmark = pytest.mark.integration

GIG_MAPPINGS = {
    "properties": {
        "id": {"type": "keyword"},
        "title": {"type": "text"},
        "category": {"type": "keyword"},
        "price": {"type": "integer"},
    }
}


@pytest.fixture
async def client(opensearch_url: str) -> AsyncIterator[AsyncOpenSearch]:
    search_client = create_search_client(opensearch_url, timeout_seconds=10)
    try:
        yield search_client
    finally:
        await search_client.close()


@pytest.fixture
async def gigs(client: AsyncOpenSearch, opensearch_index_prefix: str) -> SearchIndex:
    index = SearchIndex(client, f"{opensearch_index_prefix}gigs", mappings=GIG_MAPPINGS)
    await index.ensure()
    return index


def _gig(number: int, *, price: int = 50, category: str = "design") -> dict[str, Any]:
    return {"id": f"gig-{number:03d}", "title": f"Gig number {number}", "category": category, "price": price}


async def test_ensure_creates_the_explicit_mapping_once(gigs: SearchIndex, client: AsyncOpenSearch) -> None:
    await gigs.ensure()  # a second replica starting: no error, mapping unchanged
    mapping = await client.indices.get_mapping(index=gigs.name)
    stored = mapping[gigs.name]["mappings"]
    assert stored["dynamic"] == "strict"
    assert stored["properties"]["category"] == {"type": "keyword"}


async def test_a_field_outside_the_mapping_is_refused(gigs: SearchIndex) -> None:
    with pytest.raises(RuntimeError, match="gig-001"):
        await gigs.upsert_many([{**_gig(1), "unmapped": "x"}], refresh=True)


async def test_upsert_replaces_and_delete_removes(gigs: SearchIndex) -> None:
    assert await gigs.upsert_many([_gig(1), _gig(2)], refresh=True) == 2
    await gigs.upsert_many([{**_gig(1), "title": "Renamed gig"}], refresh=True)

    page = await gigs.page({"match": {"title": "renamed"}})
    assert [hit["id"] for hit in page.hits] == ["gig-001"]
    assert await gigs.delete("gig-001", refresh=True) is True
    assert await gigs.delete("gig-001", refresh=True) is False
    assert (await gigs.page({"match_all": {}})).total == 1


async def test_pages_visit_every_match_once_even_when_sort_values_tie(gigs: SearchIndex) -> None:
    # 25 gigs sharing three prices: without the unique tiebreaker, search_after would skip or repeat ties.
    await gigs.upsert_many([_gig(n, price=10 * (n % 3)) for n in range(25)], refresh=True)
    await gigs.upsert_many([_gig(100, category="writing")], refresh=True)

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await gigs.page(
            {"term": {"category": "design"}}, sort=[{"price": "desc"}], size=7, cursor=cursor
        )
        assert page.total == 25
        seen += [hit["id"] for hit in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"gig-{n:03d}" for n in range(25))
    assert len(seen) == len(set(seen))
    prices = [int(gig_id[4:]) % 3 for gig_id in seen]
    assert prices == sorted(prices, reverse=True)


@pytest.mark.parametrize("cursor", ["not-base64!", "e30", "WyJhIiwgeyJiIjogMX1d"])
async def test_a_forged_cursor_is_a_client_error(gigs: SearchIndex, cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        await gigs.page({"match_all": {}}, cursor=cursor)


async def test_a_cursor_from_another_sort_order_is_a_client_error(gigs: SearchIndex) -> None:
    """A client reusing a cursor with another `sort`: the engine refused it with a 400, which surfaced as a
    500 (a 502 at the gateway). Another number of sort keys, or the same number of another type."""
    await gigs.upsert_many([_gig(n, price=n) for n in range(3)], refresh=True)
    by_price = await gigs.page({"match_all": {}}, sort=[{"price": "asc"}], size=1)
    by_category = await gigs.page({"match_all": {}}, sort=[{"category": "asc"}], size=1)
    assert by_price.next_cursor is not None
    assert by_category.next_cursor is not None
    with pytest.raises(InvalidCursorError):  # two values for one sort key (the tiebreaker)
        await gigs.page({"match_all": {}}, cursor=by_price.next_cursor)
    with pytest.raises(InvalidCursorError):  # a category where an integer price belongs
        await gigs.page({"match_all": {}}, sort=[{"price": "asc"}], cursor=by_category.next_cursor)


def test_the_tiebreaker_must_be_a_keyword_field(client: AsyncOpenSearch) -> None:
    with pytest.raises(ValueError, match="tiebreaker"):
        SearchIndex(client, "gigs", mappings={"properties": {"id": {"type": "text"}}})


async def test_ensure_reports_a_real_creation_error(
    client: AsyncOpenSearch, opensearch_index_prefix: str
) -> None:
    broken = SearchIndex(
        client,
        f"{opensearch_index_prefix}broken",
        mappings={"properties": {"id": {"type": "keyword"}}},
        settings={"number_of_shards": 0},
    )
    with pytest.raises(RequestError):
        await broken.ensure()


async def test_a_full_last_page_has_no_cursor(gigs: SearchIndex) -> None:
    """A page of exactly `size` hits with nothing after it handed out a cursor that led only to an empty
    page; now a cursor comes only when another hit exists."""
    await gigs.upsert_many([_gig(n, price=n) for n in range(4)], refresh=True)
    whole = await gigs.page({"match_all": {}}, sort=[{"price": "asc"}], size=4)
    assert (len(whole.hits), whole.next_cursor) == (4, None)
    first = await gigs.page({"match_all": {}}, sort=[{"price": "asc"}], size=3)
    assert [hit["id"] for hit in first.hits] == ["gig-000", "gig-001", "gig-002"]
    assert first.next_cursor is not None
    rest = await gigs.page({"match_all": {}}, sort=[{"price": "asc"}], size=3, cursor=first.next_cursor)
    assert ([hit["id"] for hit in rest.hits], rest.next_cursor) == (["gig-003"], None)
