"""The seller fan-out's `behind_seller` read is an index lookup, not a scan of every gig.

Run on the `find` the repository actually sends (captured from the driver) and checked with `explain`: on
FerretDB (v1 on PostgreSQL) its `seller_id` equality is pushed down and PostgreSQL answers it with an index
scan on the GIN twin of gig's `seller_id` index (ADR 0026, decision 5); on MongoDB the winning plan is an
IXSCAN of that index. Before the index, a 4.4 ms scan per call in a soak, 418 calls a minute.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from gig_service.adapters.repository import SELLER_INDEX, ensure_gig_indexes
from gig_service.adapters.unit_of_work import GigUnitOfWork
from gigstack_testinfra.mongo_commands import FindFilters
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

_GIGS = 3000  # enough that PostgreSQL prefers the index to a sequential scan
_SELLERS = 300


def _gig(number: int) -> dict[str, Any]:
    return {
        "_id": f"g{number}",
        "seller_id": f"s{number % _SELLERS}",
        "deleted": number % 7 == 0,
        "seller_version": number % 3,
        "version": 1,
        "title": f"Gig {number}",
        "description": "A gig",
        "category": "design",
        "price": 100,
        "currency": "EUR",
        "delivery_days": 3,
    }


async def test_behind_seller_is_pushed_down_and_served_by_the_seller_index(mongodb_url: str) -> None:
    finds = FindFilters()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[finds])
    try:
        database = client.get_default_database()
        await database["gigs"].insert_many([_gig(number) for number in range(_GIGS)])
        await ensure_gig_indexes(database["gigs"])
        await ensure_gig_indexes(database["gigs"])  # idempotent: every start-up runs it

        behind = await GigUnitOfWork(database).gigs.behind_seller("s7", 2)

        expected = {f"g{n}" for n in range(_GIGS) if n % _SELLERS == 7 and n % 7 and n % 3 < 2}
        assert {gig.id for gig, _ in behind} == expected
        [query] = finds.of("gigs")
        explained = await database.command("explain", {"find": "gigs", "filter": query})
        plan = json.dumps(explained["queryPlanner"])
        if "ferretdbVersion" in await database.command("buildInfo"):
            assert explained["filterPushdown"] is True, plan
            assert "Index Scan" in plan, plan  # the GIN twin (FerretDB names it after its table)
            assert "Seq Scan" not in plan, plan
        else:
            assert "IXSCAN" in plan, plan
            assert SELLER_INDEX in plan, plan
    finally:
        await client.close()


async def test_the_app_creates_the_seller_index_at_start_up(gig_api: Any) -> None:
    gigs = gig_api.app.state.deps.mongo.get_default_database()["gigs"]
    for _ in range(100):  # created in the background, so start-up does not wait for the store
        if SELLER_INDEX in await gigs.index_information():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {SELLER_INDEX} index: {await gigs.index_information()}")
