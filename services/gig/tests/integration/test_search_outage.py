"""Search engine unreachable while gigs are written: writes succeed, and the read model converges to the
write model (every gig at its latest version) once the engine is reachable again."""

from __future__ import annotations

import asyncio
import time

from conftest import running_gig_api
from gig_search_proxy import SearchProxy
from gig_service.settings import GigSettings
from opensearchpy.exceptions import NotFoundError

GIGS = 50
CONVERGE_SECONDS = 60.0


async def test_writes_succeed_while_search_is_down_and_the_read_model_converges(
    gig_settings: GigSettings, internal_keypair: tuple[str, str], opensearch_url: str
) -> None:
    proxy = SearchProxy(opensearch_url)
    await proxy.start()
    settings = gig_settings.model_copy(update={"search_url": gig_settings.search_url.__class__(proxy.url)})
    async with running_gig_api(settings, internal_keypair) as api:
        seller = api.as_user("seller-1")
        await proxy.stop()
        expected: dict[str, tuple[int, int]] = {}
        for number in range(GIGS):
            gig = await api.create("seller-1", title=f"Outage gig {number}", price=1000 + number)
            if number % 2 == 0:  # half of them also updated: the newest version must win
                body = {"version": 1, "price": 2000 + number}
                response = await api.client.patch(f"/api/v1/gigs/{gig['id']}", json=body, auth=seller)
                assert response.status_code == 200, response.text
                gig = response.json()
            expected[gig["id"]] = (gig["version"], gig["price"])
        searched = await api.client.get("/api/v1/gigs/search", params={"q": "outage"})
        assert searched.status_code == 503  # reads say so; they do not crash
        await asyncio.sleep(2)
        await proxy.start()

        client = api.deps.search_client
        deadline = time.monotonic() + CONVERGE_SECONDS
        indexed: dict[str, tuple[int, int]] = {}
        while time.monotonic() < deadline:
            try:
                await client.indices.refresh(index=settings.search_index_alias)
                response = await client.search(
                    index=settings.search_index_alias, body={"size": 1000, "query": {"match_all": {}}}
                )
            except NotFoundError:  # the projection has not created the index yet
                await asyncio.sleep(0.5)
                continue
            indexed = {
                hit["_id"]: (hit["_source"]["version"], hit["_source"]["price"])
                for hit in response["hits"]["hits"]
            }
            if indexed == expected:
                break
            await asyncio.sleep(0.5)
        assert indexed == expected
    await proxy.stop()
