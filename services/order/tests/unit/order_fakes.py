"""In-memory fakes of the service's own ports (service_layer.unit_of_work), for unit tests only."""

from __future__ import annotations

from typing import Self

from order_service.domain.events import ItemCreated
from order_service.domain.model import Item


class FakeItemStore:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.staged: list[tuple[Item, ItemCreated]] = []
        self.published: list[ItemCreated] = []

    async def get(self, item_id: str) -> Item | None:
        return self.items.get(item_id)

    def create(self, item: Item, event: ItemCreated) -> None:
        self.staged.append((item, event))


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.items = FakeItemStore()
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.items.staged.clear()

    async def commit(self) -> None:
        for item, event in self.items.staged:
            self.items.items[item.id] = item
            self.items.published.append(event)
        self.items.staged.clear()
        self.commits += 1
