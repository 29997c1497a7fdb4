"""Outages on real servers. Search engine unreachable while 500 gigs are created and half of them updated:
writes succeed, their events wait in `gig.search-projection`, and once the engine is back the read model
converges to the write model (every gig at its latest version, none lost, none extra). Write side (FerretDB)
unreachable: search keeps answering from the last indexed state."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from conftest import GigApi, running_gig_api
from gig_search_proxy import SearchProxy
from gig_service.entrypoints.projection import PROJECTION_SUBSCRIPTION
from gig_service.settings import GigSettings
from opensearchpy.exceptions import NotFoundError
from pydantic import SecretStr

GIGS = 500
WRITERS = 4  # concurrent clients writing during the outage
# FerretDB on a shared 2-core machine can take seconds per write under load; this test is about search.
STORE_TIMEOUT_SECONDS = 20.0
CONVERGE_SECONDS = 240.0


async def _write_gigs(api: GigApi) -> dict[str, tuple[int, int]]:
    """Create GIGS gigs, update every other one; the expected (version, price) of each."""
    seller = api.as_user("seller-1")
    expected: dict[str, tuple[int, int]] = {}
    numbers: asyncio.Queue[int] = asyncio.Queue()
    for number in range(GIGS):
        numbers.put_nowait(number)

    async def writer() -> None:
        while not numbers.empty():
            number = numbers.get_nowait()
            gig = await api.create("seller-1", title=f"Outage gig {number}", price=1000 + number)
            if number % 2 == 0:  # half of them also updated: the newest version must win
                body = {"version": 1, "price": 2000 + number}
                response = await api.client.patch(f"/api/v1/gigs/{gig['id']}", json=body, auth=seller)
                assert response.status_code == 200, response.text
                gig = response.json()
            expected[gig["id"]] = (gig["version"], gig["price"])

    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    return expected


async def _indexed(api: GigApi, alias: str) -> dict[str, tuple[int, int]]:
    client = api.deps.search_client
    await client.indices.refresh(index=alias)
    found: dict[str, tuple[int, int]] = {}
    body: dict[str, Any] = {
        "size": 1000,
        "query": {"match_all": {}},
        "sort": [{"id": "asc"}],
        "version": True,
    }
    while True:
        response = await client.search(index=alias, body=body)
        hits = response["hits"]["hits"]
        for hit in hits:
            # the document's own version field and the engine's external version agree
            assert hit["_version"] == hit["_source"]["version"], hit
            found[hit["_id"]] = (hit["_source"]["version"], hit["_source"]["price"])
        if len(hits) < body["size"]:
            return found
        body["search_after"] = hits[-1]["sort"]


async def test_500_gigs_written_while_search_is_down_all_reach_search_once_it_is_back(
    gig_settings: GigSettings, internal_keypair: tuple[str, str], opensearch_url: str
) -> None:
    proxy = SearchProxy(opensearch_url)
    await proxy.start()
    settings = gig_settings.model_copy(
        update={"search_url": SecretStr(proxy.url), "mongodb_timeout_seconds": STORE_TIMEOUT_SECONDS}
    )
    alias = settings.search_index_alias
    async with running_gig_api(settings, internal_keypair) as api:
        await proxy.stop()
        started = time.monotonic()
        expected = await _write_gigs(api)
        wrote_for = time.monotonic() - started
        assert len(expected) == GIGS
        searched = await api.client.get("/api/v1/gigs/search", params={"q": "outage"})
        assert searched.status_code == 503  # reads say so; they do not crash
        waiting = await api.deps.bus.queue_depth(PROJECTION_SUBSCRIPTION.queue)
        assert waiting > 0, "the events should wait in the projection queue while search is down"
        await proxy.start()

        deadline = time.monotonic() + CONVERGE_SECONDS
        indexed: dict[str, tuple[int, int]] = {}
        while time.monotonic() < deadline:
            try:
                indexed = await _indexed(api, alias)
            except NotFoundError:  # the projection has not created the index yet
                indexed = {}
            if indexed == expected:
                break
            await asyncio.sleep(1)
        missing = expected.keys() - indexed.keys()
        stale = {gig for gig in expected.keys() & indexed.keys() if indexed[gig] != expected[gig]}
        extra = indexed.keys() - expected.keys()
        assert (len(missing), len(stale), len(extra)) == (0, 0, 0), (missing, stale, extra)
        print(f"{GIGS} gigs written in {wrote_for:.1f}s while down; {waiting} events were queued")
    await proxy.stop()


async def test_search_keeps_answering_from_the_last_indexed_state_while_the_write_side_is_down(
    gig_settings: GigSettings, internal_keypair: tuple[str, str], mongodb_url: str
) -> None:
    # The same TCP cut in front of FerretDB: the store becomes unreachable for the service only.
    mongo_proxy = SearchProxy(mongodb_url.replace("mongodb://", "http://", 1))
    await mongo_proxy.start()
    database = mongodb_url.rsplit("/", 1)[1]
    through_proxy = f"mongodb://127.0.0.1:{mongo_proxy.port}/{database}"
    settings = gig_settings.model_copy(
        update={"mongodb_url": SecretStr(through_proxy), "mongodb_timeout_seconds": 2.0}
    )
    async with running_gig_api(settings, internal_keypair) as api:
        gigs = [await api.create("seller-1", title=f"Resilient gig {n}") for n in range(5)]

        async def all_found() -> bool:
            response = await api.client.get("/api/v1/gigs/search", params={"q": "resilient"})
            return bool(response.status_code == 200 and response.json()["total"] == len(gigs))

        deadline = time.monotonic() + 30
        while not await all_found():
            assert time.monotonic() < deadline, "the gigs never became searchable"
            await asyncio.sleep(0.3)

        await mongo_proxy.stop()
        by_id = await api.client.get(f"/api/v1/gigs/{gigs[0]['id']}")
        assert by_id.status_code == 503, by_id.text  # the write model is down, and says so
        for params in ({"q": "resilient"}, {"q": "resilient", "sort": "price_asc"}):
            response = await api.client.get("/api/v1/gigs/search", params=params)
            assert response.status_code == 200, response.text
            assert {item["id"] for item in response.json()["items"]} == {gig["id"] for gig in gigs}
        top = await api.client.get("/api/v1/gigs/top-rated", params={"category": "design"})
        assert top.status_code == 200, top.text
        await mongo_proxy.start()  # so the app's shutdown (outbox relay) finds its store again
    await mongo_proxy.stop()
