"""Chat files in the shared media bucket (servicekit.media, docs/adr/0017): the key names an object that was
really uploaded, under the sender's own `chat/<id>/` prefix, within the area's size and type rules."""

from __future__ import annotations

from servicekit.media import MediaArea, ObjectStore, verify_upload


class StoredChatFiles:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def ensure_usable(self, key: str, sender_id: str) -> None:
        await verify_upload(self._store, key, owner=sender_id, area=MediaArea.CHAT)
