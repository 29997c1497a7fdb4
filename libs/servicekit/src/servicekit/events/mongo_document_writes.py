"""The Mongo outbox relay's updates of aggregate documents, serialised with the aggregates' writers.

The relay (`servicekit.events.mongo.MongoOutboxRelay`) writes the outbox bookkeeping of documents that
aggregate writers update too: it removes published entries, unsets the pending flag, counts failed attempts
and parks entries. On FerretDB v1 each of those updates is an unserialised read → modify → replace, which
can undo a writer's update landing at the same moment (and a writer's can resurrect removed entries). With
write claims (`servicekit.write_claims`) every such update of a versioned document runs inside the claim a
writer of the document's next version would take, filtered on the version read; the relay never bumps the
version, so a writer that read it before still wins its claim afterwards. Without claims (MongoDB,
DocumentDB: single-document updates are atomic there) each update is sent alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from servicekit.events.mongo_fields import (
    OUTBOX_ATTEMPTS_FIELD,
    OUTBOX_FIELD,
    OUTBOX_HAS_PARKED_FIELD,
    OUTBOX_PARKED_FIELD,
    OUTBOX_PENDING_FIELD,
    PENDING_FILTER_KEY,
)
from servicekit.write_claims import VERSION_FIELD, WriteClaims

Document = dict[str, Any]
# How often a relay write re-reads the version of a document written meanwhile before leaving it to a later
# pass: a writer's update takes a few round trips, so a document is rarely written more often than that.
VERSION_READS = 3
# A claim held by a writer is usually released within a few round trips: the relay waits this long (doubling
# each time, VERSION_READS - 1 times at most) rather than leave the entries it has just published to be
# published again by the next pass. A longer hold (a dead writer's claim, an overloaded store) still leaves
# the document to a later pass.
HELD_CLAIM_PAUSE_SECONDS = 0.02


class OutboxDocumentWrites:
    """The relay's writes of one document at a time; `claims` None: no claims (MongoDB, DocumentDB)."""

    def __init__(self, claims: WriteClaims | None) -> None:
        self._claims = claims

    @property
    def takes_claims(self) -> bool:
        return self._claims is not None

    async def serialised(
        self,
        collection: AsyncCollection[Any],
        document_id: Any,
        version: Any,
        write: Callable[[Mapping[str, Any]], Awaitable[bool]],
    ) -> bool:
        """`write(filter)` of the document, serialised with its writers; False when it was not written.

        `write` returns whether the document matched `filter`. With claims and an integer `version` (as
        read), `filter` is `{_id, version}` and `write` runs inside the claim on `version + 1`. A held claim
        (a writer is on it) is waited for briefly (`HELD_CLAIM_PAUSE_SECONDS`, doubling); a version moved
        since the read is read again and claimed again; up to `VERSION_READS` attempts in all, so a document
        written often still gets its entries removed rather than published pass after pass. Whatever is not
        written stays for a later pass (published again: at least once). Without claims, or for a document
        without a version (which no writer claims), `filter` is `{_id}` and `write` runs once.
        """
        if self._claims is None or not _is_version(version):
            return await write({"_id": document_id})
        for attempt in range(VERSION_READS):
            claim = await self._claims.take(collection, document_id, version + 1)
            if claim is None:
                if attempt + 1 == VERSION_READS:
                    return False
                await asyncio.sleep(HELD_CLAIM_PAUSE_SECONDS * 2**attempt)
            else:
                try:
                    if await write({"_id": document_id, VERSION_FIELD: version}):
                        return True
                finally:
                    await claim.release()
            current = await collection.find_one({"_id": document_id}, {VERSION_FIELD: 1})
            version = current.get(VERSION_FIELD) if current is not None else None
            if not _is_version(version):
                return False
        return False

    async def settle(
        self,
        collection: AsyncCollection[Any],
        where: Mapping[str, Any],
        document: Document,
        confirmed: list[Document],
        attempts: Mapping[str, Any],
        *,
        drain: bool,
    ) -> bool:
        """Remove the `confirmed` entries of `document` (the one matching `where`); unset its flag when
        `drain` (nothing failed) and nothing else waits. False when no document matched `where`."""
        outbox = document.get(OUTBOX_FIELD) or []
        if drain and len(confirmed) == len(outbox) and await self._drain(collection, where, outbox):
            return True
        if confirmed:
            # `$pullAll` with the entries exactly as read: FerretDB v1's `$pull` ignores query conditions
            # (`{"id": ...}` matches nothing there), while exact-value removal works on every target. Entries
            # pushed since the read are different values, so they stay for the next round.
            update: dict[str, Any] = {"$pullAll": {OUTBOX_FIELD: confirmed}}
            forgotten = [str(e["id"]) for e in confirmed if str(e["id"]) in attempts]
            if forgotten:
                update["$unset"] = {f"{OUTBOX_ATTEMPTS_FIELD}.{entry_id}": "" for entry_id in forgotten}
            if (await collection.update_one(where, update)).matched_count != 1:
                return False
        if drain and document.get(OUTBOX_PENDING_FIELD):
            # Everything read is out, but more was pushed since (the drain above did not match).
            await self.unflag_if_empty(collection, where)
        return True

    @staticmethod
    async def _drain(collection: AsyncCollection[Any], where: Mapping[str, Any], outbox: list[Any]) -> bool:
        """Empty the outbox and unset the flag in one write, if the outbox is still exactly as read.

        The common case (nothing staged since the read) then costs one update, as the `$pullAll` alone did.
        Equality on the whole array works on every target.
        """
        result = await collection.update_one(
            {**where, OUTBOX_FIELD: outbox},
            {"$set": {OUTBOX_FIELD: []}, "$unset": {OUTBOX_PENDING_FIELD: "", OUTBOX_ATTEMPTS_FIELD: ""}},
        )
        return result.matched_count == 1

    @staticmethod
    async def unflag_if_empty(collection: AsyncCollection[Any], where: Mapping[str, Any]) -> None:
        """Unset the pending flag only if the outbox is empty by now: an entry pushed meanwhile set it."""
        await collection.update_one(
            {**where, PENDING_FILTER_KEY: {"$exists": False}}, {"$unset": {OUTBOX_PENDING_FIELD: ""}}
        )

    @staticmethod
    async def count_attempt(
        collection: AsyncCollection[Any], where: Mapping[str, Any], entry_id: str, attempts: int
    ) -> bool:
        update = {"$set": {f"{OUTBOX_ATTEMPTS_FIELD}.{entry_id}": attempts}}
        return (await collection.update_one(where, update)).matched_count == 1

    async def park(
        self,
        collection: AsyncCollection[Any],
        where: Mapping[str, Any],
        entry: Document,
        *,
        attempts: int,
        reason: str,
    ) -> bool:
        """Move `entry` from the outbox to `_outbox_parked` in one update, so it is never in both arrays nor
        in neither (exact-value removal, as in `settle`); False when the document did not match `where`."""
        parked = {"entry": entry, "attempts": attempts, "last_error": reason, "parked_at": datetime.now(UTC)}
        move = {
            "$pullAll": {OUTBOX_FIELD: [entry]},
            "$push": {OUTBOX_PARKED_FIELD: parked},
            "$set": {OUTBOX_HAS_PARKED_FIELD: True},
            "$unset": {f"{OUTBOX_ATTEMPTS_FIELD}.{entry['id']}": ""},
        }
        if (await collection.update_one(where, move)).matched_count != 1:
            return False
        await self.unflag_if_empty(collection, where)
        return True


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
