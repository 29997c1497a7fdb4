"""`StoredCoverImages`: covers checked against the object store through servicekit.media."""

from __future__ import annotations

from servicekit.media import MediaArea, ObjectStore, verify_upload


class StoredCoverImages:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def ensure_usable(self, key: str, seller_id: str) -> None:
        await verify_upload(self._store, key, owner=seller_id, area=MediaArea.GIGS)
