"""Outbox and idempotent consumption for MongoDB-compatible stores without multi-document transactions.

FerretDB v1 and DocumentDB cannot commit two documents atomically, so a staged event lives inside the
aggregate document it belongs to (`_outbox` array) and is written by the same single-document insert or
update as the state change. `MongoOutboxRelay` publishes those entries and removes them once confirmed.
Only the portable subset is used: `$exists` on an array index, `$push` with `$each`, `$pullAll` of exact
values, unique `_id`.

The same write also sets a top-level `_outbox_pending: true`, indexed, which the relay's frequent poll
queries: `{"_outbox.0": {"$exists": true}}` can use no index (FerretDB fetches and decodes every document:
~1.4 s per poll at 10,000 documents; a collection scan on MongoDB too). The relay unsets the flag only when
the outbox is empty (a conditional update), and a full scan with the old filter at a long interval relays
what carries no flag (staged before the flag existed, or a flag lost to FerretDB's unserialised updates).

Caveat measured on FerretDB v1.24 (SQLite handler; its PostgreSQL handler, ADR 0026, updates the same way):
it applies an update as read → modify → replace by `_id` without any concurrency control, so two concurrent
updates of one document lose one of them (4 writers x 100 `$push`/`$inc` on one document kept 100). The
relay's removal is such an update: on FerretDB it can undo a write to the same aggregate that lands within the
same millisecond. MongoDB and DocumentDB apply single-document updates atomically, where this design is
exact; on FerretDB (dev and tests) it is best effort.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from servicekit.events.backoff import Backoff
from servicekit.events.bus import EventBus
from servicekit.events.envelope import EventEnvelope
from servicekit.events.errors import PublishFailed
from servicekit.events.relay_loop import PollingRelay
from servicekit.events.topology import CORRELATION_ID_HEADER
from servicekit.logging import get_correlation_id
from servicekit.metrics import OutboxMetrics
from servicekit.tracing import inject_trace_headers

logger = logging.getLogger(__name__)

OUTBOX_FIELD = "_outbox"
# Top-level, indexed: "this document's outbox may hold entries". Set by every staging write, cleared by the
# relay once the outbox is empty. Never part of an aggregate: read projections exclude it with the outbox.
OUTBOX_PENDING_FIELD = "_outbox_pending"
OUTBOX_PENDING_INDEX = "outbox_pending"
PROCESSED_EVENTS_COLLECTION = "processed_events"
# The full (unindexable) test for staged entries: the relay's safety-net scan, and what the flag stands for.
PENDING_FILTER_KEY = f"{OUTBOX_FIELD}.0"
PENDING_FILTER: Mapping[str, Any] = {PENDING_FILTER_KEY: {"$exists": True}}
# The relay's regular poll: an equality on an indexed scalar, served by an index on every target.
FLAGGED_FILTER: Mapping[str, Any] = {OUTBOX_PENDING_FIELD: True}
# For reads of aggregate documents: neither the staged events nor their flag belong to the aggregate.
OUTBOX_EXCLUDED: Mapping[str, Any] = {OUTBOX_FIELD: 0, OUTBOX_PENDING_FIELD: 0}

Document = dict[str, Any]


def outbox_entry(envelope: EventEnvelope) -> Document:
    """The sub-document staged for `envelope`, with the current trace context and correlation id."""
    headers: dict[str, Any] = {}
    inject_trace_headers(headers)
    correlation_id = envelope.correlation_id or get_correlation_id()
    if correlation_id:
        headers[CORRELATION_ID_HEADER] = correlation_id
    return {
        "id": str(envelope.id),
        "type": envelope.type,
        "producer": envelope.producer,
        "correlation_id": correlation_id,
        "body": envelope.to_json_bytes().decode(),
        "headers": headers,
        "occurred_at": envelope.occurred_at,
    }


def with_staged_events(document: Mapping[str, Any], *envelopes: EventEnvelope) -> Document:
    """A copy of a new aggregate document carrying `envelopes` in its outbox (for `insert_one`)."""
    staged = dict(document)
    staged[OUTBOX_FIELD] = [*staged.get(OUTBOX_FIELD, []), *(outbox_entry(e) for e in envelopes)]
    if staged[OUTBOX_FIELD]:
        staged[OUTBOX_PENDING_FIELD] = True
    return staged


def stage_events_update(update: Mapping[str, Any], *envelopes: EventEnvelope) -> Document:
    """A copy of an update document that also pushes `envelopes` onto the aggregate's outbox.

    Use it in the same `update_one`/`find_one_and_update` as the state change, e.g.
    `await users.update_one({"_id": uid}, stage_events_update({"$set": {"email": e}}, changed))`.
    """
    staged = {operator: dict(fields) for operator, fields in update.items()}
    if OUTBOX_FIELD in staged.get("$push", {}):
        raise ValueError(f"the update already pushes to {OUTBOX_FIELD}")
    staged.setdefault("$push", {})[OUTBOX_FIELD] = {"$each": [outbox_entry(e) for e in envelopes]}
    if envelopes:
        # Same update, so the flag is set exactly when the entries land (atomically where updates are).
        staged.setdefault("$set", {})[OUTBOX_PENDING_FIELD] = True
    return staged


async def claim_event_mongo(db: AsyncDatabase[Any], consumer: str, event_id: uuid.UUID) -> bool:
    """Record that `consumer` processed `event_id`; False when it already had (duplicate `_id`).

    Without transactions the claim cannot commit together with the handler's writes: make those writes
    idempotent (keyed by the event id) and claim after them, or keep the claim inside the same document
    update, so a crash between the two means a harmless repeat rather than a lost event.
    """
    try:
        await db[PROCESSED_EVENTS_COLLECTION].insert_one(
            {
                "_id": f"{consumer}:{event_id}",
                "consumer": consumer,
                "event_id": str(event_id),
                "processed_at": datetime.now(UTC),
            }
        )
    except DuplicateKeyError:
        return False
    return True


class MongoOutboxRelay(PollingRelay):
    """Publishes events staged in the `_outbox` arrays of the given collections, at least once.

    An entry is removed (`$pullAll` of the exact entry) only after the broker confirmed it, so a crash or a
    broker outage leaves it in place to be published again; consumers absorb repeats with `claim_event_mongo`.
    Several replicas may publish the same entry concurrently (no locks on these stores): still at least once.

    Every `poll_interval` it reads the documents flagged `_outbox_pending` (indexed; the index is created
    on the first batch); every `full_scan_interval_seconds` it also scans for any non-empty outbox, flagged
    or not, so documents staged before the flag existed, or whose flag a FerretDB race lost, still go out.
    """

    expected_errors = (PublishFailed, PyMongoError)

    def __init__(
        self,
        collections: Sequence[AsyncCollection[Any]],
        bus: EventBus,
        *,
        service_name: str,
        metrics: OutboxMetrics,
        batch_size: int = 100,
        poll_interval: float = 0.2,
        pending_sample_interval_seconds: float = 5.0,
        full_scan_interval_seconds: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            service_name=service_name,
            metrics=metrics,
            batch_size=batch_size,
            poll_interval=poll_interval,
            pending_sample_interval_seconds=pending_sample_interval_seconds,
            backoff=backoff,
        )
        self._collections = tuple(collections)
        self._bus = bus
        self._full_scan_interval = full_scan_interval_seconds
        self._next_full_scan: float | None = None  # the first batch scans: legacy documents go out at once
        self._indexed = False
        bus.add_unroutable_listener(metrics.record_unroutable)

    async def ensure_indexes(self) -> None:
        """The index the regular poll uses (idempotent; a failure is retried by the next batch)."""
        for collection in self._collections:
            await collection.create_index([(OUTBOX_PENDING_FIELD, ASCENDING)], name=OUTBOX_PENDING_INDEX)
        self._indexed = True

    async def relay_batch(self) -> int:
        """Publish the entries of up to `batch_size` documents per collection; returns events published."""
        if not self._indexed:
            await self.ensure_indexes()
        now = asyncio.get_running_loop().time()
        full_scan = self._next_full_scan is None or now >= self._next_full_scan
        published = 0
        scan_backlog = False
        for collection in self._collections:
            published += (await self._relay_matching(collection, FLAGGED_FILTER))[0]
            if full_scan:
                scanned_published, scanned = await self._relay_matching(collection, PENDING_FILTER)
                published += scanned_published
                scan_backlog = scan_backlog or scanned >= self._batch_size
        if full_scan and not scan_backlog:
            # Scheduled once a scan came back short of a batch: a backlog of unflagged documents (staged
            # before the flag existed) is drained batch after batch, and a failed scan is repeated.
            self._next_full_scan = now + self._full_scan_interval
        if published:
            self._metrics.record_published(published)
        return published

    async def _relay_matching(
        self, collection: AsyncCollection[Any], query: Mapping[str, Any]
    ) -> tuple[int, int]:
        """(events published, documents read) for up to `batch_size` documents matching `query`."""
        cursor = collection.find(query, {OUTBOX_FIELD: 1, OUTBOX_PENDING_FIELD: 1}).limit(self._batch_size)
        documents = await cursor.to_list(length=self._batch_size)
        published = 0
        for document in documents:
            published += await self._relay_document(collection, document)
        return published, len(documents)

    async def _relay_document(self, collection: AsyncCollection[Any], document: Document) -> int:
        outbox = document.get(OUTBOX_FIELD) or []
        entries = [e for e in outbox if isinstance(e, dict) and "id" in e]
        results = await asyncio.gather(*(self._publish(e) for e in entries), return_exceptions=True)
        confirmed = [entry for entry, result in zip(entries, results, strict=True) if result is None]
        errors = [r for r in results if isinstance(r, BaseException)]
        if not errors and len(entries) == len(outbox) and await self._drain(collection, document, outbox):
            return len(confirmed)
        if confirmed:
            # `$pullAll` with the entries exactly as read: FerretDB v1's `$pull` ignores query conditions
            # (`{"id": ...}` matches nothing there), while exact-value removal works on every target. Entries
            # pushed since the read are different values, so they stay for the next round.
            await collection.update_one({"_id": document["_id"]}, {"$pullAll": {OUTBOX_FIELD: confirmed}})
        if not errors and document.get(OUTBOX_PENDING_FIELD):
            # Everything read is out, but more was pushed since (the drain above did not match). Unset the
            # flag only if the outbox is empty by now: an entry pushed meanwhile set it in its own write.
            await collection.update_one(
                {"_id": document["_id"], PENDING_FILTER_KEY: {"$exists": False}},
                {"$unset": {OUTBOX_PENDING_FIELD: ""}},
            )
        if errors:
            if not isinstance(errors[0], Exception):
                raise errors[0]
            raise PublishFailed(
                f"{len(errors)} outbox events of {document['_id']!r} not confirmed"
            ) from errors[0]
        return len(confirmed)

    async def _drain(self, collection: AsyncCollection[Any], document: Document, outbox: list[Any]) -> bool:
        """Empty the outbox and unset the flag in one write, if the outbox is still exactly as read.

        The common case (nothing staged since the read) then costs one update, as the `$pullAll` alone did:
        on FerretDB each update is an unserialised read-modify-replace, so fewer of them means fewer chances
        to undo a concurrent writer (module caveat). Equality on the whole array works on every target.
        """
        result = await collection.update_one(
            {"_id": document["_id"], OUTBOX_FIELD: outbox},
            {"$set": {OUTBOX_FIELD: []}, "$unset": {OUTBOX_PENDING_FIELD: ""}},
        )
        return result.matched_count == 1

    async def _publish(self, entry: Document) -> None:
        occurred_at = entry.get("occurred_at")
        if isinstance(occurred_at, datetime) and occurred_at.tzinfo is None:
            occurred_at = occurred_at.replace(tzinfo=UTC)
        headers = entry.get("headers")
        await self._bus.publish_serialized(
            body=str(entry["body"]).encode(),
            event_type=str(entry["type"]),
            event_id=str(entry["id"]),
            occurred_at=occurred_at if isinstance(occurred_at, datetime) else None,
            producer=entry.get("producer"),
            correlation_id=entry.get("correlation_id"),
            headers=headers if isinstance(headers, dict) else {},
        )

    async def pending_count(self) -> int:
        """Flagged documents (not events); a cheap, indexed proxy for outbox lag on these stores.

        Unflagged legacy documents with entries are not counted (finding them is the full scan this avoids).
        """
        total = 0
        for collection in self._collections:
            total += await collection.count_documents(FLAGGED_FILTER)
        return total
