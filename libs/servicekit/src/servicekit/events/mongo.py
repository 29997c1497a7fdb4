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
what carries no flag (staged before the flag existed, or written without a version and write claims).

FerretDB v1.24 (SQLite and PostgreSQL handlers alike, ADR 0026) applies an update as read → modify → replace
by `_id` without any concurrency control, so two concurrent updates of one document lose one of them (4
writers x 100 `$push`/`$inc` on one document kept 100). The relay's removals are such updates. With write
claims on (`write_claims`, the default, as for `servicekit.mongo.MongoUnitOfWork`), every relay update of a
versioned document (the drain, `$pullAll`, the unflag, the attempt count, the parking move) runs inside the
claim a writer of the document's next version would take (`servicekit.write_claims`) and is filtered on the
version read; the relay never bumps the version (`servicekit.events.mongo_document_writes`). So on FerretDB
the relay can no longer undo an aggregate write nor resurrect entries it removed, and the flag stays exact
(libs/servicekit/tests/events/integration/test_mongo_outbox_writer_race.py; without the claims its writer
loses about one write in ten). A document whose version moved since the read is read and claimed again (a
few times); one whose claim stays held past a short wait is left for a later pass: its entries were
published and will be again (at least once; consumers dedupe). What stays unserialised on FerretDB:
documents without an integer `version` (no writer claims them) and writes that bypass the claims. With
claims off (MongoDB, DocumentDB, whose updates are atomic) each relay update is sent alone, as before.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from servicekit.events.backoff import Backoff
from servicekit.events.bus import EventBus
from servicekit.events.envelope import EventEnvelope
from servicekit.events.errors import PublishFailed, PublishNacked, UnroutableEvent
from servicekit.events.mongo_document_writes import OutboxDocumentWrites
from servicekit.events.mongo_fields import (
    FLAGGED_FILTER,
    OUTBOX_ATTEMPTS_FIELD,
    OUTBOX_EXCLUDED,
    OUTBOX_FIELD,
    OUTBOX_HAS_PARKED_FIELD,
    OUTBOX_PARKED_FIELD,
    OUTBOX_PARKED_INDEX,
    OUTBOX_PENDING_FIELD,
    OUTBOX_PENDING_INDEX,
    PARKED_FILTER,
    PENDING_FILTER,
    PENDING_FILTER_KEY,
    PROCESSED_EVENTS_COLLECTION,
)
from servicekit.events.relay_loop import PollingRelay
from servicekit.events.topology import CORRELATION_ID_HEADER
from servicekit.logging import get_correlation_id
from servicekit.metrics import OutboxMetrics
from servicekit.tracing import inject_trace_headers
from servicekit.write_claims import VERSION_FIELD, WriteClaims

__all__ = [
    "FLAGGED_FILTER",
    "OUTBOX_ATTEMPTS_FIELD",
    "OUTBOX_EXCLUDED",
    "OUTBOX_FIELD",
    "OUTBOX_HAS_PARKED_FIELD",
    "OUTBOX_PARKED_FIELD",
    "OUTBOX_PARKED_INDEX",
    "OUTBOX_PENDING_FIELD",
    "OUTBOX_PENDING_INDEX",
    "PARKED_FILTER",
    "PENDING_FILTER",
    "PENDING_FILTER_KEY",
    "PROCESSED_EVENTS_COLLECTION",
    "MongoOutboxRelay",
    "claim_event_mongo",
    "outbox_entry",
    "stage_events_update",
    "with_staged_events",
]

logger = logging.getLogger(__name__)

_MAX_ERROR_CHARS = 500
# Failures that are the entry's own whatever the broker's state: returned unroutable, nacked, not serialisable
# (a missing field is a LookupError; pamqp raises TypeError/ValueError for a header it cannot encode).
_ENTRY_AT_FAULT: tuple[type[BaseException], ...] = (
    UnroutableEvent,
    PublishNacked,
    LookupError,
    TypeError,
    ValueError,
)

Document = dict[str, Any]


class _Failure(NamedTuple):
    """An entry of this pass that was not confirmed, kept to be counted (and maybe parked) after the pass."""

    collection: AsyncCollection[Any]
    document_id: Any
    version: Any  # the document's version as the pass read it (None when it is not versioned)
    attempts_so_far: int
    entry: Document
    error: BaseException


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
    With `write_claims` (FerretDB) its updates of a versioned document take the writers' claim (module
    docstring); `claim_lease_seconds` should be the writers' lease.

    Every `poll_interval` it reads the documents flagged `_outbox_pending` (indexed; the index is created
    on the first batch); every `full_scan_interval_seconds` it also scans for any non-empty outbox, flagged
    or not, so documents staged before the flag existed, or written without claims, still go out.

    A failing document does not stop the pass: the others are published, then the pass raises so the loop
    backs off. An entry that keeps failing while the broker is reachable (returned unroutable, not
    serialisable, or failing in a pass in which other entries were confirmed) is parked after
    `park_after_attempts` such failures (counted in `_outbox_attempts`), as the SQL relay parks a row: it
    is moved, in one update, from `_outbox` to `_outbox_parked` with its attempts and last error, logged
    with its event id and counted in `outbox_parked_total`; the document's `_outbox_pending` flag is then
    unset once nothing else waits, so the poll does not keep reading it. A pass in which nothing was
    confirmed counts no transport failure, so a broker outage parks nothing. Parked entries are kept (this
    relay never deletes anything unpublished) until replayed: the runbook
    (docs/runbooks/alerts.md#gigstackoutboxeventsparked) moves them back to `_outbox` and sets the flag.
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
        park_after_attempts: int = 10,
        write_claims: bool = True,
        claim_lease_seconds: float = 30.0,
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
        self._park_after = park_after_attempts
        # Taking the writers' claims (servicekit.write_claims) around every update of a versioned document.
        self._writes = OutboxDocumentWrites(
            WriteClaims(lease_seconds=claim_lease_seconds) if write_claims else None
        )
        # This pass's failed entries; counted and parked once the pass is over, when it is known whether the
        # broker confirmed anything.
        self._failures: list[_Failure] = []
        self._confirmed_in_pass = False
        # Documents this pass left with entries (failed, or being written): the full scan skips them.
        self._left_documents: set[tuple[str, str]] = set()
        bus.add_unroutable_listener(metrics.record_unroutable)

    @property
    def full_scan_interval_seconds(self) -> float:
        """How often the unindexable scan for unflagged outboxes runs (the first batch always runs it)."""
        return self._full_scan_interval

    @property
    def write_claims(self) -> bool:
        """Whether updates of versioned documents take the writers' claims (needed on FerretDB v1 only)."""
        return self._writes.takes_claims

    async def ensure_indexes(self) -> None:
        """The index the regular poll uses (idempotent; a failure is retried by the next batch)."""
        for collection in self._collections:
            await collection.create_index([(OUTBOX_PENDING_FIELD, ASCENDING)], name=OUTBOX_PENDING_INDEX)
            await collection.create_index([(OUTBOX_HAS_PARKED_FIELD, ASCENDING)], name=OUTBOX_PARKED_INDEX)
        self._indexed = True

    async def relay_batch(self) -> int:
        """Publish the entries of up to `batch_size` documents per collection; returns events published."""
        if not self._indexed:
            await self.ensure_indexes()
        now = asyncio.get_running_loop().time()
        full_scan = self._next_full_scan is None or now >= self._next_full_scan
        published = 0
        scan_backlog = False
        self._failures, self._confirmed_in_pass = [], False
        self._left_documents.clear()
        for collection in self._collections:
            published += (await self._relay_matching(collection, FLAGGED_FILTER))[0]
            if full_scan and not self._broker_away():
                scanned_published, scanned = await self._relay_matching(collection, PENDING_FILTER)
                published += scanned_published
                scan_backlog = scan_backlog or scanned >= self._batch_size
            if self._broker_away():
                break
        if full_scan and not scan_backlog and not self._failures:
            # Scheduled once a scan came back short of a batch: a backlog of unflagged documents (staged
            # before the flag existed) is drained batch after batch, and a failed scan is repeated.
            self._next_full_scan = now + self._full_scan_interval
        if published:
            self._metrics.record_published(published)
        if self._failures:
            failures, self._failures = self._failures, []
            await self._record_failures(failures)
            first_error = failures[0].error
            if not isinstance(first_error, Exception):
                raise first_error
            raise PublishFailed(f"{len(failures)} Mongo outbox events not confirmed") from first_error
        return published

    async def _record_failures(self, failures: Sequence[_Failure]) -> None:
        """Count each failure against its entry (and park it) only if the entry is at fault.

        It is when the broker refused it (unroutable), when it could not even be turned into a message (a
        missing field, a header AMQP cannot encode), or when anything else was confirmed in this pass (the
        broker was reachable). Any other error of a pass that confirmed nothing (a closed bus, a broker
        outage) counts against nothing.
        """
        for failure in failures:
            if isinstance(failure.error, _ENTRY_AT_FAULT) or self._confirmed_in_pass:
                await self._record_failure(failure)

    async def _record_failure(self, failure: _Failure) -> None:
        """Count the failure in `_outbox_attempts`, or park the entry once it has failed often enough.

        A document being written (claim held, or its version moved since the pass read it) is left alone
        this pass: the entry is published again by the next one, and counted or parked then.
        """
        collection, entry = failure.collection, failure.entry
        attempts = failure.attempts_so_far + 1
        entry_id = str(entry["id"])
        reason = repr(failure.error)[:_MAX_ERROR_CHARS]

        async def count(where: Mapping[str, Any]) -> bool:
            return await self._writes.count_attempt(collection, where, entry_id, attempts)

        async def park(where: Mapping[str, Any]) -> bool:
            return await self._writes.park(collection, where, entry, attempts=attempts, reason=reason)

        if attempts < self._park_after:
            await self._writes.serialised(collection, failure.document_id, failure.version, count)
            return
        if not await self._writes.serialised(collection, failure.document_id, failure.version, park):
            return
        self._metrics.record_parked(str(entry.get("type")))
        logger.error(
            "outbox event %s (%s) of %s in %s/%r parked after %d failed publications: %s; the other "
            "events go on; replay with docs/runbooks/alerts.md#gigstackoutboxeventsparked",
            entry_id,
            entry.get("type"),
            self.service_name,
            collection.name,
            failure.document_id,
            attempts,
            reason,
        )

    async def _relay_matching(
        self, collection: AsyncCollection[Any], query: Mapping[str, Any]
    ) -> tuple[int, int]:
        """(events published, documents read) for up to `batch_size` documents matching `query`."""
        projection = {OUTBOX_FIELD: 1, OUTBOX_PENDING_FIELD: 1, OUTBOX_ATTEMPTS_FIELD: 1, VERSION_FIELD: 1}
        cursor = collection.find(query, projection).limit(self._batch_size)
        documents = await cursor.to_list(length=self._batch_size)
        published = 0
        for document in documents:
            if self._broker_away():
                break
            # The pass's full scan also matches a flagged document whose entries just failed, or that a
            # writer held: once a pass.
            if (collection.full_name, repr(document["_id"])) not in self._left_documents:
                published += await self._relay_document(collection, document)
        return published, len(documents)

    def _broker_away(self) -> bool:
        """A publication of this pass failed for a reason other than its entry, and the connection is down:
        the rest of the pass would only wait out one publish deadline per document (the pass was cut short at
        the first failing document before parking existed; an outage still is)."""
        return not self._bus.is_connected and any(
            not isinstance(failure.error, _ENTRY_AT_FAULT) for failure in self._failures
        )

    async def _relay_document(self, collection: AsyncCollection[Any], document: Document) -> int:
        """Publish the document's entries; failures are kept for the end of the pass, not raised."""
        outbox = document.get(OUTBOX_FIELD) or []
        entries = [e for e in outbox if isinstance(e, dict) and "id" in e]
        results = await asyncio.gather(*(self._publish(e) for e in entries), return_exceptions=True)
        confirmed = [entry for entry, result in zip(entries, results, strict=True) if result is None]
        attempts = document.get(OUTBOX_ATTEMPTS_FIELD)
        attempts = attempts if isinstance(attempts, dict) else {}
        failed = [
            _Failure(
                collection,
                document["_id"],
                document.get(VERSION_FIELD),
                _count(attempts.get(str(entry["id"]))),
                entry,
                result,
            )
            for entry, result in zip(entries, results, strict=True)
            if isinstance(result, BaseException)
        ]
        if confirmed:
            self._confirmed_in_pass = True
        settled = True
        if confirmed or not failed:

            async def settle(where: Mapping[str, Any]) -> bool:
                return await self._writes.settle(
                    collection, where, document, confirmed, attempts, drain=not failed
                )

            version = document.get(VERSION_FIELD)
            settled = await self._writes.serialised(collection, document["_id"], version, settle)
        if failed:
            self._failures.extend(failed)
        if failed or not settled:
            self._left_documents.add((collection.full_name, repr(document["_id"])))
        return len(confirmed)

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

    async def parked_count(self) -> int:
        """Parked entries waiting for a replay (read from the few documents flagged as holding some)."""
        total = 0
        for collection in self._collections:
            async for document in collection.find(PARKED_FILTER, {OUTBOX_PARKED_FIELD: 1}):
                parked = document.get(OUTBOX_PARKED_FIELD)
                total += len(parked) if isinstance(parked, list) else 0
        return total


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
