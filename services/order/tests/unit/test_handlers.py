"""The item use cases against in-memory fakes of the service's own ports."""

from __future__ import annotations

import pytest
from order_fakes import FakeUnitOfWork
from order_service.domain.errors import InvalidItem, ItemNotFound
from order_service.service_layer import handlers
from order_service.service_layer.commands import CreateItem


async def test_created_item_is_stored_with_its_event_in_one_commit() -> None:
    uow = FakeUnitOfWork()
    item = await handlers.create_item(CreateItem(owner_id="u1", title="First"), lambda: uow)
    assert await handlers.get_item(item.id, lambda: uow) == item
    assert [event.item_id for event in uow.items.published] == [item.id]
    assert uow.commits == 1


async def test_blank_title_is_refused_and_nothing_is_written() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidItem):
        await handlers.create_item(CreateItem(owner_id="u1", title="  "), lambda: uow)
    assert uow.commits == 0


async def test_unknown_item_is_not_found() -> None:
    with pytest.raises(ItemNotFound):
        await handlers.get_item("missing", FakeUnitOfWork)
