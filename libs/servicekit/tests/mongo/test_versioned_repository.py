"""Versioned aggregates on the real FerretDB v1: conditional writes, conflicts, events in the same write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventEnvelope
from servicekit.events.mongo import OUTBOX_FIELD
from servicekit.mongo import ConcurrentUpdateError, DocumentExistsError
from servicekit.mongo.unit_of_work import WRITE_CLAIMS_COLLECTION

from .conftest import Gig, GigUnitOfWork

pytestmark = pytest.mark.integration


def _event(name: str) -> EventEnvelope:
    return EventEnvelope.new(type=f"gig.gig.{name}.v1", producer="gig", payload={"name": name})


async def _create(database: AsyncDatabase[Any], gig: Gig) -> None:
    async with GigUnitOfWork(database) as uow:
        uow.gigs.add(gig, _event("created"))
        await uow.commit()


async def test_add_writes_version_one_with_its_events_and_get_reads_it_back(
    database: AsyncDatabase[Any],
) -> None:
    await _create(database, Gig("g1", "Logo design", ["design"]))

    stored = await database["gigs"].find_one({"_id": "g1"})
    assert stored is not None
    assert (stored["version"], [e["type"] for e in stored[OUTBOX_FIELD]]) == (1, ["gig.gig.created.v1"])
    async with GigUnitOfWork(database) as uow:
        gig = await uow.gigs.get("g1")
        assert gig == Gig("g1", "Logo design", ["design"])
        assert uow.gigs.version_of(gig) == 1


async def test_save_bumps_the_version_and_appends_its_events_to_the_outbox(
    database: AsyncDatabase[Any],
) -> None:
    await _create(database, Gig("g1", "Logo design"))
    async with GigUnitOfWork(database) as uow:
        gig = await uow.gigs.get("g1")
        assert gig is not None
        gig.title = "Logo and icon design"
        uow.gigs.save(gig, _event("renamed"))
        await uow.commit()
        assert uow.gigs.version_of(gig) == 2

    stored = await database["gigs"].find_one({"_id": "g1"})
    assert stored is not None
    assert (stored["version"], stored["title"]) == (2, "Logo and icon design")
    assert [e["type"] for e in stored[OUTBOX_FIELD]] == ["gig.gig.created.v1", "gig.gig.renamed.v1"]


async def test_leaving_without_commit_writes_nothing(database: AsyncDatabase[Any]) -> None:
    async with GigUnitOfWork(database) as uow:
        uow.gigs.add(Gig("g1", "never stored"))
    assert await database["gigs"].count_documents({}) == 0


async def test_a_stale_save_loses_and_writes_nothing(database: AsyncDatabase[Any]) -> None:
    await _create(database, Gig("g1", "Logo design"))
    async with GigUnitOfWork(database) as stale, GigUnitOfWork(database) as fresh:
        old = await stale.gigs.get("g1")
        new = await fresh.gigs.get("g1")
        assert old is not None
        assert new is not None
        new.title = "first"
        fresh.gigs.save(new)
        await fresh.commit()

        old.title = "second"
        stale.gigs.save(old, _event("renamed"))
        with pytest.raises(ConcurrentUpdateError):
            await stale.commit()

    stored = await database["gigs"].find_one({"_id": "g1"})
    assert stored is not None
    assert (stored["version"], stored["title"], len(stored[OUTBOX_FIELD])) == (2, "first", 1)


async def test_adding_an_existing_id_is_a_conflict(database: AsyncDatabase[Any]) -> None:
    await _create(database, Gig("g1", "Logo design"))
    with pytest.raises(DocumentExistsError):
        await _create(database, Gig("g1", "another"))


async def test_of_two_concurrent_writers_of_one_document_exactly_one_wins(
    database: AsyncDatabase[Any],
) -> None:
    """FerretDB v1 alone lets both match `version: 1` (query and replace are separate transactions)."""
    await _create(database, Gig("g1", "Logo design"))

    async def rename(title: str, both_read: asyncio.Barrier) -> str:
        async with GigUnitOfWork(database) as uow:
            gig = await uow.gigs.get("g1")
            assert gig is not None
            # Both writers hold the same version before either writes: on a fast store the first could
            # otherwise finish before the second reads, and two sequential wins prove nothing.
            await both_read.wait()
            gig.title = title
            uow.gigs.save(gig, _event(title))
            try:
                await uow.commit()
            except ConcurrentUpdateError:
                return "conflict"
            return "won"

    for _ in range(10):  # repeated: one lucky ordering proves nothing about a race
        stored_before = await database["gigs"].find_one({"_id": "g1"})
        assert stored_before is not None
        both_read = asyncio.Barrier(2)
        outcomes = await asyncio.gather(rename("a", both_read), rename("b", both_read))
        assert sorted(outcomes) == ["conflict", "won"]
        stored = await database["gigs"].find_one({"_id": "g1"})
        assert stored is not None
        assert stored["version"] == stored_before["version"] + 1
        assert len(stored[OUTBOX_FIELD]) == len(stored_before[OUTBOX_FIELD]) + 1
        assert stored[OUTBOX_FIELD][-1]["type"] == f"gig.gig.{stored['title']}.v1"


async def test_concurrent_increments_retried_on_conflict_lose_no_update(database: AsyncDatabase[Any]) -> None:
    await _create(database, Gig("g1", "Logo design"))

    async def order_once() -> int:
        conflicts = 0
        while True:
            async with GigUnitOfWork(database) as uow:
                gig = await uow.gigs.get("g1")
                assert gig is not None
                gig.orders += 1
                uow.gigs.save(gig)
                try:
                    await uow.commit()
                    return conflicts
                except ConcurrentUpdateError:
                    conflicts += 1

    async def writer() -> int:
        return sum([await order_once() for _ in range(10)])

    await asyncio.gather(*(writer() for _ in range(4)))
    stored = await database["gigs"].find_one({"_id": "g1"})
    assert stored is not None
    assert (stored["orders"], stored["version"]) == (40, 41)


async def test_a_claim_left_by_a_dead_writer_blocks_until_it_expires(database: AsyncDatabase[Any]) -> None:
    await _create(database, Gig("g1", "Logo design"))
    # What a writer leaves when it dies between claiming version 2 and updating.
    expires_at = datetime.now(UTC) + timedelta(milliseconds=300)
    await database[WRITE_CLAIMS_COLLECTION].insert_one({"_id": "gigs:g1:2", "expires_at": expires_at})

    async def rename() -> None:
        async with GigUnitOfWork(database) as uow:
            gig = await uow.gigs.get("g1")
            assert gig is not None
            gig.title = "renamed"
            uow.gigs.save(gig)
            await uow.commit()

    with pytest.raises(ConcurrentUpdateError):
        await rename()
    await asyncio.sleep(0.4)
    await rename()
    stored = await database["gigs"].find_one({"_id": "g1"})
    assert stored is not None
    assert (stored["version"], stored["title"]) == (2, "renamed")
