"""Delivery files: a key the seller names must be an object they uploaded to `deliveries/` (docs/adr/0017).

The object store is checked with servicekit.media's `verify_upload`, as gig does for covers: the key is in
the deliveries area and the seller's own, the object exists, and its stored size and type are within the
area's rule. Refusals are servicekit.media's (MEDIA_ERRORS: 403 not yours, 422 missing or rejected, 503
store unavailable).
"""

from __future__ import annotations

from servicekit.media import MediaArea, ObjectStore, verify_upload


class MediaDeliveryFiles:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def verify(self, key: str, seller_id: str) -> None:
        await verify_upload(self._store, key, owner=seller_id, area=MediaArea.DELIVERIES)
