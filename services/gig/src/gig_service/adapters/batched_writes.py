"""Many versioned single-document updates in one batched write, under servicekit's write-claim protocol.

servicekit's `MongoUnitOfWork.update_versioned` writes one document: claim `<collection>:<id>:<v+1>`, update
filtered on `{_id, version: v}`, release the claim; four round trips per document. A seller's fan-out wrote
every gig of the seller that way, each retried on conflict, which on FerretDB (a scan per filtered write)
took longer than the consumer's budget for sellers with many gigs. Here the same three steps are done for a
whole batch: one `insert_many` of claims (unordered: a claim someone else holds only drops that document),
one unordered `bulk_write` of the conditional updates whose claims were won, one `delete_many` of them.

Each update stays conditional on the version its document was read at and carries that document's own
outbox events, so the guarantees are servicekit's, document by document: a document that changed since it
was read (or whose claim is held, or was left by a dead writer) is not written; the caller reads it again.
With claims off (MongoDB, DocumentDB: conditional updates are atomic there) only the `bulk_write` remains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError
from servicekit.mongo import VERSION_FIELD
from servicekit.mongo.unit_of_work import WRITE_CLAIMS_COLLECTION

VersionedUpdate = tuple[Any, int, Mapping[str, Any]]  # (document id, version read, update document)


async def update_versioned_batch(
    collection: AsyncCollection[Any],
    items: Sequence[VersionedUpdate],
    *,
    write_claims: bool,
    claim_lease: timedelta,
) -> int:
    """Apply each update where its document is still at the version read; returns how many were applied."""
    if not items:
        return 0
    claims = collection.database[WRITE_CLAIMS_COLLECTION]
    held = list(items)
    held_keys: list[str] = []
    if write_claims:
        keys = [f"{collection.name}:{document_id}:{version + 1}" for document_id, version, _ in items]
        expires_at = datetime.now(UTC) + claim_lease
        lost: set[int] = set()
        try:
            await claims.insert_many([{"_id": key, "expires_at": expires_at} for key in keys], ordered=False)
        except BulkWriteError as error:
            # Duplicate claims: another writer is on those documents (or died there; servicekit's single
            # write takes an expired claim over, and the caller falls back to it for what is left).
            lost = {int(failure["index"]) for failure in error.details.get("writeErrors", [])}
        held = [item for index, item in enumerate(items) if index not in lost]
        held_keys = [key for index, key in enumerate(keys) if index not in lost]
    if not held:
        return 0
    try:
        result = await collection.bulk_write(
            [
                UpdateOne({"_id": document_id, VERSION_FIELD: version}, dict(update))
                for document_id, version, update in held
            ],
            ordered=False,
        )
    finally:
        if held_keys:
            await claims.delete_many({"_id": {"$in": held_keys}})
    return int(result.matched_count)
