"""Handlers: one per command; each commits once, and its events are staged in the same write."""

from __future__ import annotations

from collections.abc import Callable

from order_service.domain.errors import ItemNotFound
from order_service.domain.events import ItemCreated
from order_service.domain.model import Item
from order_service.service_layer.commands import CreateItem
from order_service.service_layer.unit_of_work import UnitOfWork

UnitOfWorkFactory = Callable[[], UnitOfWork]


async def create_item(command: CreateItem, new_uow: UnitOfWorkFactory) -> Item:
    item = Item(owner_id=command.owner_id, title=command.title)
    async with new_uow() as uow:
        uow.items.create(item, ItemCreated(item_id=item.id, owner_id=item.owner_id, title=item.title))
        await uow.commit()
    return item


async def get_item(item_id: str, new_uow: UnitOfWorkFactory) -> Item:
    async with new_uow() as uow:
        item = await uow.items.get(item_id)
    if item is None:
        raise ItemNotFound()
    return item
