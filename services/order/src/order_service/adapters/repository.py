"""Items as documents of the `items` collection, versioned by servicekit's VersionedRepository."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicekit.events import EventEnvelope
from servicekit.mongo import VersionedRepository

from order_service.domain.events import ItemCreated
from order_service.domain.model import Item

ITEMS_COLLECTION = "items"


class ItemRepository(VersionedRepository[Item]):
    collection_name = ITEMS_COLLECTION

    def identity(self, aggregate: Item) -> Any:
        return aggregate.id

    def to_document(self, aggregate: Item) -> dict[str, Any]:
        return {"owner_id": aggregate.owner_id, "title": aggregate.title}

    def from_document(self, document: Mapping[str, Any]) -> Item:
        return Item(id=document["_id"], owner_id=document["owner_id"], title=document["title"])

    def create(self, item: Item, event: ItemCreated) -> None:
        """Stage the new item with its event in the document's outbox (one single-document write)."""
        self.add(item, EventEnvelope.new(type=event.type, producer="order", payload=event.payload()))
