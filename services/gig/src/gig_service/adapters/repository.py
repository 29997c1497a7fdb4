"""Gigs as documents of the `gigs` collection, versioned by servicekit's VersionedRepository."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from servicekit.events import EventEnvelope
from servicekit.events.mongo import OUTBOX_EXCLUDED, stage_events_update
from servicekit.mongo import VERSION_FIELD, MongoUnitOfWork, VersionedRepository

from gig_service.adapters.batched_writes import update_versioned_batch
from gig_service.domain.events import GigChanged
from gig_service.domain.model import Gig

GIGS_COLLECTION = "gigs"
_FIELDS = tuple(item.name for item in fields(Gig) if item.name != "id")
SELLER_INDEX = "by_seller"


async def ensure_gig_indexes(gigs: AsyncCollection[Any]) -> None:
    """The indexes `by_seller` and `behind_seller` read by (idempotent; created at start-up).

    One field, `seller_id`: both queries start with an equality on it and a seller has few gigs, so the rest
    of their filters are checked on those few. On FerretDB (v1 on PostgreSQL) that equality is pushed down
    as `_jsonb->'seller_id' @> ...`, which the GIN twin of this index serves (ADR 0026, decision 5); without
    it the seller fan-out's `behind_seller` scanned the whole collection for every seller change.
    """
    await gigs.create_index([("seller_id", ASCENDING)], name=SELLER_INDEX)


def gig_from_document(document: Mapping[str, Any]) -> Gig:
    values = {name: document[name] for name in _FIELDS if name in document}
    # Stored before seller edits had their own mark: only the current version may be edited, as then.
    values.setdefault("edit_version", int(document.get(VERSION_FIELD, 0)))
    for name in ("created_at", "updated_at"):
        stamp = values.get(name)
        if isinstance(stamp, datetime) and stamp.tzinfo is None:  # FerretDB hands back naive UTC
            values[name] = stamp.replace(tzinfo=UTC)
    return Gig(id=document["_id"], **values)


class GigRepository(VersionedRepository[Gig]):
    collection_name = GIGS_COLLECTION

    def __init__(self, uow: MongoUnitOfWork, *, write_claims: bool, claim_lease: timedelta) -> None:
        super().__init__(uow)
        self._write_claims = write_claims
        self._claim_lease = claim_lease

    def identity(self, aggregate: Gig) -> Any:
        return aggregate.id

    def to_document(self, aggregate: Gig) -> dict[str, Any]:
        return {name: getattr(aggregate, name) for name in _FIELDS}

    def from_document(self, document: Mapping[str, Any]) -> Gig:
        return gig_from_document(document)

    def create(self, gig: Gig, event: GigChanged) -> None:
        """Stage the new gig with its event in the document's outbox (one single-document write)."""
        self.add(gig, _envelope(event))

    def update(self, gig: Gig, event: GigChanged) -> None:
        """Stage the conditional update (on the version read) with its event in the same write."""
        self.save(gig, _envelope(event))

    async def by_seller(
        self, seller_id: str, *, active: bool, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[tuple[Gig, int]]:
        query: dict[str, Any] = {"seller_id": seller_id, "active": active, "deleted": False}
        if after is not None:
            # The id breaks ties: gigs created in one millisecond (Mongo dates) straddle pages otherwise.
            created_at, gig_id = after
            query["$or"] = [
                {"created_at": {"$lt": created_at}},
                {"created_at": created_at, "_id": {"$lt": gig_id}},
            ]
        cursor = (
            self.collection.find(query, OUTBOX_EXCLUDED).sort([("created_at", -1), ("_id", -1)]).limit(limit)
        )
        return [(gig_from_document(document), int(document[VERSION_FIELD])) async for document in cursor]

    async def behind_seller(self, seller_id: str, seller_version: int) -> list[tuple[Gig, int]]:
        """The seller's live gigs holding an older seller summary than `seller_version`, with versions.

        Served by the `seller_id` index; on FerretDB the two scalar equalities are pushed down to PostgreSQL
        and only the `$or` is evaluated by FerretDB, on that seller's gigs (checked by explain in
        tests/integration/test_seller_index.py).
        """
        cursor = self.collection.find(
            {
                "seller_id": seller_id,
                "deleted": False,
                "$or": [
                    {"seller_version": {"$lt": seller_version}},
                    {"seller_version": {"$exists": False}},  # stored before the field existed
                ],
            },
            OUTBOX_EXCLUDED,
        )
        return [(gig_from_document(document), int(document[VERSION_FIELD])) async for document in cursor]

    async def update_batch(self, changes: Sequence[tuple[Gig, int, GigChanged]]) -> int:
        """Write many gigs in one batched write now (not on commit); returns how many were written.

        Each `(gig, version, event)` is that gig's update conditional on `version` (as read by
        `behind_seller`), its event pushed onto the same document's outbox, exactly as `update` stages one.
        A gig that lost a race since it was read is skipped, not an error: the caller lists it again.
        """
        items = [
            (gig.id, version, stage_events_update(self._fields_update(gig, version), _envelope(event)))
            for gig, version, event in changes
        ]
        return await update_versioned_batch(
            self.collection, items, write_claims=self._write_claims, claim_lease=self._claim_lease
        )

    def _fields_update(self, gig: Gig, version: int) -> dict[str, Any]:
        return {"$set": {**self.to_document(gig), VERSION_FIELD: version + 1}}


def _envelope(event: GigChanged) -> EventEnvelope:
    return EventEnvelope.new(type=event.type, producer="gig", payload=event.payload())


async def all_gigs(repository: GigRepository, *, batch_size: int = 500) -> AsyncIterator[tuple[Gig, int]]:
    """Every stored gig (tombstones included) with its version, in `_id` order: the reindex source."""
    cursor = repository.collection.find({}, OUTBOX_EXCLUDED).sort("_id", 1).batch_size(batch_size)
    async for document in cursor:
        yield gig_from_document(document), int(document[VERSION_FIELD])
