"""One aggregate per document, a `version` field, and a conditional write that reports losing.

`VersionedRepository.save` stages `update_one({"_id": id, "version": v}, {"$set": ..., "version": v + 1})`
with the aggregate's new events pushed onto its `_outbox` (`servicekit.events.mongo`) in the same update;
`MongoUnitOfWork.commit` applies it. If another writer got there first the filter matches nothing and the
commit raises `ConcurrentUpdateError`: nothing of the losing command was written, its events included.

FerretDB v1 needs one more step. It applies an update as "query, modify in memory, replace by `_id`" in two
separate backend transactions (internal/handler/msg_update.go in v1.24; SQLite and PostgreSQL alike), so two
writers can both match `version: v` and the second silently overwrites the first. With `write_claims` on (the
default) a writer first takes the claim `<collection>:<id>:<v+1>` (`servicekit.write_claims`: an insert with
a unique `_id`, the one write FerretDB makes atomic), updates, then releases the claim: of two concurrent
writers of version `v + 1` exactly one takes the claim, and a writer arriving after it is gone finds the
document at a newer version and loses on the filter. The outbox relay takes the same claim before it touches
the document, so its removals cannot undo a write either. MongoDB and DocumentDB apply the conditional update
atomically on their own; turn claims off there to save the two extra round trips.

A claim left behind by a writer that died between claim and update expires after `claim_lease_seconds`
(`servicekit.write_claims` says what that leaves open).

Without multi-document transactions a commit of several aggregates is several independent writes: keep one
aggregate per command (the usual aggregate rule), which is what makes the one-document write the unit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from servicekit.events.envelope import EventEnvelope
from servicekit.events.mongo import OUTBOX_EXCLUDED, stage_events_update, with_staged_events
from servicekit.write_claims import VERSION_FIELD as VERSION_FIELD  # re-exported: servicekit.mongo's name
from servicekit.write_claims import WRITE_CLAIMS_COLLECTION as WRITE_CLAIMS_COLLECTION
from servicekit.write_claims import WriteClaims

Aggregate = TypeVar("Aggregate")
Document = dict[str, Any]


class ConcurrentUpdateError(Exception):
    """Another writer changed or removed the document since it was read; this command wrote nothing.

    Load the aggregate again and rerun the command, or answer 409 with code `conflict`.
    """


class DocumentExistsError(ConcurrentUpdateError):
    """`add` of an aggregate whose `_id` is already stored."""


class MongoUnitOfWork:
    """Collects the writes of one command and applies them on `commit()`; leaving without commit drops them.

    Subclass it to expose the service's repositories, e.g. `self.gigs = GigRepository(self)`.
    """

    def __init__(
        self, database: AsyncDatabase[Any], *, write_claims: bool = True, claim_lease_seconds: float = 30.0
    ) -> None:
        self.database = database
        self._claims = WriteClaims(lease_seconds=claim_lease_seconds) if write_claims else None
        self._pending: list[Callable[[], Awaitable[None]]] = []

    @property
    def write_claims(self) -> bool:
        """Whether versioned updates take a write claim first (needed on FerretDB v1 only)."""
        return self._claims is not None

    async def __aenter__(self) -> Self:
        self._pending = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending = []  # uncommitted writes are dropped: nothing reached the store yet

    def stage(self, write: Callable[[], Awaitable[None]]) -> None:
        self._pending.append(write)

    async def commit(self) -> None:
        pending, self._pending = self._pending, []
        for write in pending:
            await write()

    async def update_versioned(
        self, collection: AsyncCollection[Any], document_id: Any, version: int, update: Mapping[str, Any]
    ) -> None:
        """`update_one` filtered on `_id` and `version`; `ConcurrentUpdateError` when it matches nothing."""
        claim = None
        if self._claims is not None:
            claim = await self._claims.take(collection, document_id, version + 1)
            if claim is None:
                raise ConcurrentUpdateError(f"{collection.name} {document_id!r} is being written")
        try:
            result = await collection.update_one({"_id": document_id, VERSION_FIELD: version}, update)
        finally:
            if claim is not None:
                await claim.release()
        if result.matched_count != 1:
            raise ConcurrentUpdateError(f"{collection.name} {document_id!r} is not at version {version}")


class VersionedRepository(ABC, Generic[Aggregate]):
    """Loads and stages one aggregate type, one document each, tracking the version each was read at.

    Subclasses name the collection and translate between the aggregate and its document fields (everything
    but `_id`, `version` and `_outbox`, which this class owns). The domain object needs no version field.
    """

    collection_name: ClassVar[str]

    def __init__(self, uow: MongoUnitOfWork) -> None:
        self._uow = uow
        self.collection: AsyncCollection[Any] = uow.database[self.collection_name]
        self._versions: dict[Any, int] = {}

    @abstractmethod
    def identity(self, aggregate: Aggregate) -> Any:
        """The aggregate's id, stored as `_id`."""

    @abstractmethod
    def to_document(self, aggregate: Aggregate) -> Document:
        """The aggregate's fields (no `_id`, `version` or `_outbox`)."""

    @abstractmethod
    def from_document(self, document: Mapping[str, Any]) -> Aggregate:
        """Rebuild the aggregate from its stored document."""

    async def get(self, aggregate_id: Any) -> Aggregate | None:
        document = await self.collection.find_one({"_id": aggregate_id}, OUTBOX_EXCLUDED)
        if document is None:
            return None
        self._versions[aggregate_id] = int(document.get(VERSION_FIELD, 0))
        return self.from_document(document)

    def version_of(self, aggregate: Aggregate) -> int | None:
        """The version this repository read (or will write on commit); None for an aggregate it never saw."""
        return self._versions.get(self.identity(aggregate))

    def add(self, aggregate: Aggregate, *events: EventEnvelope) -> None:
        """Stage the insert of a new aggregate (version 1) with `events` in its outbox."""
        aggregate_id = self.identity(aggregate)
        document = {**self.to_document(aggregate), "_id": aggregate_id, VERSION_FIELD: 1}

        async def write() -> None:
            try:
                await self.collection.insert_one(with_staged_events(document, *events))
            except DuplicateKeyError as error:
                raise DocumentExistsError(f"{self.collection_name} {aggregate_id!r} exists") from error
            self._versions[aggregate_id] = 1

        self._uow.stage(write)

    def save(self, aggregate: Aggregate, *events: EventEnvelope) -> None:
        """Stage the conditional update of an aggregate loaded by `get`, with `events` in its outbox."""
        aggregate_id = self.identity(aggregate)
        version = self._versions.get(aggregate_id)
        if version is None:
            raise LookupError(f"{self.collection_name} {aggregate_id!r} was not loaded by this repository")
        fields = {**self.to_document(aggregate), VERSION_FIELD: version + 1}
        update: Document = {"$set": fields}
        if events:
            update = stage_events_update(update, *events)

        async def write() -> None:
            await self._uow.update_versioned(self.collection, aggregate_id, version, update)
            self._versions[aggregate_id] = version + 1

        self._uow.stage(write)
