"""On real FerretDB (write claims on): superseded seller summaries coalesce. A burst of one seller's summary
changes held at once by the consumer costs one write per gig (one `gig.gig.updated.v1` each), not one per
summary and gig; an event whose version the replica has already moved past fans out the replica's newest
summary; either way every gig ends at the newest summary and nothing older replaces it.

The handler is called directly with the app's own unit of work, as the consumer calls it (the bus path is
covered by test_marketplace_events.py); writes are counted with PyMongo's command monitoring.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import GigApi
from gig_command_monitor import monitored_uow, stored
from gig_service.domain.model import SellerSummary
from gig_service.service_layer.denormalised import record_seller
from servicekit.locks import KeyedLocks

SELLER = "seller-burst"
GIGS = 6
BURST = 12  # below the consumer's prefetch (16): all of them may be held at once


def summary(version: int) -> SellerSummary:
    return SellerSummary(SELLER, f"sam-{version}", "Sam Seller", 4.0 + version / 100, version, version)


async def assert_every_gig_at(api: GigApi, gigs: list[dict[str, Any]], version: int, writes: int) -> None:
    for gig in gigs:
        after = await stored(api, gig["id"])
        newest = summary(version)
        assert (after["seller_username"], after["seller_rating_count"]) == (newest.username, version)
        assert after["seller_rating_average"] == newest.rating_average
        assert after["version"] == 1 + writes  # created at 1; each write one gig.gig.updated.v1


async def test_a_burst_of_one_sellers_summaries_writes_each_gig_once_with_the_newest(
    gig_api: GigApi, mongodb_url: str
) -> None:
    gigs = [await gig_api.create(SELLER, title=f"Logo {n}") for n in range(GIGS)]
    locks = KeyedLocks()  # one per process, as the composition root builds it
    async with monitored_uow(mongodb_url) as (new_uow, commands):
        changed = await asyncio.gather(
            *(record_seller(summary(v), new_uow, gig_writes=locks) for v in range(1, BURST + 1))
        )
    assert sum(changed) == GIGS  # not BURST x GIGS
    assert commands.updated("gigs") == GIGS
    await assert_every_gig_at(gig_api, gigs, BURST, writes=1)
    assert len(locks) == 0


async def test_an_event_the_replica_has_moved_past_fans_out_the_newest_and_its_redelivery_writes_nothing(
    gig_api: GigApi, mongodb_url: str
) -> None:
    gigs = [await gig_api.create(SELLER, title=f"Logo {n}") for n in range(GIGS)]
    locks = KeyedLocks()
    async with monitored_uow(mongodb_url) as (new_uow, commands):
        # v9 was recorded by a delivery that died before its fan-out (its event will be redelivered)
        async with new_uow() as uow:
            uow.sellers.add(summary(9))
            await uow.commit()
        assert await record_seller(summary(4), new_uow, gig_writes=locks) == GIGS  # late v4: copies v9
        for late in (summary(9), *(summary(v) for v in range(5, 9))):  # v9's redelivery; v5..v8
            assert await record_seller(late, new_uow, gig_writes=locks) == 0
    assert commands.updated("gigs") == GIGS
    await assert_every_gig_at(gig_api, gigs, 9, writes=1)
