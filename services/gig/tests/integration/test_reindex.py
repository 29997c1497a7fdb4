"""`reindex` rebuilds the read model from the write model into a new physical index and moves the alias."""

from __future__ import annotations

import asyncio

from conftest import GigApi
from gig_service.entrypoints.reindex import reindex


async def _indexed_ids(api: GigApi) -> set[str]:
    alias = api.deps.search.alias
    await api.deps.search_client.indices.refresh(index=alias)
    response = await api.deps.search_client.search(
        index=alias, body={"size": 100, "query": {"match_all": {}}}
    )
    return {hit["_id"] for hit in response["hits"]["hits"]}


async def test_reindex_swaps_the_alias_to_a_new_index_holding_every_gig(gig_api: GigApi) -> None:
    ids = {(await gig_api.create("seller-1", title=f"Reindexed gig {n}"))["id"] for n in range(5)}
    search = gig_api.deps.search
    for _ in range(100):  # the projection creates <alias>_v1 and fills it
        if await search.physical_indices() and await _indexed_ids(gig_api) == ids:
            break
        await asyncio.sleep(0.2)
    assert await search.physical_indices() == [f"{search.alias}_v1"]

    target = await reindex(gig_api.deps)

    assert target == f"{search.alias}_v2"
    assert await search.physical_indices() == [target]
    assert not await search.client.indices.exists(index=f"{search.alias}_v1")
    assert await _indexed_ids(gig_api) == ids
    found = await gig_api.client.get("/api/v1/gigs/search", params={"q": "reindexed"})
    assert found.json()["total"] == 5
