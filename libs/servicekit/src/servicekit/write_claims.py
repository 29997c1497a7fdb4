"""Write claims: how writes of one MongoDB-API document are serialised on FerretDB v1.

FerretDB v1 applies an update as "query, modify in memory, replace by `_id`" in separate backend
transactions, so two concurrent updates of one document can both apply and the later replace undoes the
earlier. The one write it does make atomic is an insert with a unique `_id`. So whoever updates a versioned
document (one with an integer `version`) first inserts the claim `<collection>:<id>:<v + 1>` into
`_write_claims`, where `v` is the version it read, updates filtered on `version: v`, then deletes the claim.
Of two claimants of one key exactly one inserts it; the other backs off.

Two kinds of claimant share the key: aggregate writers (`servicekit.mongo.MongoUnitOfWork`, and batched
writers with the same key scheme such as gig's adapters/batched_writes.py), which write version `v + 1`;
and the outbox relay (`servicekit.events.mongo.MongoOutboxRelay`), which removes published entries and
leaves the version at `v`. While one holds the key the document cannot change under the other; a writer
that read `v` before the relay's write still finds `v` afterwards and writes on top of the relay's result.

A claim left behind by a claimant that died between claim and release expires after its lease; the next
claimant removes it and claims again. Two claimants doing that removal at the same moment can both proceed
(FerretDB's delete is not conditional either): a window only after a crash, and the reason the lease is long.

A module of its own, not part of `servicekit.mongo`: the relay needs it, and `servicekit.mongo` builds on the
relay's module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

VERSION_FIELD = "version"
WRITE_CLAIMS_COLLECTION = "_write_claims"


def claim_key(collection: str, document_id: Any, version: int) -> str:
    """The claim on writing `version` of a document (every claimant must spell it the same way)."""
    return f"{collection}:{document_id}:{version}"


@dataclass(frozen=True)
class HeldClaim:
    """A claim this process inserted; `release()` it once its write is done, whatever the write's outcome."""

    claims: AsyncCollection[Any]
    key: str

    async def release(self) -> None:
        await self.claims.delete_one({"_id": self.key})


class WriteClaims:
    """Takes claims with a lease of `lease_seconds` (it must outlive the writes a claim guards)."""

    def __init__(self, *, lease_seconds: float = 30.0) -> None:
        self.lease = timedelta(seconds=lease_seconds)

    async def take(
        self, collection: AsyncCollection[Any], document_id: Any, version: int
    ) -> HeldClaim | None:
        """Claim writing `version` of the document; None while another claimant holds that claim."""
        claims = collection.database[WRITE_CLAIMS_COLLECTION]
        key = claim_key(collection.name, document_id, version)
        for _ in range(2):
            now = datetime.now(UTC)
            try:
                await claims.insert_one({"_id": key, "expires_at": now + self.lease})
            except DuplicateKeyError:
                held = await claims.find_one({"_id": key})
                expires_at = held.get("expires_at") if held else None
                if isinstance(expires_at, datetime) and expires_at.tzinfo is None:
                    expires_at = expires_at.replace(tzinfo=UTC)
                if held is not None and isinstance(expires_at, datetime) and expires_at > now:
                    return None
                # Left by a claimant that died mid-write (or already released): take it over once.
                await claims.delete_one({"_id": key, "expires_at": held.get("expires_at") if held else None})
                continue
            return HeldClaim(claims, key)
        return None
