"""Many versioned single-document updates in one batched write, under servicekit's write-claim protocol.

servicekit's `MongoUnitOfWork.update_versioned` writes one document: claim `<collection>:<id>:<v+1>`, update
filtered on `{_id, version: v}`, release the claim; four round trips per document. A seller's fan-out wrote
every gig of the seller that way, each retried on conflict, which on FerretDB (a scan per filtered write)
took longer than the consumer's budget for sellers with many gigs. Here the same three steps are done for a
whole batch (in rounds of `BATCH_SIZE`): one `insert_many` of claims (unordered: a claim someone else holds
only drops that document), one `find` of the claimed documents' versions, one unordered `bulk_write` of the
updates of those still at the version read, one `delete_many` of the claims.

Each update stays conditional on the version its document was read at and carries that document's own
outbox events, so the guarantees are servicekit's, document by document: a document that changed since it
was read (or whose claim is held, or was left by a dead writer) is not written; the caller reads it again.
With claims off (MongoDB, DocumentDB: conditional updates are atomic there) only the `bulk_write` remains,
each update filtered on `{_id, version}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError
from servicekit.write_claims import VERSION_FIELD, WRITE_CLAIMS_COLLECTION, claim_key

VersionedUpdate = tuple[Any, int, Mapping[str, Any]]  # (document id, version read, update document)


BATCH_SIZE = 10  # per claim/verify/update round: on FerretDB-SQLite each update costs a write transaction,
# and the round's commands must stay well inside the client's 5 s operation timeout on a loaded machine


async def update_versioned_batch(
    collection: AsyncCollection[Any],
    items: Sequence[VersionedUpdate],
    *,
    write_claims: bool,
    claim_lease: timedelta,
) -> int:
    """Apply each update where its document is still at the version read; returns how many were applied."""
    written = 0
    for first in range(0, len(items), BATCH_SIZE):
        chunk = items[first : first + BATCH_SIZE]
        if write_claims:
            written += await _claimed_batch(collection, chunk, claim_lease)
        else:
            conditional = [({"_id": i, VERSION_FIELD: v}, update) for i, v, update in chunk]
            written += await _bulk_update(collection, conditional)
    return written


async def _claimed_batch(
    collection: AsyncCollection[Any], items: Sequence[VersionedUpdate], claim_lease: timedelta
) -> int:
    claims = collection.database[WRITE_CLAIMS_COLLECTION]
    keys = [claim_key(collection.name, document_id, version + 1) for document_id, version, _ in items]
    expires_at = datetime.now(UTC) + claim_lease
    lost: set[int] = set()
    try:
        await claims.insert_many([{"_id": key, "expires_at": expires_at} for key in keys], ordered=False)
    except BulkWriteError as error:
        # Duplicate claims: another writer is on those documents (or died there; servicekit's single write
        # takes an expired claim over, and the caller falls back to it for what is left).
        lost = {int(failure["index"]) for failure in error.details.get("writeErrors", [])}
    held_keys = [key for index, key in enumerate(keys) if index not in lost]
    if not held_keys:
        return 0
    try:
        held = [item for index, item in enumerate(items) if index not in lost]
        # Read the versions again now that the claims are held: a writer may have written and released
        # `v + 1` between the caller's read and our claim. A document still at `v` cannot change until the
        # claim is released (every writer claims `<its version> + 1` first), so its update can be filtered
        # on `_id` alone: FerretDB on SQLite pushes down an `_id` filter but scans for `{_id, version}`
        # (docs/benchmarks.md, relay2).
        current = await _versions(collection, [item[0] for item in held])
        return await _bulk_update(
            collection,
            [({"_id": i}, u) for i, v, u in held if current.get(i) == v],
        )
    finally:
        await claims.delete_many({"_id": {"$in": held_keys}})


async def _versions(collection: AsyncCollection[Any], ids: Sequence[Any]) -> dict[Any, Any]:
    """The stored version of each of `ids`: one `_id` lookup each, sent concurrently.

    Not one `find({"_id": {"$in": ids}})`: FerretDB v1 pushes down only equality on a scalar, so `$in` made
    PostgreSQL ship the whole collection to FerretDB, which decoded every document to keep ten. That was the
    soak's slowdown (docs/benchmarks.md, "Soak slowdown of the MongoDB-API store"): a seller's fan-out runs
    one such read per round of `BATCH_SIZE`, so its cost grew with the seller's gigs times all gigs. An
    `_id` equality is an index lookup (ADR 0026's twins) whatever the collection's size. This path runs
    with write claims only, i.e. on FerretDB; MongoDB and DocumentDB skip it.
    """
    documents = await asyncio.gather(
        *(collection.find_one({"_id": document_id}, {VERSION_FIELD: 1}) for document_id in ids)
    )
    return {document["_id"]: document.get(VERSION_FIELD) for document in documents if document is not None}


async def _bulk_update(
    collection: AsyncCollection[Any], updates: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]
) -> int:
    if not updates:
        return 0
    result = await collection.bulk_write(
        [UpdateOne(dict(query), dict(update)) for query, update in updates], ordered=False
    )
    return int(result.matched_count)
