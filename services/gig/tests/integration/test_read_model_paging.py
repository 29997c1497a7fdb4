"""gigs.topRated and gigs.similar take back the `next_cursor` they hand out.

Both answered a `next_cursor` ("pass back as `cursor`") but had no `cursor` parameter: a client following it
got the first page again, forever. Real FerretDB and OpenSearch, through the gig service's HTTP API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from conftest import GigApi

pytestmark = pytest.mark.integration

SEARCHABLE_WITHIN_SECONDS = 30.0


async def _every_page(gig_api: GigApi, path: str, params: dict[str, Any]) -> list[list[str]]:
    """The ids of each page, following `next_cursor` to the end (a repeating cursor fails, not loops)."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(10):
        answer = await gig_api.client.get(path, params=params | ({"cursor": cursor} if cursor else {}))
        assert answer.status_code == 200, answer.text
        pages.append([item["id"] for item in answer.json()["items"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"{path}: still a next_cursor after 10 pages: {pages}")


async def _searchable(gig_api: GigApi, category: str, count: int) -> None:
    deadline = time.monotonic() + SEARCHABLE_WITHIN_SECONDS
    while True:
        answer = await gig_api.client.get(f"/api/v1/gigs/category/{category}")
        if answer.status_code == 200 and answer.json()["total"] == count:
            return
        assert time.monotonic() < deadline, f"the gigs never became searchable: {answer.text}"
        await asyncio.sleep(0.2)


async def test_top_rated_and_similar_page_with_their_cursor(gig_api: GigApi) -> None:
    word = f"zq{uuid.uuid4().hex[:10]}"
    category = f"paging-{word}"
    created = [
        (await gig_api.create("pager", title=f"{word} portrait number {n}", category=category))["id"]
        for n in range(4)
    ]
    await _searchable(gig_api, category, len(created))

    top = await _every_page(gig_api, "/api/v1/gigs/top-rated", {"category": category, "size": 3})
    assert [len(page) for page in top] == [3, 1]
    assert sorted(gig for page in top for gig in page) == sorted(created)

    similar = await _every_page(gig_api, f"/api/v1/gigs/{created[0]}/similar", {"size": 2})
    seen = [gig for page in similar for gig in page]
    assert len(similar) > 1
    assert len(seen) == len(set(seen))
    assert set(created[1:]) <= set(seen)


@pytest.mark.parametrize("path", ["/api/v1/gigs/top-rated", "/api/v1/gigs/some-gig/similar"])
async def test_a_foreign_cursor_is_the_documented_400(gig_api: GigApi, path: str) -> None:
    answer = await gig_api.client.get(path, params={"cursor": "0" * 40})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_cursor"
