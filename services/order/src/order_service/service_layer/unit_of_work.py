"""The port the handlers use; adapters.unit_of_work implements it on MongoDB, tests/unit fakes in memory."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from order_service.domain.events import ItemCreated
from order_service.domain.model import Item


class ItemStore(Protocol):
    async def get(self, item_id: str) -> Item | None: ...

    def create(self, item: Item, event: ItemCreated) -> None: ...


class UnitOfWork(Protocol):
    @property
    def items(self) -> ItemStore: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
